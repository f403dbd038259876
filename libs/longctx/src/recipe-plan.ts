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
  /** null when the stage's GPU is not in the catalog (no peak to compare with). */
  impliedMfu: number | null;
  gpuHours: number;
}

/** One stage of a recipe plan. */
export interface StagePlan {
  index: number;
  name: string;
  seqLength: number;
  ropeTheta: number;
  tokens: number;
  flopsPerToken: number;
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
  /** Plausible but worth a look: a length beyond what its theta supports, an unknown GPU. */
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
 * lengths beyond what a stage's theta supports under the critical-dimension rule.
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
  const tokens = recipeTokens(spec.stages).perStage;
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
    const f = flopsPerToken(model, s.seqLength, { attention: opts.attention, params }).total;
    const t = tokens[i]!;
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
      published = { wallMinutes: s.wallMinutes, tokensPerSecondPerGpu: r.tokensPerSecondPerGpu, impliedMfu: gpu ? r.impliedMfu : null, gpuHours: r.gpuHours };
    }
    return {
      index: i,
      name: s.name,
      seqLength: s.seqLength,
      ropeTheta: s.ropeTheta,
      tokens: t,
      flopsPerToken: f,
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
