import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobCatalog, QUEUES, type JobPayload, type QueueName } from './catalog';
import { queueReady, ready } from './connection';
import { defaultJobOptions } from './producers';

/** Retries of a whole job by BullMQ (a crashed worker, an endpoint down at start), with backoff. */
export const JOB_ATTEMPTS = 3;
export const JOB_BACKOFF = { type: 'exponential' as const, delay: 2000 };

const queues = new WeakMap<Redis, Map<string, Queue>>();

/** One Queue per connection, prefix and queue name, made on first use and reused. */
function cachedQueue(connection: Redis, name: QueueName, prefix: string | undefined, jobOptions: JobsOptions): Queue {
  let m = queues.get(connection);
  if (!m) queues.set(connection, (m = new Map()));
  const key = `${prefix ?? ''}|${name}`;
  let q = m.get(key);
  if (!q) {
    q = new Queue(name, { connection, defaultJobOptions: { ...defaultJobOptions, ...jobOptions }, ...(prefix ? { prefix } : {}) });
    m.set(key, q);
  }
  return q;
}

export function niahQueue(connection: Redis, prefix?: string): Queue {
  return cachedQueue(connection, QUEUES.niahEval, prefix, { attempts: JOB_ATTEMPTS, backoff: JOB_BACKOFF });
}

export function suiteQueue(connection: Redis, prefix?: string): Queue {
  return cachedQueue(connection, QUEUES.suiteEval, prefix, { attempts: JOB_ATTEMPTS, backoff: JOB_BACKOFF });
}

export function gpuQueue(connection: Redis, prefix?: string): Queue {
  // GPU work is not retried blindly by the queue: a failed training run is a person's call.
  return cachedQueue(connection, QUEUES.gpu, prefix, { attempts: 1 });
}

/**
 * Puts a NIAH eval on the queue. The BullMQ job id is derived from the registry job and its
 * attempt, so enqueueing the same work twice adds it once. Fails fast when Redis is down.
 */
export async function enqueueNiahEval(connection: Redis, payload: JobPayload<'niah-eval'>, opts: { attempt?: number; prefix?: string } = {}) {
  const data = jobCatalog['niah-eval'].parse(payload);
  await queueReady(connection);
  const q = niahQueue(connection, opts.prefix);
  return q.add('niah-eval', data, { jobId: `${data.jobId}-a${opts.attempt ?? 0}` });
}

/** Puts a suite run (RULER, topic retrieval, the capability suites) on the queue: the same idempotent job id as a NIAH eval's. */
export async function enqueueSuiteEval(connection: Redis, payload: JobPayload<'suite-eval'>, opts: { attempt?: number; prefix?: string } = {}) {
  const data = jobCatalog['suite-eval'].parse(payload);
  await queueReady(connection);
  return suiteQueue(connection, opts.prefix).add('suite-eval', data, { jobId: `${data.jobId}-a${opts.attempt ?? 0}` });
}

/**
 * The queue an eval job runs on, by the job's kind (not the run's: endpoint perplexity, a suite run,
 * shares the run kind `perplexity` with the lab's local check): suite runs on the suite queue, NIAH
 * sweeps and local checks on the NIAH queue.
 */
export function evalRunQueue(connection: Redis, jobKind: string, prefix?: string): Queue {
  return jobKind === 'suite-eval' ? suiteQueue(connection, prefix) : niahQueue(connection, prefix);
}
export function enqueueEvalRun(connection: Redis, jobKind: string, payload: JobPayload<'niah-eval'>, opts: { attempt?: number; prefix?: string } = {}) {
  return jobKind === 'suite-eval' ? enqueueSuiteEval(connection, payload, opts) : enqueueNiahEval(connection, payload, opts);
}

export async function enqueueGpuJob(connection: Redis, payload: JobPayload<'gpu'>, opts: { attempt?: number; prefix?: string } = {}) {
  const data = jobCatalog.gpu.parse(payload);
  await queueReady(connection);
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
