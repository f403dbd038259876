import { posix } from 'node:path';
import { DispatchError } from '../errors';
import type { LoraExtractSpec, LoraMergeSpec, ServeSpec, TrainSpec } from '../specs';
import { defaultUriResolver } from '../uri';
import { num } from './format';
import type { RenderOptions, RenderedJob } from './types';

/**
 * The lab model's tools (tools/lab-model): the same job kinds as for Llama-3 — a training stage,
 * SVD LoRA extraction, merge with the RoPE config patch, an OpenAI-compatible server — for a
 * byte-level model small enough to run all of them on a laptop's CPU. Lab models are directories
 * (model.onnx, model.pt, config.json); a bare lab .onnx (e.g. the shipped stage 1) is accepted as input.
 */

export const DEFAULT_LAB_MODEL_DIR = '/opt/ctxlab/lab-model';
/** How the lab model server is started when RenderOptions.labServer is not given (ctxlab's job image). */
export const DEFAULT_LAB_SERVER = ['ctxlab-model-server'];
export const LAB_HEALTH_PATH = '/health';

const script = (opts: RenderOptions, name: string) => posix.join(opts.labModelDir ?? DEFAULT_LAB_MODEL_DIR, name);
const python = (opts: RenderOptions) => opts.python ?? 'python3';

/**
 * `train.py` continued from `spec.model` at the stage's length and theta: the lab model's form of a
 * context-extension stage. The batch is `batchSize` sequences of `seqLength` bytes per step
 * (gradient accumulation multiplies it); output is a lab model directory whose config.json carries
 * the stage's theta and length.
 */
export function renderLabTrain(spec: TrainSpec, opts: RenderOptions = {}): RenderedJob {
  const resolve = opts.resolveUri ?? defaultUriResolver;
  const { stage } = spec;
  const argv = [
    python(opts), script(opts, 'train.py'),
    '--stage', '2',
    '--init', resolve(spec.model, 'model'),
    '--theta', num(stage.ropeTheta),
    '--seq-len', num(stage.seqLength),
    '--lengths', `${stage.seqLength}:1`,
    '--steps', num(stage.steps),
    '--lr', num(stage.learningRate),
    '--batch-tokens', num(stage.seqLength * stage.batchSize * stage.gradientAccumulation),
    '--seed', num(spec.seed),
    '--device', spec.device,
    '--threads', '1',
    '--eval-every', '0',
    '--out', resolve(spec.output, 'output'),
  ];
  const gpus = spec.device === 'cuda' ? 1 : 0;
  return {
    kind: 'train',
    argv,
    env: { PYTHONUNBUFFERED: '1' },
    files: [],
    steps: [argv],
    resources: { gpus, gpuType: gpus ? stage.gpuType : null, nodes: 1, gpusPerNode: gpus },
    outputs: [spec.output],
    tool: { id: 'lab-trainer', name: 'ctxlab lab trainer' },
  };
}

const CPU_ONLY = { gpus: 0, gpuType: null, nodes: 1, gpusPerNode: 0 };

/**
 * `lora.py extract|merge` with its flags (each followed by its value, in order), writing `output`.
 * lora.py runs on the CPU: a lab model's matrices are 128–384 wide.
 */
function loraJob(kind: 'lora-extract' | 'lora-merge', opts: RenderOptions, flags: Record<string, string>, output: string): RenderedJob {
  const argv = [python(opts), script(opts, 'lora.py'), kind === 'lora-extract' ? 'extract' : 'merge', ...Object.entries(flags).flat()];
  return { kind, argv, env: { PYTHONUNBUFFERED: '1' }, files: [], steps: [argv], resources: CPU_ONLY, outputs: [output], tool: { id: 'lab-lora', name: 'ctxlab lab LoRA' } };
}

/** `lora.py extract`: truncated SVD of each target's weight delta, PEFT layout. */
export function renderLabExtract(spec: LoraExtractSpec, opts: RenderOptions = {}): RenderedJob {
  const resolve = opts.resolveUri ?? defaultUriResolver;
  if (spec.embedLora || spec.saveModules.length > 0) {
    throw new DispatchError('INVALID_SPEC', 'the lab extractor always saves embeddings and norms that differ at full rank; embedLora and saveModules are mergekit options', spec.embedLora ? 'embedLora' : 'saveModules');
  }
  const flags = {
    '--model': resolve(spec.finetuned, 'finetuned'),
    '--base': resolve(spec.base, 'base'),
    '--out': resolve(spec.output, 'output'),
    '--max-rank': num(spec.maxRank),
  };
  return loraJob('lora-extract', opts, flags, spec.output);
}

/** `lora.py merge`: W + B·A into the target, then the source model's rope_theta and max_position_embeddings written into config.json. */
export function renderLabMerge(spec: LoraMergeSpec, opts: RenderOptions = {}): RenderedJob {
  const resolve = opts.resolveUri ?? defaultUriResolver;
  if (spec.ropeScaling) throw new DispatchError('INVALID_SPEC', 'lab models use plain RoPE: ropeScaling must be null', 'ropeScaling');
  const flags = {
    '--target': resolve(spec.target, 'target'),
    '--lora': resolve(spec.lora, 'lora'),
    '--out': resolve(spec.output, 'output'),
    '--rope-theta': num(spec.ropeTheta),
    '--max-position-embeddings': num(spec.maxPositionEmbeddings),
  };
  return loraJob('lora-merge', opts, flags, spec.output);
}

/**
 * ctxlab's onnxruntime model server (apps/model-server) for one lab model: the same OpenAI routes
 * and `/health` as vLLM, RoPE tables from `ropeTheta` (or the model directory's config.json).
 */
export function renderLabServe(spec: ServeSpec, opts: RenderOptions = {}): RenderedJob {
  const resolve = opts.resolveUri ?? defaultUriResolver;
  const vocab = spec.modelConfig.vocabSize;
  if (vocab !== 259) throw new DispatchError('INVALID_SPEC', `the lab server serves byte-level lab models (vocabulary 259); this model's is ${vocab.toLocaleString('en-US')}: use engine "vllm"`, 'engine');
  const argv = [...(opts.labServer ?? DEFAULT_LAB_SERVER)];
  const env: Record<string, string> = {
    ...spec.env,
    MODEL_SERVER_MODEL: resolve(spec.model, 'model'),
    MODEL_SERVER_MODEL_NAME: spec.servedName,
    MODEL_SERVER_MAX_MODEL_LEN: num(spec.maxModelLen),
    MODEL_SERVER_HOST: spec.host,
    MODEL_SERVER_PORT: num(spec.port),
    ...(spec.ropeTheta !== undefined ? { MODEL_SERVER_THETA: num(spec.ropeTheta) } : {}),
  };
  return {
    kind: 'serve',
    argv,
    env,
    files: [],
    steps: [argv],
    resources: CPU_ONLY,
    outputs: [],
    service: { port: spec.port, healthPath: LAB_HEALTH_PATH, servedName: spec.servedName },
    tool: { id: 'lab-server', name: 'ctxlab model server' },
  };
}
