import { attentionBiases, DTYPE_BYTES, MODEL_FAMILY_TRAITS, slidingWindowLayerCount, type Dtype, type ModelConfig, type OptimizerPrecision } from '@ctxlab/contracts';
import { LongctxError, requirePositiveInt } from './errors';

/**
 * The architecture fields the planners read; a full `ModelConfig` satisfies it. Named after Llama,
 * whose maths the other families (`MODEL_FAMILIES`) share up to their traits.
 */
export type LlamaShape = Pick<
  ModelConfig,
  'numLayers' | 'hiddenSize' | 'numAttentionHeads' | 'numKeyValueHeads' | 'headDim' | 'intermediateSize' | 'vocabSize'
> &
  Partial<Pick<ModelConfig, 'architecture' | 'attentionBias' | 'slidingWindow'>> & {
    /** Absent: the family's default (Gemma2 tied, the others not). */
    tieWordEmbeddings?: boolean;
    /** Weight dtype; bf16 when absent. */
    dtype?: Dtype;
  };

/** Parameters of one decoder layer, by module (HF LlamaDecoderLayer and its siblings), biases included. */
export interface LayerParams {
  /** Weight, plus the bias when the family has one (Qwen2: q/k/v). */
  qProj: number;
  kProj: number;
  vProj: number;
  /** Weight, plus the bias when `attention_bias` gives o_proj one (Llama, Gemma2). */
  oProj: number;
  gateProj: number;
  upProj: number;
  downProj: number;
  /** RMSNorm weight vectors: input + post_attention (Gemma2 adds pre_ and post_feedforward). */
  norms: number;
  total: number;
}

/** Parameter count of a decoder model, split the way the weights are stored. */
export interface ParamBreakdown {
  embedTokens: number;
  /** 0 when tieWordEmbeddings (lm_head shares embed_tokens). */
  lmHead: number;
  perLayer: LayerParams;
  /** perLayer.total × numLayers. */
  layers: number;
  finalNorm: number;
  total: number;
}

/** Parameters of one decoder layer: q/k/v/o with GQA (and the family's biases), gated MLP (3 matrices), RMSNorms. */
export function layerParams(c: LlamaShape): LayerParams {
  const qDim = c.numAttentionHeads * c.headDim;
  const kvDim = c.numKeyValueHeads * c.headDim;
  const h = c.hiddenSize;
  const bias = attentionBiases(c);
  const qkvBias = bias.qkv ? 1 : 0;
  const p = {
    qProj: h * qDim + qkvBias * qDim,
    kProj: h * kvDim + qkvBias * kvDim,
    vProj: h * kvDim + qkvBias * kvDim,
    oProj: qDim * h + (bias.o ? h : 0),
    gateProj: h * c.intermediateSize,
    upProj: h * c.intermediateSize,
    downProj: c.intermediateSize * h,
    norms: MODEL_FAMILY_TRAITS[c.architecture ?? 'llama'].normsPerLayer * h,
  };
  return { ...p, total: p.qProj + p.kProj + p.vProj + p.oProj + p.gateProj + p.upProj + p.downProj + p.norms };
}

/** Whether lm_head shares embed_tokens: the config's word, else its family's default. */
export function tiedEmbeddings(c: Pick<LlamaShape, 'architecture' | 'tieWordEmbeddings'>): boolean {
  return c.tieWordEmbeddings ?? MODEL_FAMILY_TRAITS[c.architecture ?? 'llama'].tiedEmbeddingsByDefault;
}

/**
 * Parameter count of a decoder model (HF LlamaForCausalLM and its siblings): embeddings, lm_head
 * unless tied, the decoder layers and the final norm. Llama-3-8B → 8,030,261,248; 70B →
 * 70,553,706,496; Mistral-7B-v0.2 → 7,241,732,096; Qwen2-7B → 7,615,616,512; Gemma-2-9B → 9,241,705,984.
 */
export function paramCount(c: LlamaShape): ParamBreakdown {
  const perLayer = layerParams(c);
  const embedTokens = c.vocabSize * c.hiddenSize;
  const lmHead = tiedEmbeddings(c) ? 0 : c.vocabSize * c.hiddenSize;
  const layers = perLayer.total * c.numLayers;
  const finalNorm = c.hiddenSize;
  return { embedTokens, lmHead, perLayer, layers, finalNorm, total: embedTokens + lmHead + layers + finalNorm };
}

/** Bytes of all weights in `dtype` (default: the config's dtype, else bf16). */
export function weightBytes(c: LlamaShape, dtype: Dtype = c.dtype ?? 'bf16'): number {
  return paramCount(c).total * DTYPE_BYTES[dtype];
}

