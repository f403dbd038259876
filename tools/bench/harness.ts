import { performance } from 'node:perf_hooks';

/**
 * Hosts the bench process allows its outbound guard to reach. Benchmarks drive the real API and
 * worker against test doubles listening on loopback, which the guard refuses unless allow-listed
 * (the test runner allows them the same way, in tools/testing/global-setup.ts).
 */
export const BENCH_OUTBOUND_ALLOW = ['127.0.0.1', 'localhost'];

/**
 * The bench process's own settings, applied by run.ts before any benchmark loads; the workers a
 * benchmark starts inherit them. Entries already in CTXLAB_OUTBOUND_ALLOW stay. `npm start` and
 * the portal never see these: they are set only for `npm run bench`.
 */
export function prepareBenchEnv(env: Record<string, string | undefined> = process.env): void {
  const allow = (env.CTXLAB_OUTBOUND_ALLOW ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  env.CTXLAB_OUTBOUND_ALLOW = [...new Set([...allow, ...BENCH_OUTBOUND_ALLOW])].join(',');
}

/** One measured number. `pass` is set when the issue names a target for it. */
export interface BenchResult {
  suite: string;
  name: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
  note?: string;
}

export interface Timing {
  iterations: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx]!;
}

/** Times `fn` after a warm-up; each sample is one call. */
export async function time(fn: () => unknown, opts: { iterations?: number; warmup?: number } = {}): Promise<Timing> {
  const iterations = opts.iterations ?? 1000;
  const warmup = opts.warmup ?? Math.min(100, iterations);
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = new Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await fn();
    samples[i] = performance.now() - t0;
  }
  samples.sort((a, b) => a - b);
  const sum = samples.reduce((a, b) => a + b, 0);
  return {
    iterations,
    meanMs: sum / iterations,
    p50Ms: quantile(samples, 0.5),
    p95Ms: quantile(samples, 0.95),
    maxMs: samples[samples.length - 1]!,
  };
}

/** Peak RSS growth while `fn` runs, sampled every 5 ms (plus the final reading). */
export async function withPeakMemory<T>(fn: () => Promise<T> | T): Promise<{ result: T; peakRssMb: number; ms: number }> {
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const t0 = performance.now();
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, peakRssMb: (peak - base) / 2 ** 20, ms: performance.now() - t0 };
  } finally {
    clearInterval(timer);
  }
}

/** The median of some measurements (the upper one of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

export interface Repeated<T> {
  /** Median wall time of the timed runs. */
  medianMs: number;
  minMs: number;
  maxMs: number;
  samplesMs: number[];
  /** What each timed run returned, in order. */
  results: T[];
}

/**
 * The issue-level rule for a figure: `warmup` untimed runs, then `runs` timed runs (at least 5),
 * reported as their median. Each run is one call of `fn`; what it returns is kept so a bench can
 * take the median of its own per-run figures (tokens per second, cells per second) too.
 */
export async function repeated<T>(fn: (run: number) => Promise<T> | T, opts: { runs?: number; warmup?: number } = {}): Promise<Repeated<T>> {
  const runs = Math.max(5, opts.runs ?? 5);
  for (let i = 0; i < (opts.warmup ?? 1); i++) await fn(-1 - i);
  const samplesMs: number[] = [];
  const results: T[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    results.push(await fn(i));
    samplesMs.push(performance.now() - t0);
  }
  return { medianMs: median(samplesMs), minMs: Math.min(...samplesMs), maxMs: Math.max(...samplesMs), samplesMs, results };
}
