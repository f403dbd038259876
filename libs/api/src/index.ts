import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import type { ApiDeps } from './deps';
import { appRouter } from './root';
import { createCallerFactory, type Context } from './trpc';
import { resolveApiToken, resolveSession, sessionFromCookie } from './auth/service';

export { appRouter, type AppRouter } from './root';
export type { Context, Actor } from './trpc';
export { apiDeps, type ApiDeps } from './deps';

export const createCaller = createCallerFactory(appRouter);

/** The whole HTTP surface: a fetch-style handler any server (Next's route, node:http) can mount. */
export function handleTrpcRequest(req: Request, deps: ApiDeps, endpoint = '/api/trpc') {
  return fetchRequestHandler({
    endpoint,
    req,
    router: appRouter,
    createContext: async (): Promise<Context> => {
      const bearer = req.headers.get('authorization')?.replace(/^Bearer\s+/i, '') ?? null;
      const { actor, problem } = await resolveActor(deps, { bearer, cookie: req.headers.get('cookie') });
      return { ...deps, actor, source: 'http', bearer, credentialProblem: problem };
    },
  });
}

/**
 * Who an HTTP request is: an API token (Authorization: Bearer ctx_tok_…) or a portal session
 * (the ctxlab_session cookie). A credential that does not resolve says why, for the 401's message.
 */
export async function resolveActor(deps: ApiDeps, creds: { bearer?: string | null; cookie?: string | null }): Promise<{ actor: Context['actor']; problem: string | null }> {
  if (creds.bearer?.startsWith('ctx_tok_')) {
    const a = await resolveApiToken(deps.repos, creds.bearer);
    return a ? { actor: a, problem: null } : { actor: null, problem: 'the API token is not valid: unknown, revoked or expired' };
  }
  const session = sessionFromCookie(creds.cookie);
  if (session) {
    const a = await resolveSession(deps.repos, session);
    return a ? { actor: a, problem: null } : { actor: null, problem: 'the session has ended: sign in again' };
  }
  return { actor: null, problem: null };
}

export * from './auth/service';
export { clientAddress, parseTrustedProxies, type TrustedProxies } from './auth/client-address';
