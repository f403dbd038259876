import { PrefixCacheSimulator } from '@ctxlab/niah';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { PrefixKvCache } from './prefix-cache';

/** A tiny KV layout: the tests write each token's id (and its layer/kind/head) into its K/V to check what comes back. */
const shape = { numLayers: 2, numKeyValueHeads: 2, headDim: 3 };

/** present.* tensors for a whole prompt: element (l, kind, h, t, d) = ids[t] * 1000 + l * 100 + kind * 10 + h + d / 10. */
function presentFor(ids: readonly number[]): Record<string, ort.Tensor> {
  const { numLayers: L, numKeyValueHeads: H, headDim: D } = shape;
  const T = ids.length;
  const out: Record<string, ort.Tensor> = {};
  for (let l = 0; l < L; l++) {
    for (const [k, kind] of [
      [0, 'key'],
      [1, 'value'],
    ] as const) {
      const a = new Float32Array(H * T * D);
      for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) a[(h * T + t) * D + d] = ids[t]! * 1000 + l * 100 + k * 10 + h + d / 10;
      out[`past_key_values.${l}.${kind}`] = new ort.Tensor('float32', a, [1, H, T, D]);
    }
  }
  return out;
}

/** A seeded generator of prompts that share prefixes: repeats, extensions, block-aligned ones, strangers. */
function promptStream(seed: number, n: number, blockSize: number): number[][] {
  let x = seed >>> 0 || 1;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  const int = (k: number) => Math.floor(rnd() * k);
  const tokens = (k: number) => Array.from({ length: k }, () => int(259));
  const trunks = Array.from({ length: 4 }, () => tokens(blockSize * (2 + int(6))));
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    const prev = out[out.length - 1];
    if (prev && r < 0.15) out.push([...prev]);
    else if (prev && r < 0.3) out.push([...prev, ...tokens(1 + int(2 * blockSize))]);
    else if (r < 0.45) out.push(trunks[int(trunks.length)]!.slice(0, blockSize * (1 + int(4))));
    else if (r < 0.9) {
      const trunk = trunks[int(trunks.length)]!;
      out.push([...trunk.slice(0, int(trunk.length + 1)), ...tokens(1 + int(3 * blockSize))]);
    } else out.push(tokens(1 + int(5 * blockSize)));
  }
  return out;
}

