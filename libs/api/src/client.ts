/** The typed client for scripts and the CLI: `createClient(url).models.list.query({})`. */
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import superjson from 'superjson';
import type { AppRouter } from './root';

export type { AppRouter };

export function createClient(baseUrl: string, opts: { token?: string | undefined } = {}) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${baseUrl.replace(/\/$/, '')}/api/trpc`,
        transformer: superjson,
        headers: () => (opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      }),
    ],
  });
}