/**
 * KV cache bytes per token for the whole model: 2 (K and V) × layers × kvHeads × headDim × dtype bytes.
 *
 * Every layer is counted, sliding-window ones too (Gemma2's even layers with window 4096, Mistral
 * v0.1's 4096 on all): vLLM allocates a full-length cache for every layer unless its hybrid KV
 * cache manager is in use, so this is the number that decides whether a length fits. What a cache
 * that honours the windows would need is `windowedKvBytes`, a lower bound for comparison only.
 */
export function kvBytesPerToken(c: Pick<LlamaShape, 'numLayers' | 'numKeyValueHeads' | 'headDim'>, dtype: Dtype = 'bf16'): number {
  return 2 * c.numLayers * c.numKeyValueHeads * c.headDim * DTYPE_BYTES[dtype];
}

/**
 * KV cache bytes of one `tokens`-long sequence if local layers kept only their last `slidingWindow`
 * tokens (Gemma-2-9B at 32K: 21 global layers × 32K + 21 local × 4K). Not what the planner sizes
 * vLLM with (see `kvBytesPerToken`).
 */
export function windowedKvBytes(
  c: Pick<LlamaShape, 'architecture' | 'numLayers' | 'numKeyValueHeads' | 'headDim' | 'slidingWindow'>,
  tokens: number,
  dtype: Dtype = 'bf16',
): number {
  requirePositiveInt(tokens, 'tokens', 'INVALID_LENGTH');
  const local = slidingWindowLayerCount(c);
  const perLayerToken = 2 * c.numKeyValueHeads * c.headDim * DTYPE_BYTES[dtype];
  const window = Math.min(tokens, c.slidingWindow ?? tokens);
  return perLayerToken * ((c.numLayers - local) * tokens + local * window);
}

/**
 * Why a tensor-parallel size does not work for this model, or null when it does. Mirrors vLLM:
 * attention heads must divide evenly across ranks, and KV heads must either split evenly
 * (kvHeads % tp = 0) or be replicated evenly (tp % kvHeads = 0).
 */
export function tensorParallelIssue(c: Pick<LlamaShape, 'numAttentionHeads' | 'numKeyValueHeads'>, tp: number): string | null {
  if (!Number.isInteger(tp) || tp < 1) return `tensor parallel size must be a positive integer, got ${tp}`;
  if (c.numAttentionHeads % tp !== 0) return `numAttentionHeads ${c.numAttentionHeads} is not divisible by tensor parallel size ${tp}`;
  if (c.numKeyValueHeads % tp !== 0 && tp % c.numKeyValueHeads !== 0) {
    return `numKeyValueHeads ${c.numKeyValueHeads} can be neither split nor replicated evenly over tensor parallel size ${tp}`;
  }
  return null;
}

/**
 * KV heads each tensor-parallel rank holds: kvHeads / tp, but never fewer than 1. When tp > kvHeads
 * (e.g. TP 16 with Llama-3's 8 KV heads) vLLM replicates each KV head on tp/kvHeads ranks, so
 * every rank still stores one full head: KV memory per GPU stops shrinking past tp = kvHeads.
 */
export function kvHeadsPerRank(numKeyValueHeads: number, tp: number): number {
  requirePositiveInt(tp, 'tensorParallelSize', 'INVALID_TENSOR_PARALLEL');
  return Math.max(1, Math.floor(numKeyValueHeads / tp));
}

/** KV cache bytes per token on one GPU under tensor parallelism (see `kvHeadsPerRank` for replication). */
export function kvBytesPerTokenPerGpu(c: Pick<LlamaShape, 'numLayers' | 'numKeyValueHeads' | 'headDim'>, tp: number, dtype: Dtype = 'bf16'): number {
  return 2 * c.numLayers * kvHeadsPerRank(c.numKeyValueHeads, tp) * c.headDim * DTYPE_BYTES[dtype];
}

/**
 * Weight bytes on one GPU under tensor parallelism, as vLLM shards a Llama: embed_tokens and
 * lm_head split by vocab (ceil(vocab/tp) rows, vocab padding ignored), q/o and the MLP split by
 * heads/columns, k/v split by KV head (replicated when tp > kvHeads), norms replicated.
 */
export function weightBytesPerGpu(c: LlamaShape, tp: number, dtype: Dtype = c.dtype ?? 'bf16'): number {
  const issue = tensorParallelIssue(c, tp);
  if (issue) throw new LongctxError('INVALID_TENSOR_PARALLEL', issue, 'tensorParallelSize');
  const p = paramCount(c);
  const vocabRows = Math.ceil(c.vocabSize / tp);
  const embed = vocabRows * c.hiddenSize;
  const lmHead = tiedEmbeddings(c) ? 0 : vocabRows * c.hiddenSize;
  const l = p.perLayer;
  const kvShare = kvHeadsPerRank(c.numKeyValueHeads, tp) / c.numKeyValueHeads;
  // o_proj is row-parallel: its bias (when there is one) is whole on every rank, like the norms.
  const oBias = attentionBiases(c).o ? c.hiddenSize : 0;
  const layer =
    (l.qProj + l.oProj - oBias + l.gateProj + l.upProj + l.downProj) / tp + (l.kProj + l.vProj) * kvShare + l.norms + oBias;
  return (embed + lmHead + layer * c.numLayers + p.finalNorm) * DTYPE_BYTES[dtype];
}

