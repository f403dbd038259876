import { DTYPE_BYTES, type Dtype, type ModelConfig } from '@ctxlab/contracts';
import { LongctxError, requirePositive, requirePositiveInt } from './errors';
import { fmtGiB, fmtInt } from './format';
import { kvBytesPerTokenPerGpu, kvHeadsPerRank, tensorParallelIssue, weightBytesPerGpu, type LlamaShape } from './memory';

/**
 * A vLLM serving plan: does the KV cache for `--max-model-len` fit next to the weights?
 *
 * Memory model per GPU (what vLLM's profiling run measures, approximated):
 *   usable       = gpu-memory-utilization × total GPU memory
 *   weights      = this rank's shard (see `weightBytesPerGpu`)
 *   reserve      = fixed (default 1.5 GiB: CUDA context, NCCL, cuBLAS workspaces, CUDA graphs)
 *                + activation peak of one forward over max-num-batched-tokens tokens
 *                + fp32 sampler logits for max-num-seqs rows
 *   KV budget    = usable − weights − reserve, allocated in blocks of 16 tokens (vLLM's default block size)
 * A sequence of max-model-len tokens fits when its blocks fit the budget, which is the check vLLM
 * makes at start-up ("max seq len … is larger than the maximum number of tokens that can be stored
 * in KV cache").
 */

/** KV cache dtype as vLLM's --kv-cache-dtype takes it; 'auto' = the model's dtype. */
export type KvCacheDtype = 'auto' | 'bf16' | 'fp8';

/** What a serving plan needs. */
export interface ServingInput {
  model: LlamaShape & Pick<ModelConfig, 'ropeTheta' | 'maxPositionEmbeddings'>;
  /** Hugging Face id or local path for `vllm serve`. */
  modelName: string;
  /** Total memory of one GPU as the driver reports it, GiB. */
  gpuMemoryGiB: number;
  tensorParallelSize: number;
  /** --gpu-memory-utilization; vLLM's default 0.9. */
  gpuMemoryUtilization?: number;
  maxModelLen: number;
  kvCacheDtype?: KvCacheDtype;
  /** --max-num-batched-tokens; default 8192 with chunked prefill, else max(max-model-len, 2048) as vLLM sets it. */
  maxNumBatchedTokens?: number;
  /** --enable-chunked-prefill; default true (long prompts are prefilled in chunks, so activations stay small). */
  enableChunkedPrefill?: boolean;
  /** --max-num-seqs; emitted only when given. vLLM's default 256 is used for the logits reserve. */
  maxNumSeqs?: number;
  /** RoPE base to serve with; when it differs from the config's, --hf-overrides carries it. */
  ropeTheta?: number;
  enforceEager?: boolean;
  trustRemoteCode?: boolean;
  /** Fixed per-GPU reserve outside weights, activations and KV cache; default 1.5 GiB. */
  fixedReserveGiB?: number;
  /** Extra environment variables for the command (e.g. PYTORCH_CUDA_ALLOC_CONF). */
  env?: Record<string, string>;
}

/** Per-GPU memory breakdown of a serving plan, bytes. */
export interface ServingMemory {
  totalBytes: number;
  /** gpu-memory-utilization × total. */
  usableBytes: number;
  weightBytes: number;
  fixedReserveBytes: number;
  activationBytes: number;
  logitsBytes: number;
  /** What is left for the KV cache; negative when the weights and reserve alone do not fit. */
  kvCacheBytes: number;
  kvBytesPerToken: number;
  kvHeads: number;
}

/** The `vllm serve` invocation for a plan. */
export interface VllmCommand {
  args: string[];
  env: Record<string, string>;
  /** env assignments + args, quoted for a POSIX shell. */
  shell: string;
}

/** Result of `planServing`. */
export interface ServingPlan {
  tensorParallelSize: number;
  maxModelLen: number;
  maxNumBatchedTokens: number;
  kvCacheDtype: Dtype;
  weightDtype: Dtype;
  blockSize: number;
  perGpu: ServingMemory;
  /** Tokens the KV cache holds across all sequences (whole blocks). */
  kvCacheTokens: number;
  /** One sequence of max-model-len tokens fits the KV cache. */
  fits: boolean;
  /** Longest max-model-len that fits with the same settings (0 when none). */
  maxModelLenThatFits: number;
  /** Full-length sequences that fit the KV cache at once. */
  concurrentFullLengthSequences: number;
  /** Smallest power-of-two TP size valid for this model at which the plan fits, or null. */
  smallestFittingTensorParallelSize: number | null;
  /** Things vLLM would refuse or warn about, in words. */
  problems: string[];
  command: VllmCommand;
}

