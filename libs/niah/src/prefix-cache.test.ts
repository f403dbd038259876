import { describe, expect, it } from 'vitest';
import { PrefixCacheSimulator, simulatePrefill } from './prefix-cache';

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

  it('sums a run', () => {
    const r = simulatePrefill([seq(0, 32), seq(0, 32), [...seq(0, 16), 7, 7, 7, 7]], { blockSize: 8, capacityTokens: 1000 });
    expect(r.requests).toBe(3);
    expect(r.promptTokens).toBe(84);
    expect(r.prefillTokens).toBe(32 + 8 + 4);
  });
});