// ---------------------------------------------------------------------------------------------
// Training memory under ring attention
// ---------------------------------------------------------------------------------------------

/** Inputs of the training-memory estimate. */
export interface TrainingMemoryOptions {
  /** Tokens in one training sequence. */
  seqLength: number;
  /** GPUs one sequence is spread over by ring attention (EasyContext's sequence-parallel group). */
  ringGpus: number;
  /** GPUs the ZeRO-3 model states are sharded over; default ringGpus (a pure ring, no extra data parallelism). */
  shardGpus?: number;
  /** Sequences per GPU per micro-step; default 1 (EasyContext trains one long sequence at a time). */
  microBatch?: number;
  /** Full activation checkpointing at every decoder layer; default true. */
  activationCheckpointing?: boolean;
  /** What the optimizer keeps per parameter (`OPTIMIZER_STATE_BYTES`); default 'fp32-master', 16 bytes/param. */
  optimizerPrecision?: OptimizerPrecision;
  /** CUDA context, NCCL buffers, allocator slack; default 2 GiB. */
  overheadGiB?: number;
}

/** Bytes per parameter of each model state an optimizer precision holds. */
export interface OptimizerStateBytes {
  /** Weights the forward and backward read. */
  weights: number;
  /** Parameter gradients, held from the backward to the optimizer step. */
  gradients: number;
  /** A separate full-precision copy of the weights that the update is applied to (0 when there is none). */
  masterWeights: number;
  /** Adam's first moment m. */
  adamM: number;
  /** Adam's second moment v. */
  adamV: number;
}

export const OPTIMIZER_STATE_BYTES: Readonly<Record<OptimizerPrecision, OptimizerStateBytes>> = {
  // Mixed-precision Adam, ZeRO paper (Rajbhandari et al. 2020, §3.1): bf16 weights and gradients
  // for the forward and backward, fp32 master weights and fp32 m and v for the update:
  // 2 + 2 + 4 + 4 + 4 = 16 bytes/param. PyTorch autocast over fp32 parameters holds the same 16
  // bytes another way: fp32 weights (they are the master), fp32 gradients, fp32 m and v.
  'fp32-master': { weights: 2, gradients: 2, masterWeights: 4, adamM: 4, adamV: 4 },
  // bf16 parameters under torch.optim.AdamW, whose moments take the parameter's dtype and which
  // keeps no master copy: 2 + 2 + 2 + 2 = 8 bytes/param. Without the gradients (before the
  // backward has produced any) it is 6.
  bf16: { weights: 2, gradients: 2, masterWeights: 0, adamM: 2, adamV: 2 },
};

/** Bytes per parameter of all model states under an optimizer precision: 16 for 'fp32-master', 8 for 'bf16'. */
export function optimizerBytesPerParam(precision: OptimizerPrecision): number {
  const b = OPTIMIZER_STATE_BYTES[precision];
  return b.weights + b.gradients + b.masterWeights + b.adamM + b.adamV;
}

/** Per-GPU training memory, in bytes, by component. */
export interface TrainingMemoryEstimate {
  /** Tokens of each sequence that live on one GPU: ceil(microBatch × seqLength / ringGpus). */
  tokensPerGpu: number;
  /**
   * Weights, gradients and optimizer states, / shardGpus: `bytesPerParam` × parameters. Gradients
   * are counted because ZeRO-3 keeps its gradient partitions allocated through the step.
   */
  modelStates: number;
  optimizerPrecision: OptimizerPrecision;
  /** `optimizerBytesPerParam(optimizerPrecision)`: 16 for 'fp32-master', 8 for 'bf16'. */
  bytesPerParam: number;
  /** Full bf16 parameters ZeRO-3 gathers at once: the larger of two decoder layers (current + prefetch) or the embedding. */
  gatheredParams: number;
  /** Layer-boundary checkpoints: tokensPerGpu × layers × hidden × 2 bytes (0 without checkpointing). */
  checkpoints: number;
  /** Saved activations of the layer(s) being back-propagated (one layer with checkpointing, all without). */
  layerActivations: number;
  /** Ring attention K/V blocks in flight: double-buffered K and V of one peer's shard (0 on a ring of one GPU, which has no peer). */
  ringBuffers: number;
  /** Logits and loss: bf16 logits, their fp32 copy for cross-entropy and its fp32 gradient = 10 × vocab bytes/token. */
  logits: number;
  overhead: number;
  total: number;
  /** The assumptions above, in words, for a UI to show. */
  assumptions: string[];
}

