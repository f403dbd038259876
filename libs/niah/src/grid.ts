import { MAX_AXIS_VALUES, type NiahDepthAxis, type NiahGrid, type NiahGridPreset, type NiahLengthAxis } from '@ctxlab/contracts';
import { NiahError } from './errors';

/** numpy.round: half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** numpy.linspace(start, stop, num) with endpoint=True, computed the way numpy does. */
export function linspace(start: number, stop: number, num: number): number[] {
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  const out = Array.from({ length: num }, (_v, i) => i * step + start);
  out[num - 1] = stop;
  return out;
}

/** The original harness' logistic depth curve (percent in, percent out). */
export function logisticPercent(x: number): number {
  if (x === 0 || x === 100) return x;
  return Math.round((100 / (1 + Math.exp(-0.1 * (x - 50)))) * 1000) / 1000;
}

function dedupeSorted(values: number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

export function lengthValues(axis: NiahLengthAxis): number[] {
  switch (axis.kind) {
    case 'linspace':
      if (axis.max < axis.min) throw new NiahError('INVALID_SPEC', `length max ${axis.max} is below min ${axis.min}`);
      return dedupeSorted(linspace(axis.min, axis.max, axis.count).map(roundHalfEven));
    case 'step': {
      if (axis.max < axis.min) throw new NiahError('INVALID_SPEC', `length max ${axis.max} is below min ${axis.min}`);
      const n = lengthCount(axis);
      tooManyValues('length', n);
      return Array.from({ length: n }, (_v, i) => axis.min + i * axis.step);
    }
    case 'list':
      return dedupeSorted(axis.values);
  }
}

/** Depths as fractions in [0, 1]. */
export function depthValues(axis: NiahDepthAxis): number[] {
  switch (axis.kind) {
    case 'linspace': {
      const pct = linspace(axis.min * 100, axis.max * 100, axis.count);
      const values = axis.curve === 'sigmoid' ? pct.map(logisticPercent) : pct.map(roundHalfEven);
      return dedupeSorted(values.map((p) => p / 100));
    }
    case 'step': {
      if (axis.max < axis.min) throw new NiahError('INVALID_SPEC', `depth max ${axis.max} is below min ${axis.min}`);
      // Exactly the values counted (a step far below the 1e-9 rounding must not loop until it adds up).
      const n = depthCount(axis);
      tooManyValues('depth', n);
      return dedupeSorted(Array.from({ length: n }, (_v, i) => Math.min(1, Math.round((axis.min + i * axis.step) * 1e9) / 1e9)));
    }
    case 'list':
      return dedupeSorted(axis.values);
  }
}

/** A step axis is counted before it is listed: a spec that slipped past the schema is refused, not expanded. */
function tooManyValues(what: string, n: number) {
  if (n > MAX_AXIS_VALUES) throw new NiahError('INVALID_SPEC', `the ${what} axis has ${n.toLocaleString('en-US')} values; at most ${MAX_AXIS_VALUES.toLocaleString('en-US')}`);
}

/** Values a length axis has, at most (duplicates after rounding are dropped later), counted without listing them. */
export function lengthCount(axis: NiahLengthAxis): number {
  switch (axis.kind) {
    case 'linspace':
      return axis.max < axis.min ? 0 : axis.count;
    case 'step':
      return axis.max < axis.min ? 0 : Math.floor((axis.max - axis.min) / axis.step) + 1;
    case 'list':
      return axis.values.length;
  }
}

/** The sum of an axis' lengths, at most, without listing them. */
function lengthSum(axis: NiahLengthAxis): number {
  const n = lengthCount(axis);
  switch (axis.kind) {
    case 'linspace':
      return (n * (axis.min + axis.max)) / 2;
    case 'step':
      return n * axis.min + (axis.step * n * (n - 1)) / 2;
    case 'list':
      return axis.values.reduce((a, v) => a + v, 0);
  }
}

export function depthCount(axis: NiahDepthAxis): number {
  switch (axis.kind) {
    case 'linspace':
      return axis.count;
    case 'step':
      return axis.max < axis.min ? 0 : Math.floor((axis.max - axis.min) / axis.step + 1e-9) + 1;
    case 'list':
      return axis.values.length;
  }
}

export interface GridSize {
  cells: number;
  /** Prompt tokens the cells add up to. */
  promptTokens: number;
}

/**
 * What a grid costs, from its axes' definitions alone: an upper bound (rounding may merge a few
 * values), computed before anything is listed, so a grid of billions of cells is refused in
 * microseconds rather than expanded.
 */
export function gridSize(grid: NiahGrid): GridSize {
  const { lengths, depths, samples } = gridAxes(grid);
  const d = depthCount(depths);
  return { cells: lengthCount(lengths) * d * samples, promptTokens: lengthSum(lengths) * d * samples };
}

export interface GridPreset {
  lengths: NiahLengthAxis;
  depths: NiahDepthAxis;
  samples: number;
  /** Digits of value-retrieval numbers in the published runs. */
  digits: number;
  layout: 'chat' | 'single';
  note: string;
}

export const GRID_PRESETS: Record<NiahGridPreset, GridPreset> = {
  gradient: {
    // 100 … 1,140,200 in steps of 86,675: 14 lengths, the last 1,126,875 (the next step would pass the max).
    lengths: { kind: 'step', min: 100, max: 1_140_200, step: 86_675 },
    depths: { kind: 'step', min: 0, max: 1, step: 0.2 },
    samples: 1,
    digits: 8,
    layout: 'chat',
    note: "Gradient's Llama-3 1048K evaluation: 14 lengths × 6 depths, 1 sample, 8-digit numbers.",
  },
  '360zhinao': {
    // 360k/niah/*.py: context_lengths_min=1024, max=360000, num_intervals=10 (np.round(np.linspace));
    // document_depth_percent_intervals=21 linear (0, 5, …, 100); rnd_number_digits=7; the prompt is
    // one user message `context + "\n\n" + question + " " + instruction`.
    lengths: { kind: 'linspace', min: 1024, max: 360_000, count: 10 },
    depths: { kind: 'linspace', min: 0, max: 1, count: 21, curve: 'linear' },
    samples: 1,
    digits: 7,
    layout: 'single',
    note: "360Zhinao's llama3-8B-360Zhinao-360k-Instruct evaluation: 10 lengths × 21 depths, 7-digit numbers.",
  },
};

export interface ResolvedGrid {
  lengths: number[];
  depths: number[];
  samples: number;
}

/** The axes a grid asks for: its own, or its preset's. */
function gridAxes(grid: NiahGrid): { lengths: NiahLengthAxis; depths: NiahDepthAxis; samples: number } {
  const preset = grid.preset ? GRID_PRESETS[grid.preset] : undefined;
  const lengths = grid.lengths ?? preset?.lengths;
  const depths = grid.depths ?? preset?.depths;
  if (!lengths || !depths) throw new NiahError('INVALID_SPEC', 'a grid needs a preset, or both lengths and depths');
  return { lengths, depths, samples: grid.samples ?? preset?.samples ?? 1 };
}

export function resolveGrid(grid: NiahGrid): ResolvedGrid {
  const { lengths, depths, samples } = gridAxes(grid);
  return { lengths: lengthValues(lengths), depths: depthValues(depths), samples };
}
