import { describe, expect, it } from 'vitest';
import { bootstrapDifference, geometricMean, meanOfGroupMeans, quantile, rowBootstrap, verdictOf } from './bootstrap';

const groups = (o: Record<string, number[]>) => new Map(Object.entries(o));
const opts = { resamples: 2000, confidence: 0.95, seed: 7 };

describe('statistics', () => {
  it('averages group means (a grid cell with more samples does not weigh more)', () => {
    expect(meanOfGroupMeans(groups({ a: [100, 100, 100, 0], b: [0] }))).toBe(37.5);
    expect(meanOfGroupMeans(groups({}))).toBeNull();
  });
  it('takes the geometric mean of perplexities', () => {
    expect(geometricMean(groups({ all: [2, 8] }))).toBeCloseTo(4, 12);
  });
  it('reads quantiles as numpy does (linear)', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.025)).toBeCloseTo(1.075, 12);
    expect(quantile([5], 0.975)).toBe(5);
  });
});

describe('bootstrapDifference', () => {
  it('is exact when neither run varies: 100 vs 0 everywhere', () => {
    const r = bootstrapDifference(groups({ a: Array(20).fill(100) }), groups({ a: Array(20).fill(0) }), meanOfGroupMeans, opts)!;
    expect(r).toEqual({ difference: 100, low: 100, high: 100 });
  });

  it('gives the same interval for the same seed, and a different one for another seed', () => {
    const a = groups({ x: [100, 0, 100, 100, 0, 100, 0, 100, 100, 100] });
    const b = groups({ x: [0, 100, 0, 100, 0, 100, 0, 0, 100, 0] });
    const r1 = bootstrapDifference(a, b, meanOfGroupMeans, opts)!;
    const r2 = bootstrapDifference(a, b, meanOfGroupMeans, opts)!;
    const r3 = bootstrapDifference(a, b, meanOfGroupMeans, { ...opts, seed: 8 })!;
    expect(r1).toEqual(r2);
    expect(r1.difference).toBeCloseTo(30, 12);
    expect([r3.low, r3.high]).not.toEqual([r1.low, r1.high]);
    // 7/10 vs 4/10 successes: the interval is wide and contains 0.
    expect(r1.low).toBeLessThan(0);
    expect(r1.high).toBeGreaterThan(0);
  });

  it('separates 90% from 10% over 50 cells each', () => {
    const a = groups({ x: Array.from({ length: 50 }, (_, i) => (i % 10 === 0 ? 0 : 100)) });
    const b = groups({ x: Array.from({ length: 50 }, (_, i) => (i % 10 === 0 ? 100 : 0)) });
    const r = bootstrapDifference(a, b, meanOfGroupMeans, opts)!;
    expect(r.difference).toBeCloseTo(80, 12);
    expect(r.low).toBeGreaterThan(60);
    expect(r.high).toBeLessThanOrEqual(100);
  });

  it('has no interval when a side has no cells', () => {
    expect(bootstrapDifference(groups({}), groups({ x: [1] }), meanOfGroupMeans, opts)).toBeNull();
  });

  it('seeds each row from its key', () => {
    expect(rowBootstrap('ruler:avg:4096')).toEqual(rowBootstrap('ruler:avg:4096'));
    expect(rowBootstrap('ruler:avg:4096').seed).not.toBe(rowBootstrap('ruler:avg:8192').seed);
    expect(rowBootstrap('x')).toMatchObject({ resamples: 2000, confidence: 0.95 });
  });
});

describe('verdictOf', () => {
  it('reads the interval in the row direction', () => {
    expect(verdictOf({ low: 1, high: 5 }, 'higher')).toBe('better');
    expect(verdictOf({ low: -5, high: -1 }, 'higher')).toBe('worse');
    // Perplexity: lower is better, so a negative difference is an improvement.
    expect(verdictOf({ low: -5, high: -1 }, 'lower')).toBe('better');
    expect(verdictOf({ low: 1, high: 5 }, 'lower')).toBe('worse');
  });
  it('says no clear difference when the interval holds 0 (an end at 0 included)', () => {
    expect(verdictOf({ low: -1, high: 1 }, 'higher')).toBe('no clear difference');
    expect(verdictOf({ low: 0, high: 3 }, 'higher')).toBe('no clear difference');
    expect(verdictOf({ low: 0, high: 0 }, 'lower')).toBe('no clear difference');
  });
  it('says not comparable without an interval', () => {
    expect(verdictOf(null, 'higher')).toBe('not comparable');
  });
});
