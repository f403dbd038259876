import { DomainError } from '@ctxlab/contracts';
import { enqueueAndWait, QueueUnavailableError, redisConnection } from '@ctxlab/queue';
import { randomUUID } from 'node:crypto';
import { healthJob, type HealthResult, healthResultSchema } from './payload';

export interface WorkerCheckDeps {
  redisUrl: string;
  queuePrefix?: string | undefined;
}

/** Sends a health job through Redis and waits for a worker to answer it. */
export async function checkWorkers(deps: WorkerCheckDeps, requestedBy: string, timeoutMs = 15_000): Promise<HealthResult> {
  const producer = redisConnection(deps.redisUrl, 'producer');
  const events = redisConnection(deps.redisUrl, 'worker');
  producer.on('error', () => undefined);
  events.on('error', () => undefined);
  const nonce = randomUUID();
  try {
    return healthResultSchema.parse(await enqueueAndWait(producer, events, healthJob, { requestedBy, nonce }, { jobId: `health-${nonce}`, timeoutMs, prefix: deps.queuePrefix }));
  } catch (e) {
    if (e instanceof QueueUnavailableError) throw new DomainError('UNAVAILABLE', e.message);
    if (/timed out|timeout/i.test((e as Error).message)) {
      throw new DomainError('UNAVAILABLE', `no worker answered within ${timeoutMs / 1000} s: is the worker running?`);
    }
    throw e;
  } finally {
    producer.disconnect();
    events.disconnect();
  }
}
