import { badRequest, niahSpecSchema, type NiahSpec } from '@ctxlab/contracts';
import { planNiahCells, resolveNiahSpec } from '@ctxlab/niah';
import { attemptJobId, enqueue, queueOf } from '@ctxlab/queue';
import type { Redis } from 'ioredis';
import type { JobsDeps } from '../deps';
import { createQueuedRun, requestIdempotencyKey } from '../eval-runs';
import { niahEvalJob, type NiahEvalPayload } from './payload';

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

/** The NIAH queue on a connection. */
export const niahQueue = (connection: Redis, prefix?: string) => queueOf(connection, niahEvalJob, prefix);

/**
 * Puts a NIAH eval on the queue. The BullMQ job id is derived from the registry job and its
 * attempt, so enqueueing the same work twice adds it once. Fails fast when Redis is down.
 */
export function enqueueNiahEval(connection: Redis, payload: NiahEvalPayload, opts: { attempt?: number; prefix?: string } = {}) {
  return enqueue(connection, niahEvalJob, payload, { jobId: attemptJobId(payload.jobId, opts.attempt), prefix: opts.prefix });
}
