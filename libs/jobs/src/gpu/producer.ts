import { badRequest, isLabModel, type GpuExtractAdapterInput, type GpuJobStartInput, type GpuMergeAdapterInput, type GpuServeModelInput } from '@ctxlab/contracts';
import { modelConfigOf, type ModelRecord } from '@ctxlab/db';
import { parseJobSpec, renderJob } from '@ctxlab/dispatch';
import { s3UrisOf, stagingResolver } from '../artifact-staging';
import { attemptJobId, enqueue } from '@ctxlab/queue';
import type { Redis } from 'ioredis';
import type { JobsDeps } from '../deps';
import { fingerprint, queueError } from '../eval-runs';
import { gpuJob, type GpuPayload } from './payload';
import { estimateTraining, poolOf, resolveTeam, type Requester } from '../scheduling/requests';
import { schedulePass } from '../scheduling/scheduler';

/** Puts GPU work on its queue (idempotent by job and attempt; fails fast when Redis is down). */
export function enqueueGpuJob(connection: Redis, payload: GpuPayload, opts: { attempt?: number; prefix?: string } = {}) {
  return enqueue(connection, gpuJob, payload, { jobId: attemptJobId(payload.jobId, opts.attempt), prefix: opts.prefix });
}

/**
 * Queues GPU work (train, lora-extract, lora-merge, serve). The spec is rendered first, so a job
 * that could never run — a serve whose max-model-len cannot fit, a stage that does not exist — is
 * refused before anything starts. The job records its team, priority, the pool and GPUs it needs
 * (which the capacity API sums) and, for training, the planner's estimate. Work that holds no GPU
 * goes straight to the queue; GPU work waits for the scheduler to admit it (a pass runs at once).
 */
export async function startGpuJob(deps: JobsDeps, input: GpuJobStartInput, requester: Requester | string) {
  const who: Requester = typeof requester === 'string' ? { name: requester } : requester;
  const requestedBy = who.name;
  const spec = parseJobSpec(input.spec);
  const s3 = s3UrisOf(spec);
  // Executors stage s3:// artifacts (the local one on its disk, a pod through its stager; see ./processor): any staged path renders here.
  const rendered = renderJob(spec, s3.length ? { resolveUri: stagingResolver('/staged') } : {});
  for (const id of [input.output.kind === 'model' ? input.output.parentModelId : null, input.output.kind === 'adapter' ? input.output.baseModelId : null]) {
    if (id && !(await deps.repos.models.exists(id))) throw badRequest(`output: model ${id} does not exist`, 'output');
  }
  // What the job will register must be registrable: found out now, not after hours of GPU time.
  if (input.output.kind === 'model' && (await deps.repos.models.getByName(input.output.name))) {
    throw badRequest(`output.name: a model named ${input.output.name} already exists; pick another name for what this job produces`, 'output.name');
  }
  if (input.output.kind === 'adapter' && (await deps.repos.adapters.getByName(input.output.name))) {
    throw badRequest(`output.name: an adapter named ${input.output.name} already exists; pick another name for what this job produces`, 'output.name');
  }
  const pool = poolOf(rendered);
  const teamId = await resolveTeam(deps.repos, input.team, who);
  const estimate = await estimateTraining(deps.repos, spec, pool, input.output.kind === 'model' ? input.output.parentModelId : undefined);
  const what = { spec, executor: input.executor, output: input.output };
  const { job, created } = await deps.repos.jobs.create({
    kind: spec.kind,
    executor: input.executor,
    idempotencyKey: `gpu:${fingerprint(what)}:${input.requestKey ?? 'auto'}`,
    maxAttempts: 1,
    spec: { ...what, requestedBy, gpuType: rendered.resources.gpuType, gpus: rendered.resources.gpus, nodes: rendered.resources.nodes },
    gpu: { teamId, priority: input.priority ?? 'normal', gpuType: pool.gpuType, gpus: pool.gpus, admitted: pool.gpus === 0, ...(estimate ? { estimate } : {}) },
  });
  if (!created) return { job, created };
  if (pool.gpus === 0) {
    try {
      await enqueueGpuJob(deps.producer(), { jobId: job.id }, { prefix: deps.queuePrefix });
    } catch (e) {
      await deps.repos.jobs.discard(job.id);
      queueError(e);
    }
    return { job, created };
  }
  // Admitted now if its GPUs are free; otherwise it waits, and the workers' passes take it from here.
  await schedulePass(deps).catch(() => undefined);
  return { job: await deps.repos.jobs.get(job.id), created };
}

// ---------------------------------------------------------------------------------------------
// From the registry: serve a model, extract an adapter, merge one — the specs come from the
// records (weights by sourceUri, architecture, the source model's RoPE fields), so the portal and
// scripts ask for "serve this model" rather than writing a dispatch spec by hand.
// ---------------------------------------------------------------------------------------------

const PROJECTIONS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

function weightsOf(m: ModelRecord, field: string): string {
  if (!m.sourceUri) throw badRequest(`model ${m.name} has no sourceUri: register where its weights are (file:///…, s3://… or hf://…) first`, field);
  return m.sourceUri;
}

