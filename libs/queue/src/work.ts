import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobCatalog, QUEUES, type JobPayload } from './catalog';
import { QueueUnavailableError, ready } from './connection';
import { defaultJobOptions } from './producers';

/** Retries of a whole job by BullMQ (a crashed worker, an endpoint down at start), with backoff. */
export const JOB_ATTEMPTS = 3;
export const JOB_BACKOFF = { type: 'exponential' as const, delay: 2000 };

const queues = new WeakMap<Redis, Map<string, Queue>>();

export function niahQueue(connection: Redis, prefix?: string): Queue {
  let m = queues.get(connection);
  if (!m) queues.set(connection, (m = new Map()));
  const key = `${prefix ?? ''}|${QUEUES.niahEval}`;
  let q = m.get(key);
  if (!q) {
    q = new Queue(QUEUES.niahEval, { connection, defaultJobOptions: { ...defaultJobOptions, attempts: JOB_ATTEMPTS, backoff: JOB_BACKOFF }, ...(prefix ? { prefix } : {}) });
    m.set(key, q);
  }
  return q;
}

/**
 * Puts a NIAH eval on the queue. The BullMQ job id is derived from the registry job and its
 * attempt, so enqueueing the same work twice adds it once. Fails fast when Redis is down.
 */
export async function enqueueNiahEval(connection: Redis, payload: JobPayload<'niah-eval'>, opts: { attempt?: number; prefix?: string } = {}) {
  const data = jobCatalog['niah-eval'].parse(payload);
  try {
    await ready(connection);
  } catch (e) {
    throw new QueueUnavailableError(e);
  }
  const q = niahQueue(connection, opts.prefix);
  return q.add('niah-eval', data, { jobId: `${data.jobId}-a${opts.attempt ?? 0}` });
}

export function gpuQueue(connection: Redis, prefix?: string): Queue {
  let m = queues.get(connection);
  if (!m) queues.set(connection, (m = new Map()));
  const key = `${prefix ?? ''}|${QUEUES.gpu}`;
  let q = m.get(key);
  if (!q) {
    // GPU work is not retried blindly by the queue: a failed training run is a person's call.
    q = new Queue(QUEUES.gpu, { connection, defaultJobOptions: { ...defaultJobOptions, attempts: 1 }, ...(prefix ? { prefix } : {}) });
    m.set(key, q);
  }
  return q;
}

export async function enqueueGpuJob(connection: Redis, payload: JobPayload<'gpu'>, opts: { attempt?: number; prefix?: string } = {}) {
  const data = jobCatalog.gpu.parse(payload);
  try {
    await ready(connection);
  } catch (e) {
    throw new QueueUnavailableError(e);
  }
  return gpuQueue(connection, opts.prefix).add('gpu', data, { jobId: `${data.jobId}-a${opts.attempt ?? 0}` });
}

/** Cancellation travels on a pub/sub channel so in-flight requests stop at once. */
export const cancelChannel = (prefix?: string) => `${prefix ?? 'bull'}:ctxlab:cancel`;

export async function publishCancel(connection: Redis, jobId: string, prefix?: string) {
  try {
    await ready(connection);
    await connection.publish(cancelChannel(prefix), jobId);
  } catch {
    // The worker also re-reads the job's status from PostgreSQL between cells: cancel still lands.
  }
}
