import { LongctxError, resolveTargetModules } from '@ctxlab/longctx';
import { DispatchError } from '../errors';
import type { TrainSpec } from '../specs';
import { defaultUriResolver, type UriResolver } from '../uri';
import { num, toYaml, type YamlValue } from './format';
import { MASTER_ADDR_REF, NODE_RANK_REF, type RenderOptions, type RenderedJob } from './types';
import { renderLabTrain } from './lab';

export const ACCELERATE_CONFIG_FILE = 'accelerate.yaml';
export const DEEPSPEED_CONFIG_FILE = 'deepspeed_zero3.json';

function layout(spec: TrainSpec): { nodes: number; gpusPerNode: number } {
  const gpus = spec.stage.gpus;
  if (gpus <= spec.gpusPerNode) return { nodes: 1, gpusPerNode: gpus };
  if (gpus % spec.gpusPerNode !== 0) {
    throw new DispatchError('INVALID_SPEC', `${gpus} GPUs do not fill whole machines of ${spec.gpusPerNode} (gpusPerNode)`, 'stage.gpus');
  }
  return { nodes: gpus / spec.gpusPerNode, gpusPerNode: spec.gpusPerNode };
}

/** What a GPU trainer's rendering starts from: the URI resolver, the rendezvous port and the machines the stage spans. */
function gpuLaunch(spec: TrainSpec, opts: RenderOptions): { resolve: UriResolver; masterPort: number; nodes: number; gpusPerNode: number } {
  return { resolve: opts.resolveUri ?? defaultUriResolver, masterPort: opts.masterPort ?? 29500, ...layout(spec) };
}

/** A trainer's checkout: the option, or where the job image has it, without a trailing slash. */
const installDir = (dir: string | undefined, imageDir: string) => (dir ?? imageDir).replace(/\/+$/, '');

/** A training stage on the stage's GPUs, `gpusPerNode` on each of `nodes` machines, writing spec.output. */
function gpuTrainJob(spec: TrainSpec, argv: string[], job: Pick<RenderedJob, 'env' | 'files' | 'tool'>, nodes: number, gpusPerNode: number): RenderedJob {
  const { gpus, gpuType } = spec.stage;
  return { kind: 'train', argv, env: job.env, files: job.files, steps: [argv], resources: { gpus, gpuType, nodes, gpusPerNode }, outputs: [spec.output], tool: job.tool };
}

/**
 * DeepSpeed ZeRO-3 config: EasyContext's accelerate_configs/zero3_offload.json, with one change.
 * That file pins a WarmupLR scheduler at 2e-5 (warmup_min_lr = warmup_max_lr = 2e-5), and with a
 * scheduler in the DeepSpeed config, accelerate hands scheduling to DeepSpeed — so --learning-rate
 * would set the optimizer's initial lr and then be overridden at the first step. Writing the
 * stage's learning rate into both bounds keeps the flag and the run in agreement.
 */
export function deepSpeedZero3Config(learningRate: number, offload: boolean): Record<string, unknown> {
  const device = offload ? { offload_optimizer: { device: 'cpu', pin_memory: true }, offload_param: { device: 'cpu', pin_memory: true } } : {};
  return {
    bf16: { enabled: 'auto' },
    fp16: { enabled: 'auto' },
    scheduler: {
      type: 'WarmupLR',
      params: { warmup_min_lr: learningRate, warmup_max_lr: learningRate, warmup_num_steps: 0, warmup_type: 'linear' },
    },
    optimizer: { type: 'AdamW', params: { lr: 'auto', betas: [0.9, 0.95], eps: 1e-8, weight_decay: 0.1 } },
    zero_optimization: {
      stage: 3,
      ...device,
      overlap_comm: true,
      contiguous_gradients: true,
      sub_group_size: 1e9,
      reduce_bucket_size: 'auto',
      stage3_prefetch_bucket_size: 'auto',
      stage3_param_persistence_threshold: 'auto',
      stage3_max_live_parameters: 1e9,
      stage3_max_reuse_distance: 1e9,
      stage3_gather_16bit_weights_on_model_save: true,
    },
    gradient_accumulation_steps: 'auto',
    gradient_clipping: 'auto',
    steps_per_print: 2000,
    train_batch_size: 'auto',
    // Under ring attention every rank reads the same batch outside accelerate's dataloader, so the
    // micro batch cannot be inferred ("auto"); EasyContext pins it to 1 and so do we.
    train_micro_batch_size_per_gpu: 1,
    wall_clock_breakdown: false,
  };
}

/**
 * accelerate's config file for DeepSpeed, after EasyContext's single_node.yaml / two_node.yaml. Its keys are
 * written sorted, as `accelerate config` writes them (PyYAML's `dump`), so grouping them here changes nothing.
 */
