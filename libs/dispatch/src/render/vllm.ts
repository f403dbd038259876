import { findGpu, LongctxError, planServing, type ServingInput, type ServingPlan } from '@ctxlab/longctx';
import { DispatchError } from '../errors';
import type { ServeSpec } from '../specs';
import { defaultUriResolver } from '../uri';
import { num } from './format';
import type { RenderOptions, RenderedJob } from './types';

export const HEALTH_PATH = '/health';

const fmt = (n: number) => n.toLocaleString('en-US');

/** The planner input for a serve spec (GPU memory from the catalog unless the spec gives it). */
export function servingInput(spec: ServeSpec, modelName: string): ServingInput {
  if (!spec.gpuType) throw new DispatchError('INVALID_SPEC', 'vLLM serving needs gpuType: the planner sizes the KV cache from the GPU\'s memory', 'gpuType');
  const gpuMemoryGiB = spec.gpuMemoryGiB ?? findGpu(spec.gpuType)?.memoryGiB;
  if (gpuMemoryGiB === undefined) {
    throw new DispatchError('INVALID_SPEC', `GPU type "${spec.gpuType}" is not in the GPU catalog; give gpuMemoryGiB`, 'gpuMemoryGiB');
  }
  return {
    model: spec.modelConfig,
    modelName,
    gpuMemoryGiB,
    tensorParallelSize: spec.tensorParallelSize,
    gpuMemoryUtilization: spec.gpuMemoryUtilization,
    maxModelLen: spec.maxModelLen,
    kvCacheDtype: spec.kvCacheDtype,
    ...(spec.maxNumBatchedTokens !== undefined ? { maxNumBatchedTokens: spec.maxNumBatchedTokens } : {}),
    ...(spec.maxNumSeqs !== undefined ? { maxNumSeqs: spec.maxNumSeqs } : {}),
    ...(spec.enableChunkedPrefill !== undefined ? { enableChunkedPrefill: spec.enableChunkedPrefill } : {}),
    ...(spec.ropeTheta !== undefined ? { ropeTheta: spec.ropeTheta } : {}),
    enforceEager: spec.enforceEager,
    trustRemoteCode: spec.trustRemoteCode,
    env: spec.env,
  };
}

/**
 * The planner's flags with --gpu-memory-utilization moved next to --tensor-parallel-size, the order
 * launch lines are published in (360Zhinao: `--tensor-parallel-size 8 --gpu-memory-utilization 0.6
 * --max-model-len 365000 …`), so a rendered line can be compared with a published one token by token.
 */
function publishedOrder(flags: string[]): string[] {
  const i = flags.indexOf('--gpu-memory-utilization');
  const tp = flags.indexOf('--tensor-parallel-size');
  if (i < 0 || tp < 0 || i === tp + 2) return flags;
  const pair = flags.slice(i, i + 2);
  const rest = [...flags.slice(0, i), ...flags.slice(i + 2)];
  const at = rest.indexOf('--tensor-parallel-size') + 2;
  return [...rest.slice(0, at), ...pair, ...rest.slice(at)];
}

/** planServing for a serve spec; planner input errors become INVALID_SPEC on the same field. */
export function planServe(spec: ServeSpec, modelName: string): ServingPlan {
  try {
    return planServing(servingInput(spec, modelName));
  } catch (e) {
    if (e instanceof LongctxError) throw new DispatchError('INVALID_SPEC', e.message, e.field);
    throw e;
  }
}

/**
 * vLLM's OpenAI-compatible server, from the serving plan. Refuses (WONT_FIT) when one sequence of
 * max-model-len tokens does not fit the KV cache — vLLM would fail at start-up after loading the
 * weights — and names the longest length that fits and the TP size that would fit this one.
 */
export function renderServe(spec: ServeSpec, opts: RenderOptions = {}): RenderedJob {
  const resolve = opts.resolveUri ?? defaultUriResolver;
  const model = resolve(spec.model, 'model');
  const plan = planServe(spec, model);
  if (!plan.fits) {
    const gpu = `${spec.tensorParallelSize}× ${spec.gpuType ?? 'GPU'} at gpu-memory-utilization ${spec.gpuMemoryUtilization}`;
    const longest = plan.maxModelLenThatFits > 0 ? `the longest max-model-len that fits on ${gpu} is ${fmt(plan.maxModelLenThatFits)}` : `no max-model-len fits on ${gpu}`;
    const tp = plan.smallestFittingTensorParallelSize;
    const alt = tp !== null && tp !== spec.tensorParallelSize ? `; tensor-parallel-size ${tp} would fit ${fmt(spec.maxModelLen)}` : '';
    throw new DispatchError('WONT_FIT', `max-model-len ${fmt(spec.maxModelLen)} will not fit: ${plan.problems[0] ?? 'KV cache too small'}. ${longest}${alt}`, 'maxModelLen');
  }
  if (plan.problems.length > 0) throw new DispatchError('INVALID_SPEC', plan.problems.join('; '), 'maxNumBatchedTokens');

  const [, , , ...planned] = plan.command.args; // drop `vllm serve MODEL`
  const flags = publishedOrder(planned);
  const head = spec.entrypoint === 'vllm-serve' ? ['vllm', 'serve', model] : [opts.python ?? 'python3', '-m', 'vllm.entrypoints.openai.api_server', '--model', model];
  const argv = [...head, ...flags, '--served-model-name', spec.servedName, '--host', spec.host, '--port', num(spec.port)];
  return {
    kind: 'serve',
    argv,
    env: plan.command.env,
    files: [],
    steps: [argv],
    resources: { gpus: spec.tensorParallelSize, gpuType: spec.gpuType ?? null, nodes: 1, gpusPerNode: spec.tensorParallelSize },
    outputs: [],
    service: { port: spec.port, healthPath: HEALTH_PATH, servedName: spec.servedName },
    tool: { id: 'vllm', name: 'vLLM' },
  };
}
