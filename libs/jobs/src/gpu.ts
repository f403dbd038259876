import { badRequest, DomainError, type GpuJobStartInput } from '@ctxlab/contracts';
import { parseJobSpec, renderJob } from '@ctxlab/dispatch';
import { enqueueGpuJob, QueueUnavailableError } from '@ctxlab/queue';
import type { JobsDeps } from './deps';
import { fingerprint } from './evals';

/**
 * Queues GPU work (train, lora-extract, lora-merge, serve). The spec is rendered first, so a job
 * that could never run — a serve whose max-model-len cannot fit, a stage that does not exist — is
 * refused before anything starts. The job records the GPUs it holds, which the capacity API sums.
 */
export async function startGpuJob(deps: JobsDeps, input: GpuJobStartInput, requestedBy: string) {
  const spec = parseJobSpec(input.spec);
  const rendered = renderJob(spec);
  for (const id of [input.output.kind === 'model' ? input.output.parentModelId : null, input.output.kind === 'adapter' ? input.output.baseModelId : null]) {
    if (id && !(await deps.repos.db.model.findUnique({ where: { id }, select: { id: true } }))) throw badRequest(`output: model ${id} does not exist`, 'output');
  }
  const what = { spec, executor: input.executor, output: input.output };
  const { job, created } = await deps.repos.jobs.create({
    kind: spec.kind,
    executor: input.executor,
    idempotencyKey: `gpu:${fingerprint(what)}:${input.requestKey ?? 'auto'}`,
    maxAttempts: 1,
    spec: { ...what, requestedBy, gpuType: rendered.resources.gpuType, gpus: rendered.resources.gpus, nodes: rendered.resources.nodes },
  });
  if (!created) return { job, created };
  try {
    await enqueueGpuJob(deps.producer(), { jobId: job.id }, { prefix: deps.queuePrefix });
  } catch (e) {
    await deps.repos.db.job.delete({ where: { id: job.id } });
    if (e instanceof QueueUnavailableError) throw new DomainError('UNAVAILABLE', `${e.message}; nothing was started`);
    throw e;
  }
  return { job, created };
}
