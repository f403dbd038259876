import { describe, expect, it } from 'vitest';
import { PrefixCacheSimulator, prefillLowerBound, simulatePrefill } from './prefix-cache';

const seq = (from: number, n: number) => Array.from({ length: n }, (_v, i) => from + i);

describe('prefix-cache simulator', () => {
  it('reuses whole cached blocks of an identical prefix, never a partial block', () => {
    const sim = new PrefixCacheSimulator({ blockSize: 4, capacityTokens: 1000 });
    expect(sim.process(seq(0, 10))).toEqual({ promptTokens: 10, cachedTokens: 0, prefillTokens: 10 });
    // Shares 9 tokens: 2 full blocks (8 tokens) are reusable.
    expect(sim.process([...seq(0, 9), 99, 100])).toEqual({ promptTokens: 11, cachedTokens: 8, prefillTokens: 3 });
    // A different first token shares nothing (blocks are hash-chained from the start).
    expect(sim.process([42, ...seq(1, 9)]).cachedTokens).toBe(0);
  });

  it('recomputes the last block of a fully cached, block-aligned prompt', () => {
    const sim = new PrefixCacheSimulator({ blockSize: 4, capacityTokens: 1000 });
    sim.process(seq(0, 8));
    expect(sim.process(seq(0, 8))).toEqual({ promptTokens: 8, cachedTokens: 4, prefillTokens: 4 });
  });

  it('evicts least recently used blocks, a finished prompt’s tail before its prefix', () => {
    const sim = new PrefixCacheSimulator({ blockSize: 4, capacityTokens: 16 }); // 4 blocks
    sim.process(seq(0, 16)); // blocks A B C D
    sim.process(seq(100, 8)); // needs 2 blocks: evicts D then C (tail first)
    expect(sim.process(seq(0, 9)).cachedTokens).toBe(8); // A B survive
    expect(() => sim.process(seq(0, 20))).toThrow(/does not fit/);
  });

  it('bounds the prefill of any order by the distinct full blocks plus every partial block', () => {
    const prompts = [seq(0, 40), [...seq(0, 20), ...seq(500, 9)], [...seq(0, 33), 7], seq(1000, 16), [...seq(0, 20), ...seq(600, 3)]];
    const bound = prefillLowerBound(prompts, 8);
    // Blocks of 8: 0…39's five (the others' leading blocks among them), the block 16…19 500…503,
    // 1000…1015's two; then the partial blocks of 29, 34 and 23 tokens.
    expect(bound).toBe(8 * 8 + 5 + 2 + 7);
    for (const order of [prompts, [...prompts].reverse()]) {
      expect(simulatePrefill(order, { blockSize: 8, capacityTokens: 10_000 }).prefillTokens).toBe(bound);
      expect(simulatePrefill(order, { blockSize: 8, capacityTokens: 48 }).prefillTokens).toBeGreaterThanOrEqual(bound);
    }
  });

  it('sums a run', () => {
    const r = simulatePrefill([seq(0, 32), seq(0, 32), [...seq(0, 16), 7, 7, 7, 7]], { blockSize: 8, capacityTokens: 1000 });
    expect(r.requests).toBe(3);
    expect(r.promptTokens).toBe(84);
    expect(r.prefillTokens).toBe(32 + 8 + 4);
  });
});
