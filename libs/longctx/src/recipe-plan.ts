import { recipeIssues, type ModelConfig, type RecipeSpec } from '@ctxlab/contracts';
import { findGpu, flopsPerToken, impliedThroughput, recipeTokens, trainingCompute, type AttentionFlops, type GpuSpec } from './budget';
import { LongctxError } from './errors';
import { fmtInt, fmtSci } from './format';
import { paramCount } from './memory';
import { criticalDimSupportedLength, criticalDimTheta, type RopeBase } from './rope';

/** Knobs of `planRecipe`. */
export interface PlanOptions {
  /** Model-FLOPs utilisation assumed for the time estimates, in (0, 1]. */
  mfu: number;
  /** Cost every stage on this GPU (catalog name or a spec); default: each stage's own gpuType, looked up in the catalog. */
  gpu?: string | GpuSpec;
  /** Attention FLOPs counting; default 'full' as the field notes' formula does. */
  attention?: AttentionFlops;
  /** Rule for "does this theta support this length"; default critical-dim (critical-dim-even when the recipe uses it). */
  supportRule?: 'critical-dim' | 'critical-dim-even';
  /**
   * Tokens each stage really trained on (the sum of its samples' lengths, no padding), by stage
   * index; null or absent where unknown. A stated count replaces seqLength × batchSize ×
   * gradientAccumulation × steps in the FLOPs, the GPU-hours and the implied MFU. It can be at most
   * that product, since no sequence is longer than seqLength. FLOPs per token keep the attention
   * term at seqLength, an upper bound when samples are shorter. A stage's own `trainedTokens` (the
   * recipe states it) applies where this gives none.
   */
  trainedTokens?: readonly (number | null | undefined)[];
}

/** A finding that does not block the recipe, with the field it is about. */
export interface PlanIssue {
  path: (string | number)[];
  message: string;
}

/** What a published wall-clock time implies about one stage. */
export interface PublishedStageRate {
  wallMinutes: number;
  tokensPerSecondPerGpu: number;
  /** By the planner's FLOPs per token (embeddings included); null when the stage's GPU is not in the catalog (no peak to compare with). */
  impliedMfu: number | null;
  /** The same with the input embedding left out of N (`flopsPerToken(...).withoutEmbeddings`). */
  impliedMfuWithoutEmbeddings: number | null;
  gpuHours: number;
}

/** One stage of a recipe plan. */
export interface StagePlan {
  index: number;
  name: string;
  seqLength: number;
  ropeTheta: number;
  /** Tokens the FLOPs and hours use: the stated trained tokens when given, else `fullLengthTokens`. */
  tokens: number;
  /** seqLength × batchSize × gradientAccumulation × steps: every sequence counted at the full seqLength. */
  fullLengthTokens: number;
  /** Whether `tokens` is a stated trained-token count (PlanOptions.trainedTokens). */
  tokensStated: boolean;
  flopsPerToken: number;
  /** FLOPs per token without the input embedding's parameters (`flopsPerToken(...).withoutEmbeddings`). */
  flopsPerTokenWithoutEmbeddings: number;
  totalFlops: number;
  gpus: number;
  /** Catalog entry the cost uses; null when the GPU is unknown (then the hour fields are null). */
  gpu: GpuSpec | null;
  gpuHours: number | null;
  wallHours: number | null;
  wallMinutes: number | null;
  /** Theta the support rule asks for at this stage's length, rounded (not clamped at θ0, unlike thetaForTarget). */
  requiredTheta: number;
  /** Longest context this stage's theta supports under the support rule (`criticalDimSupportedLength`). */
  supportedContext: number;
  published: PublishedStageRate | null;
}

/** Result of `planRecipe`. */
export interface RecipePlan {
  params: number;
  supportRule: 'critical-dim' | 'critical-dim-even';
  stages: StagePlan[];
  totals: { tokens: number; totalFlops: number; gpuHours: number | null; wallHours: number | null };
  /** Contract violations from contracts' `recipeIssues`: the recipe is wrong as written. */
  errors: PlanIssue[];
  /** Plausible but worth a look: a length beyond what its theta supports, an unknown GPU, a published wall time that implies MFU above 1. */
  warnings: PlanIssue[];
}

