import { createDb, repositories, type Repositories } from '@ctxlab/db';
import { checkWorkers, type JobsDeps } from '@ctxlab/jobs';
import { redisConnection } from '@ctxlab/queue';
import type { Redis } from 'ioredis';

export interface ApiDeps {
  repos: Repositories;
  checkWorkers: (requestedBy: string) => ReturnType<typeof checkWorkers>;
  /** What job services need (registry + queue producer). */
  jobs: JobsDeps;
}

const cache = new Map<string, ApiDeps>();

/** Everything procedures need, built once per process from the app's validated settings. */
export function apiDeps(settings: { databaseUrl: string; redisUrl: string; queuePrefix?: string | undefined }): ApiDeps {
  const key = `${settings.databaseUrl}|${settings.redisUrl}|${settings.queuePrefix ?? ''}`;
  let d = cache.get(key);
  if (!d) {
    const repos = repositories(createDb(settings.databaseUrl));
    let producer: Redis | undefined;
    d = {
      repos,
      checkWorkers: (by) => checkWorkers({ redisUrl: settings.redisUrl, queuePrefix: settings.queuePrefix }, by),
      jobs: {
        repos,
        // Created on first use: reads never need Redis.
        producer: () => {
          if (!producer) {
            producer = redisConnection(settings.redisUrl, 'producer');
            producer.on('error', () => undefined);
          }
          return producer;
        },
        queuePrefix: settings.queuePrefix,
      },
    };
    cache.set(key, d);
  }
  return d;
}
