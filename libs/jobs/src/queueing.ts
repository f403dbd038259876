/** Putting newly created registry work on the queue, all or nothing. */
import { DomainError } from '@ctxlab/contracts';
import { enqueueEvalRun, QueueUnavailableError } from '@ctxlab/queue';
import type { JobsDeps } from './deps';

/** A queue that cannot be reached is UNAVAILABLE, and nothing was started; anything else as it is. */
export function queueError(e: unknown): never {
  if (e instanceof QueueUnavailableError) throw new DomainError('UNAVAILABLE', `${e.message}; nothing was started`);
  throw e;
}

/**
 * Queues the job of a run just committed (a worker never sees a job the database does not have
 * yet). If the queue refuses it, nothing was started: the rows are taken back out, so no run is
 * left that no worker will ever run.
 */
export async function queueNewRun(deps: JobsDeps, created: { job: { id: string; kind: string }; evalRun: { id: string } }): Promise<void> {
  try {
    await enqueueEvalRun(deps.producer(), created.job.kind, { jobId: created.job.id, evalRunId: created.evalRun.id }, { prefix: deps.queuePrefix });
  } catch (e) {
    await deps.repos.jobs.discardWithRun(created.job.id, created.evalRun.id);
    queueError(e);
  }
}
