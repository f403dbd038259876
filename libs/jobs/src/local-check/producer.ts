import { badRequest, isLabModel, localCheckSpecSchema, type CheckStartInput } from '@ctxlab/contracts';
import type { JobsDeps } from '../deps';
import { queueNewRun, requestIdempotencyKey } from '../eval-runs';

/**
 * Starts a local check of a lab model — perplexity against context length under a theta rule, or
 * the tokenizer/engine round trips — as an eval run with its job, on the local-check queue (the
 * worker runs it on onnxruntime-node), so cancel, retry and re-queueing after a Redis loss work as
 * for sweeps. All or nothing: if Redis refuses it, the rows are taken back out.
 */
export async function startLocalCheck(deps: JobsDeps, input: CheckStartInput & { requestedBy: string; rerun?: boolean | undefined }) {
  const { repos } = deps;
  const model = await repos.models.get(input.modelId).catch(() => null);
  if (!model) throw badRequest(`modelId: model ${input.modelId} does not exist`, 'modelId');
  if (!isLabModel(model)) {
    throw badRequest(`model ${model.name} is not a lab model (byte-level, vocabulary 259): local checks run ONNX lab models on the worker's CPU; evaluate it through an endpoint instead`, 'modelId');
  }
  if (!model.sourceUri?.startsWith('file:///')) {
    throw badRequest(`model ${model.name} has no local weights (sourceUri ${model.sourceUri ?? 'unset'}): a local check reads a file:///… .onnx or lab model directory`, 'modelId');
  }
  const spec = localCheckSpecSchema.parse(input.spec);
  const cellsTotal = spec.kind === 'perplexity' ? new Set(spec.lengths).size * spec.samples : spec.samples * 3;
  const what = { kind: spec.kind, modelId: model.id, spec };
  const idempotencyKey = requestIdempotencyKey('check', what, input);
  const existing = await repos.jobs.byIdempotencyKeyWithRun(idempotencyKey);
  if (existing?.evalRun) return { job: existing, evalRun: existing.evalRun, created: false, existing: true };
  const created = await repos.jobs.createWithRun(
    { kind: 'local-check', spec: { ...what, requestedBy: input.requestedBy }, idempotencyKey },
    { name: input.name, kind: spec.kind, modelId: model.id, config: { spec }, cellsTotal },
  );
  await queueNewRun(deps, created);
  return { ...created, created: true, existing: false };
}
