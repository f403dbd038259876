import type { RopeScaling, ThetaRule } from '@ctxlab/contracts';
import { LongctxError, requirePositive } from './errors';
import { fmtInt, fmtNum } from './format';

/**
 * RoPE frequencies and the rules teams use to pick a new base (theta) for a longer context.
 *
 * Notation follows docs/field-notes.md §2: d = head dim, θ0 = original base, L0 = original
 * context, s = L / L0. All arithmetic is float64; Hugging Face computes inv_freq in float32,
 * so per-pair frequencies here can differ from a torch tensor in the last ~7 significant digits.
 */

/** The original model's RoPE setup. */
export interface RopeBase {
  /** Original rope base θ0 (config `rope_theta`). */
  theta0: number;
  /** Rotary dimension d (config `head_dim`); must be even. */
  headDim: number;
  /** Original context L0 (config `max_position_embeddings`, or rope_scaling's original one). */
  originalLength: number;
}

function checkHeadDim(headDim: number): void {
  if (!Number.isInteger(headDim) || headDim < 4 || headDim % 2 !== 0) {
    throw new LongctxError('INVALID_HEAD_DIM', `headDim must be an even integer ≥ 4, got ${headDim}`, 'headDim');
  }
}

function checkTheta(theta: number, field: string): void {
  // θ ≤ 1 makes ln θ ≤ 0 and every "period" formula meaningless.
  if (!Number.isFinite(theta) || theta <= 1) throw new LongctxError('INVALID_THETA', `${field} must be a number > 1, got ${theta}`, field);
}

function checkBase(b: RopeBase): void {
  checkTheta(b.theta0, 'theta0');
  checkHeadDim(b.headDim);
  requirePositive(b.originalLength, 'originalLength', 'INVALID_LENGTH');
}

/** Inverse frequencies 1/θ^(2i/d), i = 0 … d/2−1, one per rotary pair (HF `_compute_default_rope_parameters`). */
export function ropeInvFreq(theta: number, headDim: number): number[] {
  checkTheta(theta, 'theta');
  checkHeadDim(headDim);
  const out = new Array<number>(headDim / 2);
  for (let i = 0; i < headDim / 2; i++) out[i] = 1 / theta ** ((2 * i) / headDim);
  return out;
}

/** Wavelength in tokens of each rotary pair: 2π / inv_freq. */
export function ropeWavelengths(invFreq: readonly number[]): number[] {
  return invFreq.map((f) => (2 * Math.PI) / f);
}

// ---------------------------------------------------------------------------------------------
// NTK-aware rules
// ---------------------------------------------------------------------------------------------

/**
 * Fixed NTK-aware base θ0 · s^(d/(d−2)) (bloc97's "NTK-aware scaled RoPE", 2023), unrounded.
 * s is clamped to ≥ 1: a target inside the original context keeps θ0.
 */
export function ntkTheta(b: RopeBase & { targetLength: number }): number {
  checkBase(b);
  requirePositive(b.targetLength, 'targetLength', 'INVALID_LENGTH');
  const s = Math.max(1, b.targetLength / b.originalLength);
  return b.theta0 * s ** (b.headDim / (b.headDim - 2));
}

/**
 * Dynamic NTK base θ0 · ((α·L/L0) − (α−1))^(d/(d−2)), unrounded — the formula of HF transformers'
 * `_compute_dynamic_ntk_parameters` with α = rope_scaling.factor. Like HF it only applies when
 * L > L0; otherwise θ0 is returned.
 */
export function dynamicNtkTheta(b: RopeBase & { targetLength: number; alpha: number }): number {
  checkBase(b);
  requirePositive(b.targetLength, 'targetLength', 'INVALID_LENGTH');
  requirePositive(b.alpha, 'alpha', 'INVALID_FACTOR');
  if (b.targetLength <= b.originalLength) return b.theta0;
  const x = (b.alpha * b.targetLength) / b.originalLength - (b.alpha - 1);
  return b.theta0 * x ** (b.headDim / (b.headDim - 2));
}

/** One step of a progressive dynamic-NTK chain. */
export interface DynamicNtkStep {
  fromLength: number;
  fromTheta: number;
  length: number;
  /** Unrounded formula value. */
  exactTheta: number;
  /** exactTheta truncated to an integer: what the next step starts from and what goes in the config. */
  theta: number;
}