/**
 * Rough per-GPU memory to train `seqLength`-token sequences with ring attention over `ringGpus`
 * GPUs and ZeRO-3 sharding. An estimate for sizing, not a promise: fragmentation, kernels'
 * workspaces and framework extras are folded into `overheadGiB`.
 */
export function trainingMemory(c: LlamaShape, o: TrainingMemoryOptions): TrainingMemoryEstimate {
  requirePositiveInt(o.seqLength, 'seqLength', 'INVALID_LENGTH');
  requirePositiveInt(o.ringGpus, 'ringGpus', 'INVALID_GPU');
  const shardGpus = o.shardGpus ?? o.ringGpus;
  requirePositiveInt(shardGpus, 'shardGpus', 'INVALID_GPU');
  const microBatch = o.microBatch ?? 1;
  requirePositiveInt(microBatch, 'microBatch', 'INVALID_LENGTH');
  const ckpt = o.activationCheckpointing ?? true;
  const optimizerPrecision = o.optimizerPrecision ?? 'fp32-master';
  const bytesPerParam = optimizerBytesPerParam(optimizerPrecision);
  const overheadGiB = o.overheadGiB ?? 2;
  if (!(overheadGiB >= 0)) throw new LongctxError('INVALID_MEMORY', `overheadGiB must be ≥ 0, got ${overheadGiB}`, 'overheadGiB');

  const p = paramCount(c);
  const bf16 = 2;
  const h = c.hiddenSize;
  const qDim = c.numAttentionHeads * c.headDim;
  const kvDim = c.numKeyValueHeads * c.headDim;
  const I = c.intermediateSize;
  const tokensPerGpu = Math.ceil((microBatch * o.seqLength) / o.ringGpus);

  const modelStates = (bytesPerParam * p.total) / shardGpus;
  const gatheredParams = Math.max(2 * p.perLayer.total, p.embedTokens) * bf16;
  // What autograd keeps per token for one Llama layer, in bf16 elements: layer input, normed input,
  // q/k/v after RoPE, attention output (flash attention keeps no L×L matrix), residual, normed
  // residual, gate, silu(gate), up, and their product (down_proj's input). Each norm past Llama's
  // two (Gemma2's post-attention and post-feedforward) keeps one more hidden-wide output.
  const extraNorms = MODEL_FAMILY_TRAITS[c.architecture ?? 'llama'].normsPerLayer - 2;
  const perLayerBytesPerToken = ((4 + extraNorms) * h + 2 * qDim + 2 * kvDim + 4 * I) * bf16;
  const layersHeld = ckpt ? 1 : c.numLayers;
  const layerActivations = tokensPerGpu * perLayerBytesPerToken * layersHeld;
  const checkpoints = ckpt ? tokensPerGpu * c.numLayers * h * bf16 : 0;
  const ringBuffers = o.ringGpus > 1 ? 2 * 2 * tokensPerGpu * kvDim * bf16 : 0;
  const logits = tokensPerGpu * c.vocabSize * (2 + 4 + 4);
  const overhead = overheadGiB * 2 ** 30;
  const total = modelStates + gatheredParams + checkpoints + layerActivations + ringBuffers + logits + overhead;
  return {
    tokensPerGpu,
    modelStates,
    optimizerPrecision,
    bytesPerParam,
    gatheredParams,
    checkpoints,
    layerActivations,
    ringBuffers,
    logits,
    overhead,
    total,
    assumptions: [
      `ring attention: each GPU holds ${tokensPerGpu} tokens (${microBatch} × ${o.seqLength} / ${o.ringGpus})`,
      optimizerPrecision === 'fp32-master'
        ? `ZeRO-3 over ${shardGpus} GPU${shardGpus === 1 ? '' : 's'}: ${bytesPerParam} bytes/param (bf16 weights and gradients 2 + 2, fp32 master weights 4, fp32 Adam m and v 4 + 4)`
        : `ZeRO-3 over ${shardGpus} GPU${shardGpus === 1 ? '' : 's'}: ${bytesPerParam} bytes/param (bf16 weights, gradients, AdamW m and v, 2 each; no master copy)`,
      'gradients counted for the whole step, as ZeRO-3 keeps its gradient partitions allocated (one GPU that frees them between steps peaks before they exist)',
      ckpt ? 'activation checkpointing at every layer: layer inputs kept, one layer recomputed at a time' : 'no activation checkpointing: every layer keeps its activations',
      'flash attention: no L×L score matrix is stored',
      'logits: bf16 + fp32 copy + fp32 gradient for the whole local shard',
      `fixed overhead ${overheadGiB} GiB (CUDA context, NCCL, allocator slack)`,
    ],
  };
}
