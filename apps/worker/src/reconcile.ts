import type { Repositories } from '@ctxlab/db';
import { datasetPrepareJob, EVAL_JOB_KINDS, enqueueDatasetPrepare, enqueueEvalRun, enqueueRecipeRun, evalJobKind, niahEvalJob, recipeRunJob } from '@ctxlab/jobs';
import { attemptJobId, queueOf } from '@ctxlab/queue';
import type { Redis } from 'ioredis';

/**
 * PostgreSQL is the source of truth and Redis only carries work: a Redis restarted without
 * persistence forgets queued jobs. This puts every unfinished registry job whose queue entry is
 * gone back on its kind's queue (its finished cells are kept, so nothing is redone) — unless a
 * worker still holds the job's lease: a job that runs on is left to its worker, whatever Redis forgot.
 */
export async function reconcile(repos: Repositories, connection: Redis, prefix?: string): Promise<string[]> {
  const requeued: string[] = [];
  for (const job of await repos.jobs.unfinished(Object.keys(EVAL_JOB_KINDS) as (keyof typeof EVAL_JOB_KINDS)[])) {
    const run = await repos.evals.ofJob(job.id);
    if (!run) continue;
    const bullId = attemptJobId(job.id, job.attempts);
    // A local check queued before it had a queue of its own still waits on the NIAH queue, and runs there.
    const kinds = job.kind === 'local-check' ? [evalJobKind(job.kind), niahEvalJob] : [evalJobKind(job.kind)];
    const entries = (await Promise.all(kinds.map((k) => queueOf(connection, k, prefix).getJob(bullId)))).filter((j) => j !== undefined);
    const states = await Promise.all(entries.map((j) => j.getState()));
    // Waiting, active or delayed: the queue has it. Missing, or finished while PostgreSQL says it is
    // not: the queue lost it (a Redis restart without persistence, a crash between the two writes).
    if (states.some((s) => !['unknown', 'completed', 'failed'].includes(s))) continue;
    for (const j of entries) await j.remove().catch(() => undefined);
    await enqueueEvalRun(connection, job.kind, { jobId: job.id, evalRunId: run.id }, { attempt: job.attempts, ...(prefix ? { prefix } : {}) });
    await repos.jobs.note(job.id, 'requeued', 'put back on the queue: PostgreSQL says it is unfinished and the queue had lost it');
    requeued.push(job.id);
  }
  // Jobs without an eval run the same way: a recipe run's driving job, a dataset preparation (it
  // starts over from its stored spec; nothing is registered until the end).
  const jobOnly = [
    { kind: 'recipe-run', job: recipeRunJob, enqueue: enqueueRecipeRun, what: 'the recipe run' },
    { kind: 'dataset-prepare', job: datasetPrepareJob, enqueue: enqueueDatasetPrepare, what: 'the preparation' },
  ] as const;
  for (const k of jobOnly) {
    for (const job of await repos.jobs.unfinished([k.kind])) {
      const entry = await queueOf(connection, k.job, prefix).getJob(attemptJobId(job.id, job.attempts));
      const state = entry ? await entry.getState() : 'unknown';
      if (!['unknown', 'completed', 'failed'].includes(state)) continue;
      await entry?.remove().catch(() => undefined);
      await k.enqueue(connection, { jobId: job.id }, { attempt: job.attempts, prefix });
      await repos.jobs.note(job.id, 'requeued', `put back on the queue: PostgreSQL says ${k.what} is unfinished and the queue had lost it`);
      requeued.push(job.id);
    }
  }
  return requeued;
}