const ARCH_FIELDS = ['numLayers', 'hiddenSize', 'numAttentionHeads', 'numKeyValueHeads', 'headDim', 'intermediateSize', 'vocabSize'] as const;
function sameArchitecture(a: ModelRecord, b: ModelRecord, field: string) {
  const diff = ARCH_FIELDS.filter((k) => a[k] !== b[k]);
  if (diff.length) throw badRequest(`${a.name} and ${b.name} have different architectures (${diff.map((k) => `${k} ${a[k]} vs ${b[k]}`).join(', ')}): a LoRA delta only exists between models of one architecture`, field);
}

/** A port for a local lab server, stable per model so that serving it again reuses it. */
function labPort(modelId: string): number {
  let h = 0;
  for (const c of modelId) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return 18_000 + (h % 1000);
}

export async function serveModel(deps: JobsDeps, input: GpuServeModelInput, requestedBy: Requester | string) {
  const m = await deps.repos.models.get(input.modelId);
  const model = weightsOf(m, 'modelId');
  const engine = input.engine ?? (isLabModel(m) ? 'lab' : 'vllm');
  const servedName = m.name.replace(/[^A-Za-z0-9._/:-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'model';
  const common = { kind: 'serve' as const, model, servedName, modelConfig: modelConfigOf(m) };
  let spec: Record<string, unknown>;
  if (engine === 'lab') {
    spec = {
      // The registry's theta: a bare .onnx carries none, and a directory's config.json agrees with it.
      ...common, engine, ropeTheta: m.ropeTheta, maxModelLen: input.maxModelLen ?? Math.max(8192, m.maxPositionEmbeddings),
      host: input.executor === 'local' ? '127.0.0.1' : '0.0.0.0', port: input.port ?? (input.executor === 'local' ? labPort(m.id) : 8000),
    };
  } else {
    if (!input.gpuType) throw badRequest('serving with vLLM needs gpuType (the planner sizes the KV cache from its memory)', 'gpuType');
    spec = {
      ...common, engine, gpuType: input.gpuType, tensorParallelSize: input.tensorParallelSize ?? 1, maxModelLen: input.maxModelLen ?? m.maxPositionEmbeddings,
      ...(input.gpuMemoryUtilization !== undefined ? { gpuMemoryUtilization: input.gpuMemoryUtilization } : {}),
      ...(input.kvCacheDtype ? { kvCacheDtype: input.kvCacheDtype } : {}),
      ...(input.port ? { port: input.port } : {}),
    };
  }
  return startGpuJob(deps, { spec, executor: input.executor, output: { kind: 'endpoint', name: input.endpointName ?? `${m.name}-serve`, modelId: m.id }, requestKey: input.requestKey, team: input.team, priority: input.priority }, requestedBy);
}

export async function extractAdapter(deps: JobsDeps, input: GpuExtractAdapterInput, requestedBy: Requester | string) {
  const [ft, base] = await Promise.all([deps.repos.models.get(input.finetunedModelId), deps.repos.models.get(input.baseModelId)]);
  if (ft.id === base.id) throw badRequest('the fine-tuned model and the base are the same model: there is no delta to extract', 'baseModelId');
  sameArchitecture(ft, base, 'baseModelId');
  const tool = input.tool ?? (isLabModel(ft) && isLabModel(base) ? 'lab' : 'mergekit');
  const spec = {
    kind: 'lora-extract', tool, finetuned: weightsOf(ft, 'finetunedModelId'), base: weightsOf(base, 'baseModelId'), output: input.output, maxRank: input.maxRank,
    cuda: tool === 'mergekit', ...(input.gpuType ? { gpuType: input.gpuType } : {}),
  };
  return startGpuJob(
    deps,
    { spec, executor: input.executor, output: { kind: 'adapter', name: input.name, baseModelId: base.id, sourceModelId: ft.id, rank: input.maxRank, targetModules: PROJECTIONS }, requestKey: input.requestKey, team: input.team, priority: input.priority },
    requestedBy,
  );
}

export async function mergeAdapter(deps: JobsDeps, input: GpuMergeAdapterInput, requestedBy: Requester | string) {
  const adapter = await deps.repos.adapters.get(input.adapterId);
  if (!adapter.uri) throw badRequest(`adapter ${adapter.name} has no uri: register where its weights are first`, 'adapterId');
  if (!adapter.sourceModelId) throw badRequest(`adapter ${adapter.name} has no source model: its RoPE fields (rope_theta, max_position_embeddings) cannot be known`, 'adapterId');
  const [target, source] = await Promise.all([deps.repos.models.get(input.targetModelId), deps.repos.models.get(adapter.sourceModelId)]);
  sameArchitecture(target, source, 'targetModelId');
  const tool = input.tool ?? (isLabModel(target) ? 'lab' : 'mergekit');
  const spec = {
    kind: 'lora-merge', tool, target: weightsOf(target, 'targetModelId'), lora: adapter.uri, output: input.output,
    ropeTheta: source.ropeTheta, maxPositionEmbeddings: source.maxPositionEmbeddings, ropeScaling: source.ropeScaling ?? null,
    cuda: tool === 'mergekit', ...(input.gpuType ? { gpuType: input.gpuType } : {}),
  };
  const output = { kind: 'model' as const, name: input.name, parentModelId: target.id, otherParentModelId: source.id, adapterId: adapter.id, lineage: 'lora-merge' as const, ropeTheta: source.ropeTheta, maxPositionEmbeddings: source.maxPositionEmbeddings };
  return startGpuJob(deps, { spec, executor: input.executor, output, requestKey: input.requestKey, team: input.team, priority: input.priority }, requestedBy);
}
