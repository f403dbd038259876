import { jobCatalog, type HealthResult } from '@ctxlab/queue';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';

/** Proves the worker is alive and reaches Redis: answers with its name and a Redis round trip. */
export function healthProcessor(workerName: string, redis: Redis) {
  return async (job: Job): Promise<HealthResult> => {
    jobCatalog.health.parse(job.data);
    const t0 = performance.now();
    await redis.ping();
    return { worker: workerName, pid: process.pid, redisRoundTripMs: performance.now() - t0, checkedAt: new Date().toISOString() };
  };
}