function resolveGpu(g: string | GpuSpec | undefined, stageGpu: string): GpuSpec | null {
  if (g === undefined) return findGpu(stageGpu) ?? null;
  if (typeof g !== 'string') return g;
  const found = findGpu(g);
  if (!found) throw new LongctxError('INVALID_GPU', `GPU "${g}" is not in the catalog`, 'gpu');
  return found;
}

/**
 * Plans a recipe against its base model: per-stage tokens, FLOPs, GPU-hours and wall time at
 * `mfu`, what published wall times imply, the recipe's contract errors, and warnings for
 * lengths beyond what a stage's theta supports under the critical-dimension rule and for
 * published wall times that imply MFU above 1.
 */
export function planRecipe(spec: RecipeSpec, model: ModelConfig, opts: PlanOptions): RecipePlan {
  if (!(opts.mfu > 0 && opts.mfu <= 1)) throw new LongctxError('INVALID_MFU', `mfu must be in (0, 1], got ${opts.mfu}`, 'mfu');
  const supportRule = opts.supportRule ?? (spec.thetaRule === 'critical-dim-even' ? 'critical-dim-even' : 'critical-dim');
  const even = supportRule === 'critical-dim-even';
  const scaling = model.ropeScaling;
  const base: RopeBase = {
    theta0: model.ropeTheta,
    headDim: model.headDim,
    // With yarn/llama3 scaling the trained context is the original one, not the extended maximum.
    originalLength: scaling && 'originalMaxPositionEmbeddings' in scaling ? scaling.originalMaxPositionEmbeddings : model.maxPositionEmbeddings,
  };
  const params = paramCount(model).total;
  const fullLength = recipeTokens(spec.stages).perStage;
  const stated = opts.trainedTokens ?? [];
  if (stated.length > spec.stages.length) {
    throw new LongctxError('INVALID_TOKENS', `trainedTokens has ${stated.length} entries but the recipe has ${spec.stages.length} stage${spec.stages.length === 1 ? '' : 's'}`, 'trainedTokens');
  }
  const tokens = fullLength.map((full, i) => {
    // A count given for this plan wins over the one the recipe states for the stage.
    const t = stated[i] ?? spec.stages[i]!.trainedTokens;
    if (t === null || t === undefined) return full;
    if (!Number.isInteger(t) || t <= 0 || t > full) {
      throw new LongctxError(
        'INVALID_TOKENS',
        `trainedTokens[${i}] must be a positive integer of at most ${fmtInt(full)} (seqLength × batchSize × gradientAccumulation × steps), got ${t}`,
        'trainedTokens',
      );
    }
    return t;
  });
  const warnings: PlanIssue[] = [];
  const ruleName = even ? 'critical-dimension rule (d_extra rounded up to even)' : 'critical-dimension rule';

  // Both sides use the rule's rounded theta, so "needs ≥ θ" and "supports T tokens" always agree.
  const requiredAt = (length: number): number => Math.round(criticalDimTheta({ ...base, targetLength: length, roundUpEven: even }));
  const supportedBy = (theta: number): number => (theta > 1 ? criticalDimSupportedLength({ ...base, theta, roundUpEven: even }) : 0);

  const stages = spec.stages.map((s, i): StagePlan => {
    const label = `stage ${i + 1} (${s.name})`;
    const gpu = resolveGpu(opts.gpu, s.gpuType);
    if (!gpu) {
      warnings.push({ path: ['stages', i, 'gpuType'], message: `${label}: gpuType "${s.gpuType}" is not in the GPU catalog, so its hours are not estimated` });
    }
    const flops = flopsPerToken(model, s.seqLength, { attention: opts.attention, params });
    const f = flops.total;
    const t = tokens[i]!;
    const tokensStated = (stated[i] ?? null) !== null;
    const compute = gpu ? trainingCompute({ tokens: t, flopsPerToken: f, gpus: s.gpus, peakFlops: gpu.peakBf16Flops, mfu: opts.mfu }) : null;
    const requiredTheta = requiredAt(s.seqLength);
    const supportedContext = supportedBy(s.ropeTheta);
    // Compare with the rule's rounded theta, so a theta the rule computed for exactly this length
    // (Gradient's 3,580,165,449 at 2^20) is never flagged.
    if (s.ropeTheta < requiredTheta) {
      warnings.push({
        path: ['stages', i, 'ropeTheta'],
        message: `${label}: ropeTheta ${fmtSci(s.ropeTheta)} supports about ${fmtInt(supportedContext)} tokens under the ${ruleName}, less than seqLength ${fmtInt(s.seqLength)} (which needs ≥ ${fmtInt(requiredTheta)})`,
      });
    }
    let published: PublishedStageRate | null = null;
    if (s.wallMinutes !== undefined) {
      const r = impliedThroughput({ tokens: t, flopsPerToken: f, gpus: s.gpus, peakFlops: gpu?.peakBf16Flops ?? 1, wallMinutes: s.wallMinutes });
      const mfuWithout = (r.impliedMfu * flops.withoutEmbeddings) / f;
      published = {
        wallMinutes: s.wallMinutes,
        tokensPerSecondPerGpu: r.tokensPerSecondPerGpu,
        impliedMfu: gpu ? r.impliedMfu : null,
        impliedMfuWithoutEmbeddings: gpu ? mfuWithout : null,
        gpuHours: r.gpuHours,
      };
      if (gpu && r.impliedMfu > 1) {
        const implied = `the published ${fmtInt(s.wallMinutes)} wall minutes on ${s.gpus} × ${gpu.name} imply MFU ${r.impliedMfu.toFixed(2)} (${mfuWithout.toFixed(2)} without embedding parameters), above 1, which no GPU reaches`;
        warnings.push({
          path: ['stages', i, 'wallMinutes'],
          message: tokensStated
            ? `${label}: ${implied}, even with the stated ${fmtInt(t)} trained tokens: the wall time, the GPU or the token count is wrong`
            : `${label}: ${implied}. Its ${fmtInt(t)} tokens (seqLength × batchSize × gradientAccumulation × steps) count every sample at the full ${fmtInt(s.seqLength)} tokens; when most samples are shorter, state the tokens the stage really trained on (trainedTokens) so the FLOPs, GPU-hours and implied MFU use them`,
        });
      }
    }
    return {
      index: i,
      name: s.name,
      seqLength: s.seqLength,
      ropeTheta: s.ropeTheta,
      tokens: t,
      fullLengthTokens: fullLength[i]!,
      tokensStated,
      flopsPerToken: f,
      flopsPerTokenWithoutEmbeddings: flops.withoutEmbeddings,
      totalFlops: t * f,
      gpus: s.gpus,
      gpu,
      gpuHours: compute?.gpuHours ?? null,
      wallHours: compute?.wallHours ?? null,
      wallMinutes: compute?.wallMinutes ?? null,
      requiredTheta,
      supportedContext,
      published,
    };
  });

  const last = spec.stages[spec.stages.length - 1];
  if (last) {
    const need = requiredAt(spec.targetContext);
    if (last.ropeTheta < need) {
      warnings.push({
        path: ['targetContext'],
        message: `targetContext ${fmtInt(spec.targetContext)} is beyond the ${fmtInt(supportedBy(last.ropeTheta))} tokens that the last stage's ropeTheta ${fmtSci(last.ropeTheta)} supports under the ${ruleName} (it needs ≥ ${fmtInt(need)})`,
      });
    }
  }

  const allCosted = stages.every((s) => s.gpuHours !== null);
  const sum = (k: 'gpuHours' | 'wallHours') => (allCosted ? stages.reduce((a, s) => a + (s[k] ?? 0), 0) : null);
  return {
    params,
    supportRule,
    stages,
    totals: {
      tokens: tokens.reduce((a, b) => a + b, 0),
      totalFlops: stages.reduce((a, s) => a + s.totalFlops, 0),
      gpuHours: sum('gpuHours'),
      wallHours: sum('wallHours'),
    },
    errors: recipeIssues(spec),
    warnings,
  };
}