const GiB = 2 ** 30;
const BLOCK_SIZE = 16;
const DEFAULT_MAX_NUM_SEQS = 256;
const CHUNKED_PREFILL_BATCHED_TOKENS = 8192;

/** Dtype vLLM runs weights in with `--dtype auto`: fp32 checkpoints are served in fp16, the rest as stored. */
export function servingWeightDtype(configDtype: Dtype | undefined): Dtype {
  const d = configDtype ?? 'bf16';
  return d === 'fp32' ? 'fp16' : d;
}

/** Dtype the KV cache is stored in for a --kv-cache-dtype choice and the serving weight dtype. */
export function resolveKvDtype(kv: KvCacheDtype, weightDtype: Dtype): Dtype {
  if (kv === 'fp8') return 'fp8';
  if (kv === 'bf16') return 'bf16';
  // 'auto' follows the model dtype; quantised weights still keep a 16-bit cache.
  return DTYPE_BYTES[weightDtype] >= 2 ? weightDtype : 'bf16';
}

/**
 * Activation bytes per batched token on one rank in vLLM's profiling forward: the peak of one
 * decoder layer — residual and hidden states (full width on every rank), the rank's qkv output,
 * attention output, gate_up output (2·I/tp) and SiLU·mul output (I/tp), in the activation dtype.
 */
export function servingActivationBytesPerToken(c: LlamaShape, tp: number, dtypeBytes = 2): number {
  const headsRank = c.numAttentionHeads / tp;
  const kvRank = kvHeadsPerRank(c.numKeyValueHeads, tp);
  const elems = 2 * c.hiddenSize + (headsRank + 2 * kvRank) * c.headDim + headsRank * c.headDim + (3 * c.intermediateSize) / tp;
  return elems * dtypeBytes;
}

interface Resolved {
  util: number;
  kvDtype: Dtype;
  weightDtype: Dtype;
  chunked: boolean;
  maxNumSeqs: number;
  fixedReserveBytes: number;
}

function resolve(i: ServingInput): Resolved {
  const util = i.gpuMemoryUtilization ?? 0.9;
  if (!(util > 0 && util <= 1)) throw new LongctxError('INVALID_MEMORY', `gpuMemoryUtilization must be in (0, 1], got ${util}`, 'gpuMemoryUtilization');
  requirePositive(i.gpuMemoryGiB, 'gpuMemoryGiB', 'INVALID_MEMORY');
  requirePositiveInt(i.maxModelLen, 'maxModelLen', 'INVALID_LENGTH');
  if (i.maxNumBatchedTokens !== undefined) requirePositiveInt(i.maxNumBatchedTokens, 'maxNumBatchedTokens', 'INVALID_LENGTH');
  if (i.maxNumSeqs !== undefined) requirePositiveInt(i.maxNumSeqs, 'maxNumSeqs', 'INVALID_LENGTH');
  const fixed = i.fixedReserveGiB ?? 1.5;
  if (!(fixed >= 0)) throw new LongctxError('INVALID_MEMORY', `fixedReserveGiB must be ≥ 0, got ${fixed}`, 'fixedReserveGiB');
  const weightDtype = servingWeightDtype(i.model.dtype);
  return {
    util,
    weightDtype,
    kvDtype: resolveKvDtype(i.kvCacheDtype ?? 'auto', weightDtype),
    chunked: i.enableChunkedPrefill ?? true,
    maxNumSeqs: i.maxNumSeqs ?? DEFAULT_MAX_NUM_SEQS,
    fixedReserveBytes: fixed * GiB,
  };
}

/** Batched tokens vLLM will run for a max-model-len: the given value, else its default; without chunked prefill never below max-model-len. */
function batchedTokens(i: ServingInput, r: Resolved, maxModelLen: number): number {
  if (i.maxNumBatchedTokens !== undefined) return i.maxNumBatchedTokens;
  return r.chunked ? CHUNKED_PREFILL_BATCHED_TOKENS : Math.max(maxModelLen, 2048);
}

