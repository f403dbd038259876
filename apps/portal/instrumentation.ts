/**
 * Runs once as the portal's server starts (Next.js's instrumentation hook), before it handles a
 * request: see src/server/peer.ts for why the portal records each request's peer address.
 */
export async function register() {
  // Next also loads this file for its edge runtime, which has no sockets to read.
  if (process.env.NEXT_RUNTIME === 'nodejs') (await import('./src/server/peer')).recordPeers();
}