export function accelerateConfig(o: { nodes: number; processes: number; masterPort: number }): string {
  return toYaml(accelerateConfigDocument(o), { sortKeys: true });
}

/** The document accelerateConfig writes (what accelerate's ClusterConfig reads from it). */
export function accelerateConfigDocument(o: { nodes: number; processes: number; masterPort: number }): Record<string, YamlValue> {
  const multi = o.nodes > 1;
  return {
    // The launch: DeepSpeed ZeRO-3 from our DeepSpeed file, EasyContext's `main`, static rendezvous.
    distributed_type: 'DEEPSPEED',
    deepspeed_config: {
      deepspeed_config_file: DEEPSPEED_CONFIG_FILE,
      zero3_init_flag: false,
      // "standard": every machine runs its own `accelerate launch` (the executor starts one per machine).
      ...(multi ? { deepspeed_multinode_launcher: 'standard' } : {}),
    },
    main_training_function: 'main',
    rdzv_backend: 'static',
    // The machines: how many, how many processes in all; a multi-machine run's rank and rank 0's address
    // differ per machine and come on the command line.
    num_machines: o.nodes,
    num_processes: o.processes,
    ...(multi ? { main_process_port: o.masterPort } : { machine_rank: 0 }),
    same_network: true,
    compute_environment: 'LOCAL_MACHINE',
    // GPUs only, bf16 as DeepSpeed's file says, no TPU and no debug mode.
    use_cpu: false,
    downcast_bf16: 'no',
    tpu_env: [],
    tpu_use_cluster: false,
    tpu_use_sudo: false,
    debug: false,
  };
}

/**
 * EasyContext stage: `accelerate launch --config_file accelerate.yaml <EasyContext>/train.py …`
 * with the flags of EasyContext's train.py. Sequence parallel: --batch-size is the number of whole
 * sequences per step, shared by all GPUs (the GPU count does not multiply tokens).
 */
export function renderEasyContext(spec: TrainSpec, opts: RenderOptions = {}): RenderedJob {
  const dir = installDir(opts.easyContextDir, '/opt/EasyContext');
  const { resolve, masterPort, nodes, gpusPerNode } = gpuLaunch(spec, opts);
  const s = spec.stage;
  const dataset = spec.datasets[0];
  if (spec.datasets.length !== 1 || dataset === undefined) {
    throw new DispatchError('INVALID_SPEC', `EasyContext's train.py reads one dataset (--dataset); got ${spec.datasets.length}`, 'datasets');
  }
  const launch = ['accelerate', 'launch', '--config_file', ACCELERATE_CONFIG_FILE];
  if (nodes > 1) launch.push('--machine_rank', NODE_RANK_REF, '--main_process_ip', MASTER_ADDR_REF, '--main_process_port', String(masterPort));
  const argv = [
    ...launch,
    `${dir}/train.py`,
    '--model', resolve(spec.model, 'model'),
    '--dataset', resolve(dataset, 'datasets.0'),
    '--seq-length', num(s.seqLength),
    '--rope-theta', num(s.ropeTheta),
    '--batch-size', num(s.batchSize),
    '--gradient-accumulate-every', num(s.gradientAccumulation),
    '--max-train-steps', num(s.steps),
    '--learning-rate', num(s.learningRate),
    '--output-dir', resolve(spec.output, 'output'),
    '--seed', num(spec.seed),
    '--parallel_mode', s.parallelMode,
  ];
  const files = [
    { path: ACCELERATE_CONFIG_FILE, content: accelerateConfig({ nodes, processes: s.gpus, masterPort }) },
    { path: DEEPSPEED_CONFIG_FILE, content: JSON.stringify(deepSpeedZero3Config(s.learningRate, spec.offload), null, 2) + '\n' },
  ];
  return gpuTrainJob(spec, argv, { env: {}, files, tool: { id: 'easycontext', name: 'EasyContext train.py' } }, nodes, gpusPerNode);
}

/** FlagEmbedding's issue on the trainer's multi-GPU launch (open): Unsloth no longer trains under DDP. */
export const LONGLLM_QLORA_DDP_ISSUE = 'https://github.com/FlagOpen/FlagEmbedding/issues/919';

/**
 * QLoRA stage with BAAI's trainer (FlagEmbedding research/Long_LLM/longllm_qlora, `python -m
 * main.train`, Unsloth + PEFT, flags parsed by transformers' HfArgumentParser), launched by torchrun
 * as one process. The trainer saves through the Trainer's checkpointing only, so the adapter is
 * written as `<output>/checkpoint-<steps>` (save_steps = steps).
 *
 * One GPU only: main.train loads and patches the model with Unsloth, and Unsloth stopped running
 * under DDP after BAAI's 8-GPU run (FlagEmbedding issue #919, open; the trainer's README now says the
 * training script "won't work" that way). The maintainers' workaround is one process
 * (`torchrun --nproc_per_node 1`), which is what is rendered; a stage on more GPUs is refused.
 */