function memoryAt(i: ServingInput, r: Resolved, tp: number, maxModelLen: number): ServingMemory {
  const c = i.model;
  const totalBytes = i.gpuMemoryGiB * GiB;
  const usableBytes = r.util * totalBytes;
  const weightBytes = weightBytesPerGpu(c, tp, r.weightDtype);
  // Activations run in the 16-bit compute dtype even for quantised weights.
  const actBytes = Math.max(2, DTYPE_BYTES[r.weightDtype]);
  const activationBytes = batchedTokens(i, r, maxModelLen) * servingActivationBytesPerToken(c, tp, actBytes);
  const logitsBytes = r.maxNumSeqs * c.vocabSize * 4;
  const kvCacheBytes = usableBytes - weightBytes - r.fixedReserveBytes - activationBytes - logitsBytes;
  return {
    totalBytes,
    usableBytes,
    weightBytes,
    fixedReserveBytes: r.fixedReserveBytes,
    activationBytes,
    logitsBytes,
    kvCacheBytes,
    kvBytesPerToken: kvBytesPerTokenPerGpu(c, tp, r.kvDtype),
    kvHeads: kvHeadsPerRank(c.numKeyValueHeads, tp),
  };
}

function kvBlocks(m: ServingMemory): number {
  return m.kvCacheBytes <= 0 ? 0 : Math.floor(m.kvCacheBytes / (BLOCK_SIZE * m.kvBytesPerToken));
}

function fitsAt(i: ServingInput, r: Resolved, tp: number, len: number): boolean {
  return kvBlocks(memoryAt(i, r, tp, len)) >= Math.ceil(len / BLOCK_SIZE);
}

