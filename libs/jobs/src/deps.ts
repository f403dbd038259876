import type { Repositories } from '@ctxlab/db';
import type { Redis } from 'ioredis';

/** What job services need: the registry, and a producer connection to Redis. */
export interface JobsDeps {
  repos: Repositories;
  producer: () => Redis;
  queuePrefix?: string | undefined;
}