/**
 * Progressive dynamic-NTK thetas: each stage applies the dynamic formula to the previous stage,
 * with L0 = the previous stage's length and θ0 = the previous stage's theta truncated to an
 * integer. With α = 4 this reproduces Gradient's Llama-3 stages exactly:
 * 500000@8192 → 15,296,098@65536 → 207,112,184@262144 → 1,062,356,830@524288.
 */
export function dynamicNtkChain(b: RopeBase & { lengths: readonly number[]; alpha: number }): DynamicNtkStep[] {
  checkBase(b);
  const steps: DynamicNtkStep[] = [];
  let fromLength = b.originalLength;
  let fromTheta = b.theta0;
  for (const [i, length] of b.lengths.entries()) {
    requirePositive(length, 'lengths', 'INVALID_LENGTH');
    const prev = b.lengths[i - 1];
    if (prev !== undefined && !(length > prev)) {
      throw new LongctxError(
        'INVALID_LENGTH',
        `progressive length ${i + 1} (${fmtInt(length)}) must be longer than the one before it (${fmtInt(prev)})`,
        'lengths',
      );
    }
    const exactTheta = dynamicNtkTheta({ theta0: fromTheta, headDim: b.headDim, originalLength: fromLength, targetLength: length, alpha: b.alpha });
    const theta = length <= fromLength ? fromTheta : Math.trunc(exactTheta);
    steps.push({ fromLength, fromTheta, length, exactTheta, theta });
    // A stage no longer than what the model already covers leaves θ and L0 as they were.
    fromLength = Math.max(fromLength, length);
    fromTheta = theta;
  }
  return steps;
}

// ---------------------------------------------------------------------------------------------
// Critical dimension (Liu et al. 2023, "Scaling Laws of RoPE-based Extrapolation", arXiv:2310.05209)
// ---------------------------------------------------------------------------------------------

/**
 * Critical dimension d_extra = d · ln(L0/2π) / ln θ0: the rotary dims whose period fits in the
 * training context (69.968… for Llama-3). With `roundUpEven` the paper's own form: rounded up to
 * the next even integer (70 for Llama-3), since dims come in pairs.
 */
export function criticalDimension(b: RopeBase & { roundUpEven?: boolean }): number {
  checkBase(b);
  if (!(b.originalLength > 2 * Math.PI)) {
    throw new LongctxError('INVALID_LENGTH', `originalLength must exceed 2π for the critical-dimension rule, got ${b.originalLength}`, 'originalLength');
  }
  const dExtra = (b.headDim * Math.log(b.originalLength / (2 * Math.PI))) / Math.log(b.theta0);
  return b.roundUpEven ? 2 * Math.ceil(dExtra / 2) : dExtra;
}

/**
 * Base that lets target length T extrapolate under the critical-dimension rule:
 * θ(T) = (T/2π)^(d/d_extra), unrounded and unclamped (θ(L0) = θ0 exactly when d_extra is not rounded).
 * Gradient's 1048K theta 3,580,165,449 is this at T = 2^20, rounded.
 */
export function criticalDimTheta(b: RopeBase & { targetLength: number; roundUpEven?: boolean }): number {
  requirePositive(b.targetLength, 'targetLength', 'INVALID_LENGTH');
  const dExtra = criticalDimension(b);
  return (b.targetLength / (2 * Math.PI)) ** (b.headDim / dExtra);
}

/**
 * Longest context a base `theta` supports under the critical-dimension rule, T = 2π·θ^(d_extra/d)
 * (the inverse of `criticalDimTheta`), unrounded. d_extra comes from the original model (θ0, L0).
 */
export function criticalDimMaxContext(b: RopeBase & { theta: number; roundUpEven?: boolean }): number {
  checkTheta(b.theta, 'theta');
  const dExtra = criticalDimension(b);
  return 2 * Math.PI * b.theta ** (dExtra / b.headDim);
}

/**
 * Longest integer context T whose critical-dimension theta, rounded to an integer as
 * `thetaForTarget` rounds it, is ≤ `theta`. Unlike floor(criticalDimMaxContext) this agrees with
 * the forward rule at the boundary: the rounded theta for 2^20 (3,580,165,449, a hair below the
 * exact value) supports 2^20, not 2^20 − 1.
 */