/** Longest max-model-len that fits at this TP; binary search, valid because the KV budget never grows with length. */
function longestFit(i: ServingInput, r: Resolved, tp: number): number {
  // At length 1 the reserve is smallest, so no length beyond that KV capacity can fit.
  let hi = kvBlocks(memoryAt(i, r, tp, 1)) * BLOCK_SIZE;
  if (hi === 0 || !fitsAt(i, r, tp, 1)) return 0;
  if (fitsAt(i, r, tp, hi)) return hi;
  let lo = 1;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fitsAt(i, r, tp, mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Power-of-two tensor-parallel sizes vLLM accepts for this model, smallest first (up to the attention head count). */
export function tensorParallelCandidates(c: Pick<LlamaShape, 'numAttentionHeads' | 'numKeyValueHeads'>): number[] {
  const out: number[] = [];
  for (let tp = 1; tp <= c.numAttentionHeads; tp *= 2) if (tensorParallelIssue(c, tp) === null) out.push(tp);
  return out;
}

/** Smallest power-of-two TP at which one max-model-len sequence fits, or null when none up to `maxTensorParallelSize` does. */
export function smallestTensorParallelSize(i: Omit<ServingInput, 'tensorParallelSize'>, maxTensorParallelSize = Infinity): number | null {
  const full = { ...i, tensorParallelSize: 1 };
  const r = resolve(full);
  for (const tp of tensorParallelCandidates(i.model)) {
    if (tp > maxTensorParallelSize) break;
    if (fitsAt(full, r, tp, i.maxModelLen)) return tp;
  }
  return null;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_\-.,/:=@+]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The `vllm serve` args, env and shell line for a serving input. */
export function vllmCommand(i: ServingInput): VllmCommand {
  const r = resolve(i);
  const args = [
    'vllm',
    'serve',
    i.modelName,
    '--tensor-parallel-size',
    String(i.tensorParallelSize),
    '--max-model-len',
    String(i.maxModelLen),
    '--gpu-memory-utilization',
    String(r.util),
  ];
  const configDtype = servingWeightDtype(i.model.dtype);
  if (r.kvDtype === 'fp8') args.push('--kv-cache-dtype', 'fp8');
  // A bf16 cache for a model that is not bf16: run the model in bf16 (its cache follows).
  else if (i.kvCacheDtype === 'bf16' && configDtype !== 'bf16') args.push('--dtype', 'bfloat16');
  // With chunked prefill the batch size is written out so the plan's activation reserve is what runs.
  const batched = i.maxNumBatchedTokens ?? (r.chunked ? CHUNKED_PREFILL_BATCHED_TOKENS : undefined);
  if (batched !== undefined) args.push('--max-num-batched-tokens', String(batched));
  if (i.maxNumSeqs !== undefined) args.push('--max-num-seqs', String(i.maxNumSeqs));
  if (r.chunked) args.push('--enable-chunked-prefill');
  if (i.enforceEager) args.push('--enforce-eager');
  if (i.trustRemoteCode) args.push('--trust-remote-code');
  if (i.ropeTheta !== undefined && i.ropeTheta !== i.model.ropeTheta) {
    // Newer vLLM takes RoPE changes through --hf-overrides (older: --rope-theta / --rope-scaling).
    const overrides = { rope_theta: i.ropeTheta, max_position_embeddings: Math.max(i.model.maxPositionEmbeddings, i.maxModelLen) };
    args.push('--hf-overrides', JSON.stringify(overrides));
  }
  const env: Record<string, string> = { ...(i.env ?? {}) };
  // vLLM refuses a max-model-len above the config's max_position_embeddings unless this is set.
  if (i.maxModelLen > i.model.maxPositionEmbeddings) env.VLLM_ALLOW_LONG_MAX_MODEL_LEN = '1';
  const shell = [...Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`), ...args.map(shellQuote)].join(' ');
  return { args, env, shell };
}

/**
 * Serving plan for vLLM: per-GPU memory, whether one max-model-len sequence fits the KV cache,
 * the longest length that fits, full-length sequences at once, the smallest TP that fits, and
 * the command line.
 */
export function planServing(i: ServingInput): ServingPlan {
  const r = resolve(i);
  const tp = i.tensorParallelSize;
  const issue = tensorParallelIssue(i.model, tp);
  if (issue) throw new LongctxError('INVALID_TENSOR_PARALLEL', issue, 'tensorParallelSize');
  if (!i.modelName.trim()) throw new LongctxError('INVALID_LENGTH', 'modelName must not be empty', 'modelName');

  const perGpu = memoryAt(i, r, tp, i.maxModelLen);
  const blocks = kvBlocks(perGpu);
  const need = Math.ceil(i.maxModelLen / BLOCK_SIZE);
  const fits = blocks >= need;
  const maxNumBatchedTokens = batchedTokens(i, r, i.maxModelLen);

  const problems: string[] = [];
  if (perGpu.kvCacheBytes <= 0) {
    problems.push(
      `no memory left for the KV cache: ${fmtGiB(perGpu.usableBytes)} usable per GPU, weights ${fmtGiB(perGpu.weightBytes)}, reserve ${fmtGiB(perGpu.fixedReserveBytes + perGpu.activationBytes + perGpu.logitsBytes)}`,
    );
  } else if (!fits) {
    problems.push(
      `max-model-len ${fmtInt(i.maxModelLen)} needs ${fmtGiB(need * BLOCK_SIZE * perGpu.kvBytesPerToken)} of KV cache per GPU but ${fmtGiB(perGpu.kvCacheBytes)} is left; vLLM will refuse to start`,
    );
  }
  if (!r.chunked && i.maxNumBatchedTokens !== undefined && i.maxNumBatchedTokens < i.maxModelLen) {
    problems.push(`without chunked prefill vLLM requires max-num-batched-tokens (${fmtInt(i.maxNumBatchedTokens)}) ≥ max-model-len (${fmtInt(i.maxModelLen)})`);
  }

  return {
    tensorParallelSize: tp,
    maxModelLen: i.maxModelLen,
    maxNumBatchedTokens,
    kvCacheDtype: r.kvDtype,
    weightDtype: r.weightDtype,
    blockSize: BLOCK_SIZE,
    perGpu,
    kvCacheTokens: blocks * BLOCK_SIZE,
    fits,
    maxModelLenThatFits: longestFit(i, r, tp),
    concurrentFullLengthSequences: Math.floor(blocks / need),
    smallestFittingTensorParallelSize: smallestTensorParallelSize(i),
    problems,
    command: vllmCommand(i),
  };
}
