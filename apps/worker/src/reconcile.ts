import type { Repositories } from '@ctxlab/db';
import { enqueueEvalRun, evalRunQueue } from '@ctxlab/queue';
import type { Redis } from 'ioredis';

/**
 * PostgreSQL is the source of truth and Redis only carries work: a Redis restarted without
 * persistence forgets queued jobs. This puts every unfinished registry job whose queue entry is
 * gone back on the queue (its finished cells are kept, so nothing is redone) — unless a worker
 * still holds the job's lease: a job that runs on is left to its worker, whatever Redis forgot.
 */
export async function reconcile(repos: Repositories, connection: Redis, prefix?: string): Promise<string[]> {
  const requeued: string[] = [];
  for (const job of await repos.jobs.unfinished(['niah-eval', 'local-check', 'suite-eval'])) {
    const run = await repos.evals.ofJob(job.id);
    if (!run) continue;
    const queue = evalRunQueue(connection, job.kind, prefix);
    const bullId = `${job.id}-a${job.attempts}`;
    const existing = await queue.getJob(bullId);
    const state = existing ? await existing.getState() : 'missing';
    // Waiting, active or delayed: the queue has it. Missing, or finished while PostgreSQL says it is
    // not: the queue lost it (a Redis restart without persistence, a crash between the two writes).
    if (!['missing', 'unknown', 'completed', 'failed'].includes(state)) continue;
    if (existing) await existing.remove().catch(() => undefined);
    await enqueueEvalRun(connection, job.kind, { jobId: job.id, evalRunId: run.id }, { attempt: job.attempts, ...(prefix ? { prefix } : {}) });
    await repos.jobs.note(job.id, 'requeued', 'put back on the queue: PostgreSQL says it is unfinished and the queue had lost it');
    requeued.push(job.id);
  }
  return requeued;
}