export function criticalDimSupportedLength(b: RopeBase & { theta: number; roundUpEven?: boolean }): number {
  const required = (t: number) => Math.round(criticalDimTheta({ ...b, targetLength: t }));
  let t = Math.floor(criticalDimMaxContext(b));
  // The float inverse is off by at most a token or two; walk to the exact boundary (bounded).
  for (let i = 0; i < 64 && required(t + 1) <= b.theta; i++) t++;
  for (let i = 0; i < 64 && t > 0 && required(t) > b.theta; i++) t--;
  return Math.max(0, t);
}

// ---------------------------------------------------------------------------------------------
// YaRN (Peng et al. 2023, arXiv:2309.00071; HF `_compute_yarn_parameters`)
// ---------------------------------------------------------------------------------------------

/** YaRN correction dimension for `rotations` full turns in L0: d·ln(L0/(r·2π)) / (2·ln θ) (HF `find_correction_dim`). */
export function yarnCorrectionDim(rotations: number, headDim: number, theta: number, originalLength: number): number {
  return (headDim * Math.log(originalLength / (rotations * 2 * Math.PI))) / (2 * Math.log(theta));
}

/** Per-pair YaRN frequencies and the values that produced them. */
export interface YarnRope {
  invFreq: number[];
  /** First ramp pair: floor(corr_dim(β_fast)), clamped at 0. Pairs below it keep their frequency. */
  low: number;
  /** Last ramp pair: ceil(corr_dim(β_slow)), clamped at d−1. Pairs above it are interpolated by 1/s. */
  high: number;
  /** Share of each pair's original (extrapolated) frequency kept: 1 → unchanged, 0 → divided by s. */
  extrapolationFactor: number[];
  /** Attention temperature 0.1·ln(s) + 1 (1 when s ≤ 1), HF `get_mscale`. */
  attentionFactor: number;
}

/** YaRN per-pair inverse frequencies: keep high-frequency pairs, interpolate low ones by 1/s, linear ramp between. */
export function yarnRope(b: {
  theta: number;
  headDim: number;
  factor: number;
  originalLength: number;
  betaFast?: number;
  betaSlow?: number;
}): YarnRope {
  checkTheta(b.theta, 'theta');
  checkHeadDim(b.headDim);
  requirePositive(b.factor, 'factor', 'INVALID_FACTOR');
  requirePositive(b.originalLength, 'originalLength', 'INVALID_LENGTH');
  const betaFast = b.betaFast ?? 32;
  const betaSlow = b.betaSlow ?? 1;
  const d = b.headDim;
  // HF find_correction_range(truncate=True): floor/ceil, then clamp to [0, dim−1].
  const low = Math.max(Math.floor(yarnCorrectionDim(betaFast, d, b.theta, b.originalLength)), 0);
  const high = Math.min(Math.ceil(yarnCorrectionDim(betaSlow, d, b.theta, b.originalLength)), d - 1);
  // HF linear_ramp_factor: avoid a zero-width ramp.
  const hi = low === high ? high + 0.001 : high;
  const base = ropeInvFreq(b.theta, d);
  const extrapolationFactor: number[] = [];
  const invFreq = base.map((f, i) => {
    const ramp = Math.min(1, Math.max(0, (i - low) / (hi - low)));
    const keep = 1 - ramp;
    extrapolationFactor.push(keep);
    return (f / b.factor) * (1 - keep) + f * keep;
  });
  const attentionFactor = b.factor <= 1 ? 1 : 0.1 * Math.log(b.factor) + 1;
  return { invFreq, low, high, extrapolationFactor, attentionFactor };
}

// ---------------------------------------------------------------------------------------------
// Llama-3.1 "llama3" scaling (HF `_compute_llama3_parameters`)
// ---------------------------------------------------------------------------------------------

/** Llama-3.1 scaling parameters; defaults are Meta's published ones. */
export interface Llama3ScalingParams {
  factor?: number;
  lowFreqFactor?: number;
  highFreqFactor?: number;
  originalLength?: number;
}

/**
 * Llama-3.1 per-pair inverse frequencies: wavelength < L0/high unchanged, > L0/low divided by
 * factor, in between smooth = (L0/wavelength − low)/(high − low), inv = (1−smooth)·inv/factor + smooth·inv.
 */
