import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobCatalog, QUEUES, healthResultSchema, type HealthResult, type JobPayload } from './catalog';
import { queueReady } from './connection';

export const defaultJobOptions = {
  removeOnComplete: { count: 1000, age: 7 * 24 * 3600 },
  removeOnFail: { count: 5000, age: 30 * 24 * 3600 },
};

export function healthQueue(connection: Redis, prefix?: string) {
  return new Queue(QUEUES.health, { connection, defaultJobOptions: defaultJobOptions, ...(prefix ? { prefix } : {}) });
}

/** Enqueues a health check and waits for a worker to answer it. */
export async function runHealthCheck(
  producer: Redis,
  events: Redis,
  payload: JobPayload<'health'>,
  opts: { timeoutMs?: number; prefix?: string } = {},
): Promise<HealthResult> {
  const data = jobCatalog.health.parse(payload);
  await queueReady(producer);
  const queue = healthQueue(producer, opts.prefix);
  const qe = new QueueEvents(QUEUES.health, { connection: events, ...(opts.prefix ? { prefix: opts.prefix } : {}) });
  try {
    await qe.waitUntilReady();
    const job = await queue.add('health', data, { jobId: `health-${data.nonce}` });
    const result = await job.waitUntilFinished(qe, opts.timeoutMs ?? 15_000);
    return healthResultSchema.parse(result);
  } finally {
    await qe.close();
    await queue.close();
  }
}
