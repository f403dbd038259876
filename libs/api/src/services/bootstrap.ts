/**
 * Is a difference between two runs more than sampling noise? A percentile bootstrap over cells:
 * each run's scored cells are resampled with replacement within their groups (a grid cell, a
 * task at a length, a length), independently for the two runs, the row's statistic is computed
 * on both resamples, and the interval is read off the sorted differences. The RNG is seeded per
 * row, so the page and the API (and every reload) give the same interval.
 */
import { hashSeed, Rng } from '@ctxlab/niah';

/** Cells' scores by group; a statistic sees only groups with at least one scored cell. */
export type Groups = ReadonlyMap<string, ArrayLike<number>>;

export function sumOf(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return s;
}
export type Statistic = (groups: Groups) => number | null;

export interface BootstrapOptions {
  resamples: number;
  /** Two-sided coverage, e.g. 0.95. */
  confidence: number;
  seed: number;
}

export const BOOTSTRAP_RESAMPLES = 2000;
export const BOOTSTRAP_CONFIDENCE = 0.95;

/** The footnote the pages print under a scorecard: what a verdict means. */
export const BOOTSTRAP_METHOD =
  `Verdicts: percentile bootstrap ${Math.round(BOOTSTRAP_CONFIDENCE * 100)}% interval of the difference (this model − comparison), ` +
  `${BOOTSTRAP_RESAMPLES.toLocaleString('en-US')} resamples of each run's scored cells within their groups (grid cell, task × length, length), seeded per row. ` +
  '"better" or "worse" when the interval excludes 0, in the row\'s direction (perplexity: lower is better); "no clear difference" when it contains 0.';

/** The mean of the groups' means: NIAH's average over grid cells, RULER's average over tasks. */
export const meanOfGroupMeans: Statistic = (groups) => {
  let sum = 0;
  let n = 0;
  for (const values of groups.values()) {
    if (!values.length) continue;
    sum += sumOf(values) / values.length;
    n++;
  }
  return n ? sum / n : null;
};

/** The geometric mean over every cell: perplexity's average (as the local check reports it). */
export const geometricMean: Statistic = (groups) => {
  let logs = 0;
  let n = 0;
  for (const values of groups.values()) {
    for (let i = 0; i < values.length; i++) logs += Math.log(values[i]!);
    n += values.length;
  }
  return n ? Math.exp(logs / n) : null;
};

/**
 * A resampler that writes each draw into buffers allocated once: the statistic sees the same Map
 * (same keys, refilled arrays) on every resample, so thousands of resamples allocate nothing.
 */
function resampler(groups: Groups, rng: Rng): () => Groups {
  const sources = [...groups].map(([k, v]) => [k, Float64Array.from(v), new Float64Array(v.length)] as const);
  const view = new Map<string, Float64Array>(sources.map(([k, , buf]) => [k, buf]));
  return () => {
    for (const [, values, buf] of sources) {
      const n = values.length;
      for (let i = 0; i < n; i++) buf[i] = values[Math.floor(rng.next() * n)]!;
    }
    return view;
  };
}

/** numpy's default (linear) quantile of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) throw new Error('a quantile needs at least one value');
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface DiffInterval {
  /** stat(a) − stat(b) on the cells as they are. */
  difference: number;
  low: number;
  high: number;
}

/** The interval of stat(a) − stat(b); null when either side has no statistic. */
export function bootstrapDifference(a: Groups, b: Groups, stat: Statistic, opts: BootstrapOptions): DiffInterval | null {
  const sa = stat(a);
  const sb = stat(b);
  if (sa === null || sb === null) return null;
  const rng = new Rng(opts.seed);
  const drawA = resampler(a, rng);
  const drawB = resampler(b, rng);
  const diffs: number[] = [];
  for (let r = 0; r < opts.resamples; r++) {
    const x = stat(drawA());
    const y = stat(drawB());
    if (x !== null && y !== null) diffs.push(x - y);
  }
  diffs.sort((p, q) => p - q);
  const alpha = 1 - opts.confidence;
  return { difference: sa - sb, low: quantile(diffs, alpha / 2), high: quantile(diffs, 1 - alpha / 2) };
}

export type Verdict = 'better' | 'worse' | 'no clear difference' | 'not comparable';
export type Direction = 'higher' | 'lower';

/** The verdict for this model against the comparison, from the interval of (this − comparison). */
export function verdictOf(interval: Pick<DiffInterval, 'low' | 'high'> | null, better: Direction): Verdict {
  if (!interval) return 'not comparable';
  const up = interval.low > 0;
  const down = interval.high < 0;
  if (!up && !down) return 'no clear difference';
  return up === (better === 'higher') ? 'better' : 'worse';
}

/** Options for one scorecard row: the seed is a function of the row's key. */
export const rowBootstrap = (rowKey: string): BootstrapOptions => ({ resamples: BOOTSTRAP_RESAMPLES, confidence: BOOTSTRAP_CONFIDENCE, seed: hashSeed('scorecard', rowKey) });