export function llama3InvFreq(b: { theta: number; headDim: number } & Llama3ScalingParams): number[] {
  const factor = b.factor ?? 8;
  const low = b.lowFreqFactor ?? 1;
  const high = b.highFreqFactor ?? 4;
  const l0 = b.originalLength ?? 8192;
  requirePositive(factor, 'factor', 'INVALID_FACTOR');
  if (!(high > low)) throw new LongctxError('INVALID_FACTOR', `highFreqFactor (${high}) must exceed lowFreqFactor (${low})`, 'highFreqFactor');
  const lowFreqWavelen = l0 / low;
  const highFreqWavelen = l0 / high;
  return ropeInvFreq(b.theta, b.headDim).map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highFreqWavelen) return f;
    if (wavelen > lowFreqWavelen) return f / factor;
    const smooth = (l0 / wavelen - low) / (high - low);
    return ((1 - smooth) * f) / factor + smooth * f;
  });
}

// ---------------------------------------------------------------------------------------------
// One entry point
// ---------------------------------------------------------------------------------------------

interface TargetBase extends RopeBase {
  /** Context length the extended model must handle. */
  targetLength: number;
}

/** What `thetaForTarget` takes: a rule plus that rule's knobs. */
export type ThetaRequest =
  | (TargetBase & { rule: 'manual'; theta: number })
  | (TargetBase & { rule: 'ntk' })
  | (TargetBase & {
      rule: 'dynamic-ntk';
      /** Dynamic NTK factor α; default 4, the value that reproduces Gradient's progressive thetas. */
      alpha?: number;
      /** Intermediate progressive stage lengths (ascending, each < targetLength); the chain ends at targetLength. */
      via?: readonly number[];
    })
  | (TargetBase & { rule: 'critical-dim' | 'critical-dim-even' })
  | (TargetBase & { rule: 'yarn'; factor?: number; betaFast?: number; betaSlow?: number })
  | (TargetBase & { rule: 'llama3'; factor?: number; lowFreqFactor?: number; highFreqFactor?: number });

/** What `thetaForTarget` returns: the base to write into the config and how it was reached. */
export interface ThetaResult {
  rule: ThetaRule;
  /**
   * Integer base for config.json. Rounding per rule: ntk and critical-dim round to nearest (as the
   * field notes' 3,580,165,449 does); dynamic-ntk truncates (as Gradient's stages do); yarn and
   * llama3 keep θ0 because they rescale frequencies instead; manual is passed through.
   */
  theta: number;
  /** Unrounded formula value. */
  exactTheta: number;
  /** The formula with its numbers, for the API/CLI to show. */
  explanation: string;
  /** rope_scaling to put next to the theta (yarn, llama3), else null. */
  ropeScaling: RopeScaling | null;
  /** Progressive steps (dynamic-ntk only). */
  chain?: DynamicNtkStep[];
  /** d_extra used (critical-dim rules only). */
  criticalDimension?: number;
}