describe('PrefixKvCache (the lab server pool) against the prefix-cache simulator', () => {
  it.each([
    { blockSize: 16, capacityTokens: 160, seed: 1 },
    { blockSize: 16, capacityTokens: 300, seed: 2 },
    { blockSize: 4, capacityTokens: 64, seed: 3 },
    { blockSize: 8, capacityTokens: 1000, seed: 4 },
  ])('cached tokens equal the simulator to the token, request by request (block $blockSize, $capacityTokens tokens)', async ({ blockSize, capacityTokens, seed }) => {
    const cache = new PrefixKvCache(shape, { blockSize, capacityTokens });
    const sim = new PrefixCacheSimulator({ blockSize, capacityTokens });
    let hits = 0;
    let evicting = false;
    for (const ids of promptStream(seed, 400, blockSize)) {
      if (Math.ceil(ids.length / blockSize) > cache.capacityBlocks) continue;
      const predicted = sim.process(ids);
      const lease = await cache.acquire('m', ids);
      expect(lease.cachedTokens).toBe(predicted.cachedTokens);
      hits += lease.cachedTokens;
      // The assembled past holds exactly the cached tokens' K/V, in order, for every layer and head.
      const past = lease.past();
      const want = presentFor(ids.slice(0, lease.cachedTokens));
      for (const [name, t] of Object.entries(want)) {
        expect(past[name]!.dims).toEqual(t.dims);
        expect(past[name]!.data).toEqual(t.data);
      }
      lease.store(presentFor(ids));
      lease.release();
      evicting ||= cache.stats.evictedBlocks > 0;
    }
    expect(hits).toBeGreaterThan(0);
    expect(evicting).toBe(true);
    expect(cache.stats.pinnedBlocks).toBe(0);
  });

  it('a fully cached block-aligned prompt recomputes its last block; one token past it reuses them all', async () => {
    const cache = new PrefixKvCache(shape, { blockSize: 16, capacityTokens: 1024 });
    const ids = Array.from({ length: 64 }, (_, i) => i);
    const run = async (p: number[]) => {
      const lease = await cache.acquire('m', p);
      lease.store(presentFor(p));
      lease.release();
      return lease.cachedTokens;
    };
    expect(await run(ids)).toBe(0);
    expect(await run(ids)).toBe(48);
    expect(await run([...ids, 7])).toBe(64);
    expect(await run(ids.slice(0, 16))).toBe(0);
    expect(await run(ids.slice(0, 17))).toBe(16);
  });

  it('another namespace (model file or theta) never reuses a block', async () => {
    const cache = new PrefixKvCache(shape, { blockSize: 16, capacityTokens: 1024 });
    const ids = Array.from({ length: 40 }, (_, i) => i % 7);
    for (const [ns, want] of [
      ['a#theta=10000', 0],
      ['a#theta=154243', 0],
      ['a#theta=10000', 32],
    ] as const) {
      const lease = await cache.acquire(ns, ids);
      expect(lease.cachedTokens).toBe(want);
      lease.store(presentFor(ids));
      lease.release();
    }
  });

  it('keys are SHA-256 chained: one token changed changes that block and every later one', () => {
    const cache = new PrefixKvCache(shape, { blockSize: 4, capacityTokens: 64 });
    const a = cache.blockKeys('m', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const b = cache.blockKeys('m', [1, 2, 3, 4, 5, 6, 0, 8, 9, 10, 11, 12]);
    expect(a).toHaveLength(3);
    expect(a[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(b[0]).toBe(a[0]);
    expect(b[1]).not.toBe(a[1]);
    expect(b[2]).not.toBe(a[2]);
  });

  it('overlapping requests: a block is a hit only once computed, pinned blocks are not evicted, and a request waits for room', async () => {
    const cache = new PrefixKvCache(shape, { blockSize: 4, capacityTokens: 48 });
    const p = Array.from({ length: 20 }, (_, i) => i);
    const first = await cache.acquire('m', p);
    // Same prompt while the first still prefills: nothing is cached yet.
    const second = await cache.acquire('m', [...p, 99]);
    expect(second.cachedTokens).toBe(0);
    expect(cache.stats.pinnedBlocks).toBe(5 + 5);
    first.store(presentFor(p));
    // The second computed its blocks too: the first copy stays, the duplicate slot is given back.
    second.store(presentFor([...p, 99]));
    expect(cache.stats.cachedBlocks).toBe(5);
    expect(cache.stats.pinnedBlocks).toBe(5);
    // 12 blocks: 5 pinned by both running requests, 7 empty; an 8-block stranger must wait for both.
    let admitted = false;
    const third = cache.acquire('m', Array.from({ length: 32 }, (_, i) => 100 + i)).then((l) => ((admitted = true), l));
    await Promise.resolve();
    expect(admitted).toBe(false);
    first.release();
    await Promise.resolve();
    expect(admitted).toBe(false);
    second.release();
    const l3 = await third;
    expect(l3.cachedTokens).toBe(0);
    l3.release();
    // The stranger evicted one block: the shared prompt's last (freed first), so its prefix survives.
    expect(cache.stats.evictedBlocks).toBe(1);
    const again = await cache.acquire('m', [...p, 1]);
    expect(again.cachedTokens).toBe(16);
    again.release();
    expect(cache.stats.pinnedBlocks).toBe(0);
  });

  it('a prompt longer than the pool is served without it; reset empties the pool only when idle', async () => {
    const cache = new PrefixKvCache(shape, { blockSize: 4, capacityTokens: 16 });
    const long = await cache.acquire('m', Array.from({ length: 17 }, (_, i) => i));
    expect(long.cachedTokens).toBe(0);
    expect(cache.stats.bypassed).toBe(1);
    const ids = [1, 2, 3, 4, 5, 6];
    const a = await cache.acquire('m', ids);
    a.store(presentFor(ids));
    expect(cache.reset()).toBe(false);
    a.release();
    expect(cache.stats.cachedBlocks).toBe(1);
    expect(cache.reset()).toBe(true);
    expect(cache.stats.cachedBlocks).toBe(0);
    expect((await cache.acquire('m', ids)).cachedTokens).toBe(0);
  });
});
