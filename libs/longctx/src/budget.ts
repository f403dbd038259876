import { stageTokens, type RecipeStage } from '@ctxlab/contracts';
import { LongctxError, requirePositive } from './errors';
import { paramCount, type LlamaShape } from './memory';

// ---------------------------------------------------------------------------------------------
// GPU catalog
// ---------------------------------------------------------------------------------------------

/** One accelerator model as the planners see it. */
export interface GpuSpec {
  id: 'h100-sxm-80gb' | 'h200-141gb' | 'a100-80gb' | 'a800-80gb' | 'l40s-48gb';
  name: string;
  /** Dense (no sparsity) BF16 tensor-core peak, FLOP/s, from the vendor datasheet. */
  peakBf16Flops: number;
  /** Memory as the datasheet states it, decimal GB. */
  memoryGB: number;
  /**
   * Total memory the driver reports (nvidia-smi memory.total, MiB / 1024) — what
   * vLLM's --gpu-memory-utilization is a fraction of. Typical values; check your cards.
   */
  memoryGiB: number;
  /** Where the peak and memory numbers come from. */
  source: string;
}

/** The GPUs the field notes' recipes use. Peaks are dense BF16; datasheets print 2× "with sparsity". */
export const GPU_CATALOG: readonly GpuSpec[] = [
  {
    id: 'h100-sxm-80gb',
    name: 'NVIDIA H100 SXM 80GB',
    // NVIDIA H100 Tensor Core GPU datasheet: BF16 Tensor Core 1,979 TFLOPS with sparsity → 989 dense.
    peakBf16Flops: 989e12,
    memoryGB: 80,
    memoryGiB: 81559 / 1024,
    source: 'NVIDIA H100 Tensor Core GPU datasheet (SXM): BF16 1,979 TFLOPS with sparsity, 80 GB HBM3',
  },
  {
    id: 'h200-141gb',
    name: 'NVIDIA H200 141GB',
    // NVIDIA H200 datasheet (SXM): same tensor cores as H100 SXM, 1,979 TFLOPS BF16 with sparsity.
    peakBf16Flops: 989e12,
    memoryGB: 141,
    memoryGiB: 143771 / 1024,
    source: 'NVIDIA H200 Tensor Core GPU datasheet (SXM): BF16 1,979 TFLOPS with sparsity, 141 GB HBM3e',
  },
  {
    id: 'a100-80gb',
    name: 'NVIDIA A100 80GB',
    // NVIDIA A100 datasheet: BF16 Tensor Core 312 TFLOPS (624 with sparsity).
    peakBf16Flops: 312e12,
    memoryGB: 80,
    memoryGiB: 81920 / 1024,
    source: 'NVIDIA A100 Tensor Core GPU datasheet: BF16 312 TFLOPS (624 with sparsity), 80 GB HBM2e',
  },
  {
    id: 'a800-80gb',
    name: 'NVIDIA A800 80GB',
    // The A800 is the A100 with a slower NVLink for export rules; compute and memory are the A100's.
    peakBf16Flops: 312e12,
    memoryGB: 80,
    memoryGiB: 81920 / 1024,
    source: 'NVIDIA A800 datasheet: BF16 312 TFLOPS (624 with sparsity), 80 GB HBM2e',
  },
  {
    id: 'l40s-48gb',
    name: 'NVIDIA L40S 48GB',
    // NVIDIA L40S datasheet: BF16 Tensor Core 362.05 TFLOPS (733 with sparsity).
    peakBf16Flops: 362e12,
    memoryGB: 48,
    memoryGiB: 46068 / 1024,
    source: 'NVIDIA L40S datasheet: BF16 362.05 TFLOPS (733 with sparsity), 48 GB GDDR6',
  },
];

// Names as recipes write them, lower-cased with everything but letters and digits removed.
// PCIe/NVL variants are left out on purpose: their peaks differ from the SXM parts'.
const GPU_NAME_PATTERNS: Record<GpuSpec['id'], RegExp> = {
  'h100-sxm-80gb': /^h100(sxm5?)?(80gb?)?$/,
  'h200-141gb': /^h200(sxm)?(141gb?)?$/,
  'a100-80gb': /^a100(sxm4?)?(80gb?)?$/,
  'a800-80gb': /^a800(sxm4?)?(80gb?)?$/,
  'l40s-48gb': /^l40s(48gb?)?$/,
};

/** Catalog entry for a GPU name as recipes write it ("L40S", "H100-SXM-80GB", "A800-80G"), or undefined. */
export function findGpu(name: string): GpuSpec | undefined {
  const key = name.toLowerCase().replace(/^nvidia/, '').replace(/[^a-z0-9]/g, '');
  return GPU_CATALOG.find((g) => g.id.replace(/[^a-z0-9]/g, '') === key || GPU_NAME_PATTERNS[g.id].test(key));
}

// ---------------------------------------------------------------------------------------------
// Tokens, FLOPs, hours
// ---------------------------------------------------------------------------------------------

/** Tokens per stage (seqLength × batch × accumulation × steps, contracts' `stageTokens`) and their sum. */
export function recipeTokens(stages: readonly Pick<RecipeStage, 'seqLength' | 'batchSize' | 'gradientAccumulation' | 'steps'>[]): {
  perStage: number[];
  total: number;
} {
  // Under ring attention the GPUs share one sequence, so the GPU count does not multiply tokens.
  const perStage = stages.map((s) => stageTokens(s));
  return { perStage, total: perStage.reduce((a, b) => a + b, 0) };
}

