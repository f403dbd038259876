import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobKind } from './catalog';
import { queueReady } from './connection';

export const defaultJobOptions = {
  removeOnComplete: { count: 1000, age: 7 * 24 * 3600 },
  removeOnFail: { count: 5000, age: 30 * 24 * 3600 },
};

/** Retries of a whole job by BullMQ (a crashed worker, an endpoint down at start), with backoff. */
export const JOB_ATTEMPTS = 3;
export const JOB_BACKOFF = { type: 'exponential' as const, delay: 2000 };

const queues = new WeakMap<Redis, Map<string, Queue>>();

/** A kind's Queue, one per connection, prefix and queue name, made on first use and reused. */
export function queueOf(connection: Redis, kind: JobKind<unknown>, prefix?: string): Queue {
  let m = queues.get(connection);
  if (!m) queues.set(connection, (m = new Map()));
  const key = `${prefix ?? ''}|${kind.queue}`;
  let q = m.get(key);
  if (!q) {
    q = new Queue(kind.queue, { connection, defaultJobOptions: { ...defaultJobOptions, ...kind.jobOptions }, ...(prefix ? { prefix } : {}) });
    m.set(key, q);
  }
  return q;
}

/** The BullMQ job id of a registry job's attempt: the same work enqueued twice is added once. */
export const attemptJobId = (jobId: string, attempt = 0) => `${jobId}-a${attempt}`;

/**
 * Puts a job on its kind's queue, its payload parsed first. `jobId` makes the add idempotent. Fails
 * fast (QueueUnavailableError) when Redis is down: a request must not hang on a queue.
 */
export async function enqueue<P>(connection: Redis, kind: JobKind<P>, payload: P, opts: { jobId: string; prefix?: string | undefined }) {
  const data = kind.payload.parse(payload);
  await queueReady(connection);
  return queueOf(connection, kind, opts.prefix).add(kind.name, data, { jobId: opts.jobId });
}

/** Enqueues a job and waits for a worker to finish it: its return value, as the worker gave it. */
export async function enqueueAndWait<P>(
  producer: Redis,
  events: Redis,
  kind: JobKind<P>,
  payload: P,
  opts: { jobId: string; timeoutMs: number; prefix?: string | undefined },
): Promise<unknown> {
  const data = kind.payload.parse(payload);
  await queueReady(producer);
  const prefix = opts.prefix ? { prefix: opts.prefix } : {};
  const queue = new Queue(kind.queue, { connection: producer, defaultJobOptions, ...prefix });
  const qe = new QueueEvents(kind.queue, { connection: events, ...prefix });
  try {
    await qe.waitUntilReady();
    const job = await queue.add(kind.name, data, { jobId: opts.jobId });
    return await job.waitUntilFinished(qe, opts.timeoutMs);
  } finally {
    await qe.close();
    await queue.close();
  }
}