/** New RoPE base for `targetLength` under the chosen rule, with the working shown. */
export function thetaForTarget(req: ThetaRequest): ThetaResult {
  checkBase(req);
  requirePositive(req.targetLength, 'targetLength', 'INVALID_LENGTH');
  const { theta0, headDim: d, originalLength: l0, targetLength: t } = req;
  const exponent = `${d}/${d - 2}`;
  switch (req.rule) {
    case 'manual': {
      checkTheta(req.theta, 'theta');
      return { rule: 'manual', theta: req.theta, exactTheta: req.theta, explanation: `manual: θ = ${fmtNum(req.theta)} (given)`, ropeScaling: null };
    }
    case 'ntk': {
      const exact = ntkTheta(req);
      const theta = Math.round(exact);
      const s = t / l0;
      const explanation =
        s <= 1
          ? `NTK-aware: target ${fmtInt(t)} ≤ original ${fmtInt(l0)}, θ unchanged = ${fmtInt(theta0)}`
          : `NTK-aware: θ = θ0 · s^(d/(d−2)) = ${fmtNum(theta0)} · (${fmtInt(t)}/${fmtInt(l0)})^(${exponent}) = ${fmtNum(exact)} → ${fmtInt(theta)} (rounded)`;
      return { rule: 'ntk', theta, exactTheta: exact, explanation, ropeScaling: null };
    }
    case 'dynamic-ntk': {
      const alpha = req.alpha ?? 4;
      const via = req.via ?? [];
      const chain = dynamicNtkChain({ theta0, headDim: d, originalLength: l0, lengths: [...via, t], alpha });
      const last = chain[chain.length - 1]!;
      const lines = chain.map((s) =>
        s.length <= s.fromLength
          ? `${fmtInt(s.length)} ≤ ${fmtInt(s.fromLength)}: θ unchanged`
          : `θ(${fmtInt(s.length)}) = ${fmtNum(s.fromTheta)} · ((${fmtNum(alpha)}·${fmtInt(s.length)}/${fmtInt(s.fromLength)}) − ${fmtNum(alpha - 1)})^(${exponent}) = ${fmtNum(s.exactTheta)} → ${fmtInt(s.theta)} (truncated)`,
      );
      const explanation = `dynamic NTK (α = ${fmtNum(alpha)}): θ' = θ0 · ((α·L/L0) − (α−1))^(d/(d−2))${chain.length > 1 ? ', each stage from the previous stage' : ''}\n${lines.join('\n')}`;
      return { rule: 'dynamic-ntk', theta: last.theta, exactTheta: last.exactTheta, explanation, ropeScaling: null, chain };
    }
    case 'critical-dim':
    case 'critical-dim-even': {
      const even = req.rule === 'critical-dim-even';
      const dExtra = criticalDimension({ ...req, roundUpEven: even });
      const formula = criticalDimTheta({ ...req, roundUpEven: even });
      // A target inside the trained context needs no change; the raw formula would lower θ.
      const exact = Math.max(formula, theta0);
      const theta = Math.round(exact);
      const dLine = even
        ? `d_extra = 2·⌈${d}·ln(${fmtInt(l0)}/2π)/ln ${fmtNum(theta0)} / 2⌉ = ${dExtra}`
        : `d_extra = ${d}·ln(${fmtInt(l0)}/2π)/ln ${fmtNum(theta0)} = ${fmtNum(dExtra, 6)}`;
      const tLine =
        formula < theta0
          ? `(${fmtInt(t)}/2π)^(${d}/d_extra) = ${fmtNum(formula)} < θ0, θ unchanged = ${fmtNum(theta0)}`
          : `θ = (T/2π)^(d/d_extra) = (${fmtInt(t)}/2π)^(${d}/${fmtNum(dExtra, 6)}) = ${fmtNum(exact)} → ${fmtInt(theta)} (rounded)`;
      return {
        rule: req.rule,
        theta,
        exactTheta: exact,
        explanation: `critical dimension${even ? ' (d_extra rounded up to even)' : ''}: ${dLine}; ${tLine}`,
        ropeScaling: null,
        criticalDimension: dExtra,
      };
    }
    case 'yarn': {
      const factor = req.factor ?? Math.max(1, t / l0);
      const y = yarnRope({ theta: theta0, headDim: d, factor, originalLength: l0, betaFast: req.betaFast, betaSlow: req.betaSlow });
      const betaFast = req.betaFast ?? 32;
      const betaSlow = req.betaSlow ?? 1;
      return {
        rule: 'yarn',
        theta: theta0,
        exactTheta: theta0,
        explanation:
          `YaRN: θ unchanged = ${fmtNum(theta0)}; s = ${fmtNum(factor, 4)}; pairs < ${y.low} (floor corr_dim(${fmtNum(betaFast)})) keep their frequency, ` +
          `pairs > ${y.high} (ceil corr_dim(${fmtNum(betaSlow)})) are divided by s, linear ramp between; attention factor 0.1·ln(s)+1 = ${fmtNum(y.attentionFactor, 6)}`,
        ropeScaling: { type: 'yarn', factor, originalMaxPositionEmbeddings: l0, betaFast, betaSlow },
      };
    }
    case 'llama3': {
      const factor = req.factor ?? 8;
      const lowFreqFactor = req.lowFreqFactor ?? 1;
      const highFreqFactor = req.highFreqFactor ?? 4;
      // Validates the parameters the same way the frequencies would be computed.
      llama3InvFreq({ theta: theta0, headDim: d, factor, lowFreqFactor, highFreqFactor, originalLength: l0 });
      return {
        rule: 'llama3',
        theta: theta0,
        exactTheta: theta0,
        explanation:
          `llama3 scaling: θ unchanged = ${fmtNum(theta0)}; wavelength < ${fmtNum(l0 / highFreqFactor)} unchanged, > ${fmtNum(l0 / lowFreqFactor)} divided by ${fmtNum(factor)}, ` +
          `smooth = (${fmtInt(l0)}/wavelength − ${fmtNum(lowFreqFactor)})/(${fmtNum(highFreqFactor)} − ${fmtNum(lowFreqFactor)}) between`,
        ropeScaling: { type: 'llama3', factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: l0 },
      };
    }
  }
}