/** How the attention term of the FLOPs estimate is counted. */
export type AttentionFlops = 'full' | 'causal';

/**
 * Training FLOPs per token: 6N + 12·layers·d_model·L (PaLM, Chowdhery et al. 2022, appendix B);
 * 'causal' halves the attention term because a causal mask skips half the score matrix.
 * N defaults to `paramCount(config).total` (embeddings included, as the field notes count it).
 * `withoutEmbeddings` takes the input embedding (a table lookup, no matmul) out of N and keeps
 * lm_head, which is a matmul; with tied embeddings the shared matrix stays, since lm_head uses it.
 * The difference matters for small models: embed_tokens is 27% of a 4-layer Llama-3-8B's
 * parameters and 6.5% of the 32-layer one's.
 */
export function flopsPerToken(
  c: LlamaShape,
  seqLength: number,
  opts: { attention?: AttentionFlops; params?: number } = {},
): { total: number; dense: number; attention: number; withoutEmbeddings: number } {
  requirePositive(seqLength, 'seqLength', 'INVALID_LENGTH');
  const p = paramCount(c);
  const n = opts.params ?? p.total;
  // PaLM writes d_model for the width of q·kᵀ and attn·v; that width is heads × headDim, which is
  // d_model for Llama but not for Gemma2 (16 × 256 = 4096 against 3584). Sliding-window layers are
  // counted at full length: an upper bound for Gemma2 past its 4K window.
  const full = 12 * c.numLayers * c.numAttentionHeads * c.headDim * seqLength;
  const attention = (opts.attention ?? 'full') === 'causal' ? full / 2 : full;
  const dense = 6 * n;
  const lookup = p.lmHead === 0 ? 0 : p.embedTokens;
  return { total: dense + attention, dense, attention, withoutEmbeddings: dense - 6 * lookup + attention };
}

/** Inputs shared by the compute and throughput estimates. */
export interface ComputeInput {
  tokens: number;
  flopsPerToken: number;
  gpus: number;
  /** Peak FLOP/s of one GPU. */
  peakFlops: number;
}

/** A compute input's hardware: a positive number of GPUs with a positive peak. */
function requireGpus(i: ComputeInput): void {
  requirePositive(i.gpus, 'gpus', 'INVALID_GPU');
  requirePositive(i.peakFlops, 'peakFlops', 'INVALID_GPU');
}

/** Compute of a training run. */
export interface ComputeEstimate {
  totalFlops: number;
  /** Wall-clock hours: tokens × FLOPs/token ÷ (GPUs × peak × MFU × 3600). */
  wallHours: number;
  wallMinutes: number;
  /** GPU-hours = wallHours × GPUs = tokens × FLOPs/token ÷ (peak × MFU × 3600). */
  gpuHours: number;
}

/**
 * Model-FLOPs utilisation a plan assumes when none is given: an assumption for multi-GPU
 * long-context training (ring attention and ZeRO-3 communicate every step), not a measurement.
 * For scale: one H200 training a 4-layer Llama-3-8B-shaped model alone (batch 1, bf16, gradient
 * checkpointing, no communication) reached 0.58–0.67 at 8K–64K by the planner's FLOPs formula,
 * 0.44–0.58 with the embedding left out of N.
 */
export const DEFAULT_MFU = 0.4;

/**
 * Wall-clock and GPU-hours for `tokens` at a model-FLOPs utilisation `mfu` (0 < mfu ≤ 1).
 * Note: the field notes write "GPU-hours = tokens × FLOPs/token ÷ (GPUs × peak × MFU × 3600)";
 * dividing by the GPU count gives wall-clock hours, so that expression is `wallHours` here and
 * GPU-hours is wallHours × GPUs.
 */
export function trainingCompute(i: ComputeInput & { mfu: number }): ComputeEstimate {
  requireGpus(i);
  if (!(i.mfu > 0 && i.mfu <= 1)) throw new LongctxError('INVALID_MFU', `mfu must be in (0, 1], got ${i.mfu}`, 'mfu');
  const totalFlops = i.tokens * i.flopsPerToken;
  const wallHours = totalFlops / (i.gpus * i.peakFlops * i.mfu * 3600);
  return { totalFlops, wallHours, wallMinutes: wallHours * 60, gpuHours: wallHours * i.gpus };
}

/** What a published wall-clock time implies. */
export interface ImpliedThroughput {
  /** tokens ÷ (wall seconds × GPUs). */
  tokensPerSecondPerGpu: number;
  tokensPerSecond: number;
  /** Achieved model FLOP/s per GPU ÷ peak. */
  impliedMfu: number;
  gpuHours: number;
}

/** Throughput per GPU and MFU implied by a published wall-clock time. */
export function impliedThroughput(i: ComputeInput & { wallMinutes: number }): ImpliedThroughput {
  requirePositive(i.wallMinutes, 'wallMinutes', 'INVALID_LENGTH');
  requireGpus(i);
  const seconds = i.wallMinutes * 60;
  const tokensPerSecond = i.tokens / seconds;
  return {
    tokensPerSecondPerGpu: tokensPerSecond / i.gpus,
    tokensPerSecond,
    impliedMfu: (i.tokens * i.flopsPerToken) / (seconds * i.gpus * i.peakFlops),
    gpuHours: (seconds / 3600) * i.gpus,
  };
}