export function renderQlora(spec: TrainSpec, opts: RenderOptions = {}): RenderedJob {
  const dir = installDir(opts.longllmQloraDir, '/opt/longllm_qlora');
  const s = spec.stage;
  const lora = spec.lora;
  if (!lora) throw new DispatchError('INVALID_SPEC', 'a qlora stage needs a lora section (rank, alpha, targetModules)', 'lora');
  if (s.gpus !== 1) {
    throw new DispatchError(
      'UNSUPPORTED',
      `longllm_qlora trains on one GPU; got ${s.gpus}. Its main.train loads the model with Unsloth, which no longer runs under torchrun's ` +
        `data parallelism, and the trainer's README says its multi-GPU launch won't work (FlagEmbedding issue #919, ${LONGLLM_QLORA_DDP_ISSUE}, open; ` +
        `the maintainers' workaround is one process). Set stage.gpus to 1 and keep the global batch with gradientAccumulation.`,
      'stage.gpus',
    );
  }
  const { resolve, nodes, gpusPerNode } = gpuLaunch(spec, opts);
  if (!Number.isInteger(lora.alpha)) {
    throw new DispatchError('UNSUPPORTED', `longllm_qlora takes an integer --lora_alpha; got ${lora.alpha}`, 'lora.alpha');
  }
  if (lora.quantization === 'int8') {
    throw new DispatchError('UNSUPPORTED', 'longllm_qlora loads weights in 4-bit NF4 (--load_in_4_bit) or 16-bit; it has no 8-bit loading', 'lora.quantization');
  }
  if (lora.extraTrainedParameters.length === 0) {
    // The trainer's default is ["embed_tokens", "norm"], and an empty list cannot be written on its command line.
    throw new DispatchError(
      'UNSUPPORTED',
      'longllm_qlora trains embed_tokens and norm unless --lora_extra_params names others, and an empty list cannot be passed; name the extra trained parameters',
      'lora.extraTrainedParameters',
    );
  }
  let targets: string[];
  try {
    targets = resolveTargetModules(lora.targetModules);
  } catch (e) {
    if (e instanceof LongctxError) throw new DispatchError('INVALID_SPEC', e.message, 'lora.targetModules');
    throw e;
  }
  const argv = [
    'torchrun', '--nproc_per_node', '1',
    '-m', 'main.train',
    '--model_name_or_path', resolve(spec.model, 'model'),
    '--train_data', ...spec.datasets.map((d, i) => resolve(d, `datasets.${i}`)),
    '--output_dir', resolve(spec.output, 'output'),
    '--max_length', num(s.seqLength),
    // As BAAI ran it: batches of similar lengths waste less padding at 80K.
    '--group_by_length',
    '--rope_theta', num(s.ropeTheta),
    '--lora_tune',
    '--lora_rank', num(lora.rank),
    '--lora_alpha', num(lora.alpha),
    '--lora_targets', ...targets,
    '--lora_extra_params', ...lora.extraTrainedParameters,
    ...(lora.quantization === 'nf4' ? ['--load_in_4_bit'] : []),
    '--per_device_train_batch_size', num(s.batchSize),
    '--gradient_accumulation_steps', num(s.gradientAccumulation),
    '--max_steps', num(s.steps),
    '--learning_rate', num(s.learningRate),
    '--lr_scheduler_type', 'linear',
    ...(lora.gradientCheckpointing ? ['--gradient_checkpointing', '--use_reentrant', 'True'] : []),
    '--bf16',
    '--attn_impl', 'flash_attention_2',
    '--chat_template', spec.chatTemplate,
    '--seed', num(spec.seed),
    '--save_only_model',
    '--save_strategy', 'steps',
    '--save_steps', num(s.steps),
    '--logging_steps', '1',
  ];
  // PYTHONPATH: `-m main.train` and its `src` package live in the trainer's checkout.
  // expandable_segments: BAAI's launch setting; it keeps long-sequence activations from fragmenting memory.
  const env = { PYTHONPATH: dir, PYTORCH_CUDA_ALLOC_CONF: 'expandable_segments:True' };
  return gpuTrainJob(spec, argv, { env, files: [], tool: { id: 'longllm-qlora', name: 'longllm_qlora main.train' } }, nodes, gpusPerNode);
}

/** Renders a train spec with the trainer it names. */
export function renderTrain(spec: TrainSpec, opts: RenderOptions = {}): RenderedJob {
  if (spec.trainer === 'lab') return renderLabTrain(spec, opts);
  return spec.trainer === 'easycontext' ? renderEasyContext(spec, opts) : renderQlora(spec, opts);
}
