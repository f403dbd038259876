/**
 * Runs once as the portal's server starts (Next.js's instrumentation hook), before it handles a
 * request: see src/server/peer.ts for why the portal records each request's peer address.
 */
export async function register() {
  // Next also loads this file for its edge runtime, which has no sockets to read.
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  (await import('./src/server/peer')).recordPeers();
  // Tokenizers, word lists and the shipped corpora load once, now, rather than stalling the first
  // request that needs them. A failure here is not fatal: the request that needs the missing piece
  // answers with what is missing.
  try {
    (await import('@ctxlab/jobs')).warmSuiteResources();
  } catch (e) {
    console.error(`[portal] could not preload eval resources: ${(e as Error).message}`);
  }
}
