import { createDb, repositories, type Repositories } from '@ctxlab/db';
import { checkWorkers } from '@ctxlab/jobs';

export interface ApiDeps {
  repos: Repositories;
  checkWorkers: (requestedBy: string) => ReturnType<typeof checkWorkers>;
}

const cache = new Map<string, ApiDeps>();

/** Everything procedures need, built once per process from the app's validated settings. */
export function apiDeps(settings: { databaseUrl: string; redisUrl: string; queuePrefix?: string | undefined }): ApiDeps {
  const key = `${settings.databaseUrl}|${settings.redisUrl}|${settings.queuePrefix ?? ''}`;
  let d = cache.get(key);
  if (!d) {
    d = {
      repos: repositories(createDb(settings.databaseUrl)),
      checkWorkers: (by) => checkWorkers({ redisUrl: settings.redisUrl, queuePrefix: settings.queuePrefix }, by),
    };
    cache.set(key, d);
  }
  return d;
}
