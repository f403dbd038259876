import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import type { ApiDeps } from './deps';
import { appRouter } from './root';
import { createCallerFactory, type Context } from './trpc';

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
    createContext: (): Context => ({ ...deps, actor: null, source: 'http', bearer: req.headers.get('authorization')?.replace(/^Bearer\s+/i, '') ?? null }),
  });
}
