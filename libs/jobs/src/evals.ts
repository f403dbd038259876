import { badRequest, DomainError, niahSpecSchema, type NiahSpec } from '@ctxlab/contracts';
import { planNiahCells, resolveNiahSpec } from '@ctxlab/niah';
import { enqueueEvalRun, publishCancel } from '@ctxlab/queue';
import { createHash, randomUUID } from 'node:crypto';
import type { JobsDeps } from './deps';
import { queueError, queueNewRun } from './queueing';
import { canCancel, canRetry, canTransition } from './statuses';

export interface StartNiahEvalInput {
  name: string;
  endpointId: string;
  modelId?: string | undefined;
  spec: NiahSpec;
  /** Requests in flight at once against the endpoint. */
  concurrency: number;
  mode?: 'chat' | 'completion-ids' | undefined;
  /** Same key, same job: a double-click or a retried script does not start a second run. */
  requestKey?: string | undefined;
  /** A fresh run even when one of the same spec exists (a requestKey still makes the rerun itself idempotent). */
  rerun?: boolean | undefined;
  requestedBy: string;
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
 * Creates the eval run and its job and puts the job on the queue, all or nothing: if Redis
 * refuses the job, the transaction rolls back and no half-written run is left behind. A request
 * that matches an earlier one returns that run with `existing: true`.
 */
export async function startNiahEval(deps: JobsDeps, input: StartNiahEvalInput) {
  const { repos } = deps;
  const endpoint = await repos.endpoints.get(input.endpointId).catch(() => null);
  if (!endpoint || endpoint.archivedAt) throw badRequest(`endpointId: endpoint ${input.endpointId} does not exist`, 'endpointId');
  const modelId = input.modelId ?? endpoint.modelId ?? undefined;
  const spec = niahSpecSchema.parse(input.spec);
  let cellsTotal: number;
  try {
    cellsTotal = planNiahCells(resolveNiahSpec(spec)).length;
  } catch (e) {
    throw badRequest(`spec: ${(e as Error).message}`, 'spec');
  }
  if (cellsTotal === 0) throw badRequest('spec.grid: the grid has no cells', 'spec.grid');
  if (spec.corpus && !['sotu-en', 'tang-zh'].includes(spec.corpus) && !(await repos.datasets.getByName(spec.corpus))) {
    throw badRequest(`spec.corpus: no shipped corpus or imported dataset is named ${spec.corpus}`, 'spec.corpus');
  }
  const what = { kind: 'niah-eval', endpointId: endpoint.id, modelId: modelId ?? null, spec, concurrency: input.concurrency, mode: input.mode ?? 'chat' };
  const idempotencyKey = requestIdempotencyKey('niah', what, input);

  return createQueuedRun(deps, {
    idempotencyKey,
    job: { kind: 'niah-eval', spec: { ...what, requestedBy: input.requestedBy } },
    run: { name: input.name, kind: 'niah', endpointId: endpoint.id, modelId: modelId ?? null, config: { spec, concurrency: input.concurrency, mode: input.mode ?? 'chat' }, cellsTotal },
  });
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
    job: { kind: 'niah-eval' | 'suite-eval'; spec: Record<string, unknown> };
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
  await deps.repos.evals.cancelOfJob(jobId);
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
