/**
 * What every eval job kind shares: the idempotency key of a start request, the run and its job
 * created and queued all or nothing, the queue of each kind, cancel and retry.
 */
import { DomainError } from '@ctxlab/contracts';
import { attemptJobId, enqueue, type JobKind, publishCancel, QueueUnavailableError } from '@ctxlab/queue';
import type { Redis } from 'ioredis';
import { createHash, randomUUID } from 'node:crypto';
import type { JobsDeps } from './deps';
import { localCheckJob } from './local-check/payload';
import { niahEvalJob } from './niah-eval/payload';
import { canCancel, canRetry, canTransition } from './statuses';
import { suiteEvalJob } from './suite-eval/payload';

/** The registry's eval job kinds and the queue kind each runs on. */
export const EVAL_JOB_KINDS = {
  'niah-eval': niahEvalJob,
  'suite-eval': suiteEvalJob,
  'local-check': localCheckJob,
} as const;
export type EvalJobKind = keyof typeof EVAL_JOB_KINDS;
export type EvalRunPayload = { jobId: string; evalRunId: string };

/**
 * The queue kind of an eval job, by the job's kind (not the run's: endpoint perplexity, a suite run,
 * shares the run kind `perplexity` with the lab's local check).
 */
export function evalJobKind(jobKind: string): JobKind<EvalRunPayload> {
  const kind = EVAL_JOB_KINDS[jobKind as EvalJobKind];
  if (!kind) throw new Error(`job kind ${jobKind} is not an eval job`);
  return kind;
}

/** Puts an eval job's attempt on its kind's queue (idempotent by job and attempt; fails fast when Redis is down). */
export function enqueueEvalRun(connection: Redis, jobKind: string, payload: EvalRunPayload, opts: { attempt?: number | undefined; prefix?: string | undefined } = {}) {
  return enqueue(connection, evalJobKind(jobKind), payload, { jobId: attemptJobId(payload.jobId, opts.attempt), prefix: opts.prefix });
}

/** A queue that cannot be reached is UNAVAILABLE, and nothing was started; anything else as it is. */
export function queueError(e: unknown): never {
  if (e instanceof QueueUnavailableError) throw new DomainError('UNAVAILABLE', `${e.message}; nothing was started`);
  throw e;
}

/** Stable digest of what a run does, for its idempotency key. */
export function fingerprint(value: unknown): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canon) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, canon(x)])) : v;
  return createHash('sha256').update(JSON.stringify(canon(value))).digest('hex').slice(0, 32);
}

/**
 * The idempotency key of a start request: what the run does, plus the caller's request key. The
 * same spec without a key returns the run it started before; `rerun` without a key asks for a
 * fresh one (a key of its own); with a key, the key decides — the same key is the same request.
 */
export function requestIdempotencyKey(kind: string, what: unknown, input: { requestKey?: string | undefined; rerun?: boolean | undefined }): string {
  return `${kind}:${fingerprint(what)}:${input.requestKey ?? (input.rerun ? `rerun-${randomUUID()}` : 'auto')}`;
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

/**
 * The run and its job for an idempotency key: the one an earlier request made (`existing: true`),
 * or both created in one transaction and queued — if Redis refuses the job, the rows are taken
 * back out, so no half-written run is left behind.
 */
export async function createQueuedRun(
  deps: JobsDeps,
  r: {
    idempotencyKey: string;
    job: { kind: EvalJobKind; spec: Record<string, unknown> };
    run: { name: string; kind: string; endpointId: string; modelId: string | null; config: Record<string, unknown>; cellsTotal: number };
  },
) {
  const { repos } = deps;
  const { idempotencyKey } = r;
  const existing = await repos.jobs.byIdempotencyKeyWithRun(idempotencyKey);
  if (existing?.evalRun) return { job: existing, evalRun: existing.evalRun, created: false, existing: true };

  let created;
  try {
    created = await repos.jobs.createWithRun({ kind: r.job.kind, spec: r.job.spec, idempotencyKey }, r.run);
  } catch (e) {
    // Two identical requests raced: the loser returns the winner's run.
    if ((e as { code?: string }).code === 'P2002') {
      const winner = await repos.jobs.byIdempotencyKeyWithRun(idempotencyKey);
      if (winner?.evalRun) return { job: winner, evalRun: winner.evalRun, created: false, existing: true };
    }
    throw e;
  }
  await queueNewRun(deps, created);
  return { ...created, created: true, existing: false };
}

/** Stops a job: status cancelled at once, in-flight requests aborted by the worker, finished cells kept. */
export async function cancelJob(deps: JobsDeps, jobId: string, by: string) {
  const job = await deps.repos.jobs.transition(jobId, 'cancelled', `cancelled by ${by}`, (from, to) => canCancel(from) && canTransition(from, to));
  await deps.repos.evals.cancelOfJob(jobId, by);
  await publishCancel(deps.producer(), jobId, deps.queuePrefix);
  return job;
}

/** Runs a failed or cancelled job again; cells that already succeeded are not redone. */
export async function retryJob(deps: JobsDeps, jobId: string, by: string) {
  const before = await deps.repos.jobs.get(jobId);
  if (!canRetry(before.status)) throw new DomainError('PRECONDITION_FAILED', `job ${jobId} is ${before.status}: only failed or cancelled jobs can be retried`);
  const run = await deps.repos.evals.ofJob(jobId);
  if (!run) throw new DomainError('PRECONDITION_FAILED', `job ${jobId} has no eval run to retry`);
  const job = await deps.repos.jobs.requeueWithRun(jobId, before.status, run.id, `retried by ${by}`);
  try {
    await enqueueEvalRun(deps.producer(), job.kind, { jobId, evalRunId: run.id }, { prefix: deps.queuePrefix, attempt: job.attempts });
  } catch (e) {
    await deps.repos.jobs.transition(jobId, before.status, 'the retry could not be queued (Redis unavailable); nothing was started', () => true);
    await deps.repos.evals.restoreEnded(run.id, before.status === 'cancelled' ? 'cancelled' : 'failed');
    queueError(e);
  }
  return job;
}
