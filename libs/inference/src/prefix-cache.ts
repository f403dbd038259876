/**
 * Block-level automatic prefix caching for the lab server's onnxruntime KV cache, in the shape of
 * vLLM's (v1 KV cache manager) and with exactly the semantics of libs/niah's PrefixCacheSimulator,
 * so that the simulator's predicted prefill tokens are what this server prefills when requests
 * come one at a time:
 *
 *  - The pool holds floor(capacityTokens / blockSize) blocks. A full block of `blockSize` prompt
 *    tokens is keyed by SHA-256 chained over the previous block's key and its own token ids; the
 *    chain starts from a seed naming the model file and its RoPE theta, so a request served with
 *    another model or theta never reuses a block (its keys were rotated differently). A 256-bit
 *    key makes a collision — which would silently hand a request another prefix's K/V — beyond
 *    reach, so a hit is not re-checked token by token.
 *  - A request reuses its longest run of cached leading blocks, capped so that at least one token
 *    is computed: a fully cached, block-aligned prompt recomputes its last block. The past tensors
 *    are assembled from those blocks and only the rest of the prompt is prefilled (the engine puts
 *    the rotary rows at positions cached … prompt length).
 *  - Every block of the prompt is pinned while the request runs: its hits, any later block that
 *    happens to be cached, and a fresh slot per new full block (evicting the least recently freed
 *    block when no slot is empty). A partial last block is never cached; it takes a slot only for
 *    the moment the simulator does (it may evict), then the slot is empty again.
 *  - When the request finishes its blocks join the tail of the LRU list in reverse order (last
 *    block first), so a prompt's tail is evicted before its prefix.
 *
 * Where the lab server is not the simulator: KV of decoded tokens lives in the request's own
 * tensors, outside the pool (the simulator counts prompts only). Requests that overlap (see
 * `acquire`) can each see the pool in a state the one-at-a-time simulator never produces: a block
 * becomes a hit only once the prefill that computes it has finished, blocks pinned by running
 * requests cannot be evicted, and a request that would need more than the empty + evictable blocks
 * waits (as vLLM's scheduler keeps it waiting) until a running request frees some.
 */
import { createHash } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import type { EngineShape } from './engine';

export interface PrefixCacheConfig {
  /** KV pool size in tokens (rounded down to whole blocks). */
  capacityTokens: number;
  /** Tokens per block (vLLM's --block-size; 16 by default). */
  blockSize?: number;
}

/** Totals since the start (monotonic, as Prometheus counters are): the numbers /metrics exposes. */
export interface PrefixCacheCounters {
  /** Requests that went through the cache. */
  requests: number;
  /** Prompt tokens of requests that looked the cache up (vLLM's prefix_cache_queries). */
  queriedTokens: number;
  /** Of those, tokens served from cached blocks (vLLM's prefix_cache_hits). */
  hitTokens: number;
  /** Full blocks computed and stored. */
  storedBlocks: number;
  /** Cached blocks evicted to make room. */
  evictedBlocks: number;
  /** Requests whose prompt did not fit the pool: served without it. */
  bypassed: number;
}

/** One request's hold on the pool, from admission to release. */
export interface PrefixLease {
  /** Leading prompt tokens whose K/V come from cached blocks (a multiple of the block size). */
  readonly cachedTokens: number;
  /** past_key_values.{l}.key/value holding the cached tokens (shape [1, kvHeads, cachedTokens, headDim]). */
  past(): Record<string, ort.Tensor>;
  /** Stores the prompt's new full blocks from the prefill's present tensors (positions 0 … prompt length). */
  store(present: Record<string, ort.Tensor>): void;
  /** Unpins the request's blocks (LRU tail, last block first). Idempotent. */
  release(): void;
}

/** A block slot: its key once it holds a computed block, and its K/V for every layer. */
interface Slot {
  key: string | null;
  /** Per layer, key then value, each [kvHeads, blockSize, headDim]. */
  data: Float32Array[] | null;
  /** Requests holding it (0: on the LRU list, or empty). */
  refs: number;
  prev: Slot | null;
  next: Slot | null;
  listed: boolean;
}

interface Held {
  slot: Slot;
  /** A fresh slot this request fills (registered under `key` once stored). */
  fresh: boolean;
  key: string;
}

export class PrefixKvCache {
  readonly blockSize: number;
  readonly capacityBlocks: number;
  private readonly byKey = new Map<string, Slot>();
  private readonly empty: Slot[] = [];
  private head: Slot | null = null;
  private tail: Slot | null = null;
  private listedCount = 0;
  private readonly waiting: { blocks: number; admit: () => void }[] = [];
  private readonly counters: PrefixCacheCounters = { requests: 0, queriedTokens: 0, hitTokens: 0, storedBlocks: 0, evictedBlocks: 0, bypassed: 0 };

  constructor(
    private readonly shape: Pick<EngineShape, 'numLayers' | 'numKeyValueHeads' | 'headDim'>,
    config: PrefixCacheConfig,
  ) {
    this.blockSize = config.blockSize ?? 16;
    if (!Number.isInteger(this.blockSize) || this.blockSize < 1) throw new Error(`prefix cache: the block size must be a positive integer, got ${config.blockSize}`);
    this.capacityBlocks = Math.floor(config.capacityTokens / this.blockSize);
    for (let i = 0; i < this.capacityBlocks; i++) this.empty.push({ key: null, data: null, refs: 0, prev: null, next: null, listed: false });
  }

  get stats(): Readonly<PrefixCacheCounters> & { cachedBlocks: number; pinnedBlocks: number } {
    return { ...this.counters, cachedBlocks: this.byKey.size, pinnedBlocks: this.capacityBlocks - this.empty.length - this.listedCount };
  }

  /** Drops every cached block (vLLM's /reset_prefix_cache; the counters run on); refused while requests hold blocks. */
  reset(): boolean {
    if (this.empty.length + this.listedCount !== this.capacityBlocks) return false;
    for (let s = this.head; s; ) {
      const n: Slot | null = s.next;
      s.key = null;
      s.prev = s.next = null;
      s.listed = false;
      this.empty.push(s);
      s = n;
    }
    this.head = this.tail = null;
    this.listedCount = 0;
    this.byKey.clear();
    return true;
  }

  /**
   * The chained block keys of a prompt's full blocks. `namespace` seeds the chain (the model file
   * and theta): blocks of different namespaces never match.
   */
  blockKeys(namespace: string, ids: readonly number[]): string[] {
    const B = this.blockSize;
    const full = Math.floor(ids.length / B);
    const keys: string[] = [];
    let parent = createHash('sha256').update(`ctxlab prefix cache\0${namespace}`).digest();
    const block = new Uint32Array(B);
    for (let b = 0; b < full; b++) {
      for (let i = 0; i < B; i++) block[i] = ids[b * B + i]!;
      parent = createHash('sha256').update(parent).update(new Uint8Array(block.buffer)).digest();
      keys.push(parent.toString('hex'));
    }
    return keys;
  }

  private unlink(s: Slot): void {
    if (!s.listed) return;
    if (s.prev) s.prev.next = s.next;
    else this.head = s.next;
    if (s.next) s.next.prev = s.prev;
    else this.tail = s.prev;
    s.prev = s.next = null;
    s.listed = false;
    this.listedCount--;
  }

  private append(s: Slot): void {
    this.unlink(s);
    s.prev = this.tail;
    s.next = null;
    if (this.tail) this.tail.next = s;
    else this.head = s;
    this.tail = s;
    s.listed = true;
    this.listedCount++;
  }

  private pin(s: Slot): void {
    this.unlink(s);
    s.refs++;
  }

  /** An empty slot, evicting the least recently freed block when none is empty. */
  private alloc(): Slot {
    if (this.empty.length === 0) {
      const victim = this.head;
      // acquire admits a request only when its blocks fit the empty + evictable ones.
      if (!victim) throw new Error('prefix cache: every block is pinned');
      this.unlink(victim);
      this.byKey.delete(victim.key!);
      victim.key = null;
      this.counters.evictedBlocks++;
      this.empty.push(victim);
    }
    return this.empty.pop()!;
  }

  private admitWaiting(): void {
    // First come, first served: a large request is not overtaken forever by small ones.
    while (this.waiting.length > 0 && this.waiting[0]!.blocks <= this.empty.length + this.listedCount) this.waiting.shift()!.admit();
  }

  /**
   * Admits a request and pins its blocks. `read: false` computes the whole prompt but still stores
   * its blocks (vLLM skips reading the cache for requests that ask for prompt logprobs: a cached
   * token has no logits). A prompt longer than the pool is served without it.
   */
  acquire(namespace: string, ids: readonly number[], opts: { read?: boolean } = {}): Promise<PrefixLease> {
    const B = this.blockSize;
    const totalBlocks = Math.ceil(ids.length / B);
    this.counters.requests++;
    if (totalBlocks > this.capacityBlocks) {
      this.counters.bypassed++;
      if (opts.read !== false) this.counters.queriedTokens += ids.length;
      return Promise.resolve({ cachedTokens: 0, past: () => emptyPastOf(this.shape), store: () => undefined, release: () => undefined });
    }
    const keys = this.blockKeys(namespace, ids);
    const read = opts.read !== false;
    // Each block this request pins takes at most one empty or evictable block. Admission pins at
    // once (synchronously), so the next waiter is checked against what is left.
    if (this.waiting.length === 0 && totalBlocks <= this.empty.length + this.listedCount) return Promise.resolve(this.take(keys, ids.length, read));
    return new Promise<PrefixLease>((resolve) => this.waiting.push({ blocks: totalBlocks, admit: () => resolve(this.take(keys, ids.length, read)) }));
  }

  private take(keys: readonly string[], promptTokens: number, read: boolean): PrefixLease {
    const B = this.blockSize;
    const totalBlocks = Math.ceil(promptTokens / B);
    let hits = 0;
    if (read) while (hits < keys.length && this.byKey.has(keys[hits]!)) hits++;
    if (hits * B >= promptTokens) hits = Math.max(0, hits - 1);
    const held: Held[] = [];
    for (let i = 0; i < hits; i++) {
      const s = this.byKey.get(keys[i]!)!;
      this.pin(s);
      held.push({ slot: s, fresh: false, key: keys[i]! });
    }
    for (let i = hits; i < keys.length; i++) {
      const existing = this.byKey.get(keys[i]!);
      if (existing) {
        this.pin(existing);
        held.push({ slot: existing, fresh: false, key: keys[i]! });
        continue;
      }
      const s = this.alloc();
      s.refs = 1;
      held.push({ slot: s, fresh: true, key: keys[i]! });
    }
    // The partial last block: a slot for the moment (it may evict a block), then empty again.
    if (totalBlocks > keys.length) this.empty.push(this.alloc());
    if (read) {
      this.counters.queriedTokens += promptTokens;
      this.counters.hitTokens += hits * B;
    }
    let released = false;
    let stored = false;
    const { numLayers: L, numKeyValueHeads: H, headDim: D } = this.shape;
    const blockFloats = H * B * D;
    return {
      cachedTokens: hits * B,
      past: () => {
        const P = hits * B;
        const past: Record<string, ort.Tensor> = {};
        for (let l = 0; l < L; l++) {
          for (const [k, kind] of [
            [0, 'key'],
            [1, 'value'],
          ] as const) {
            const out = new Float32Array(H * P * D);
            for (let b = 0; b < hits; b++) {
              const src = held[b]!.slot.data![2 * l + k]!;
              for (let h = 0; h < H; h++) out.set(src.subarray(h * B * D, (h + 1) * B * D), h * P * D + b * B * D);
            }
            past[`past_key_values.${l}.${kind}`] = new ort.Tensor('float32', out, [1, H, P, D]);
          }
        }
        return past;
      },
      store: (present) => {
        if (stored || released) return;
        stored = true;
        for (let i = 0; i < held.length; i++) {
          const h = held[i]!;
          if (!h.fresh) continue;
          const other = this.byKey.get(h.key);
          if (other) {
            // An overlapping request stored the same block first: keep its copy, give this slot back.
            h.slot.refs = 0;
            this.empty.push(h.slot);
            this.pin(other);
            held[i] = { slot: other, fresh: false, key: h.key };
            continue;
          }
          const data = (h.slot.data ??= Array.from({ length: 2 * L }, () => new Float32Array(blockFloats)));
          for (let l = 0; l < L; l++) {
            for (const [k, kind] of [
              [0, 'key'],
              [1, 'value'],
            ] as const) {
              const t = present[`past_key_values.${l}.${kind}`]!;
              const T = t.dims[2]!;
              const src = t.data as Float32Array;
              for (let hd = 0; hd < H; hd++) data[2 * l + k]!.set(src.subarray(hd * T * D + i * B * D, hd * T * D + (i + 1) * B * D), hd * B * D);
            }
          }
          h.slot.key = h.key;
          h.fresh = false;
          this.byKey.set(h.key, h.slot);
          this.counters.storedBlocks++;
        }
      },
      release: () => {
        if (released) return;
        released = true;
        for (let i = held.length - 1; i >= 0; i--) {
          const h = held[i]!;
          h.slot.refs--;
          if (h.fresh) {
            // Never computed (the request failed before its prefill finished): nothing to cache.
            h.slot.refs = 0;
            this.empty.push(h.slot);
          } else if (h.slot.refs === 0) this.append(h.slot);
        }
        this.admitWaiting();
      },
    };
  }
}

function emptyPastOf(shape: Pick<EngineShape, 'numLayers' | 'numKeyValueHeads' | 'headDim'>): Record<string, ort.Tensor> {
  const past: Record<string, ort.Tensor> = {};
  for (let l = 0; l < shape.numLayers; l++) {
    past[`past_key_values.${l}.key`] = new ort.Tensor('float32', new Float32Array(0), [1, shape.numKeyValueHeads, 0, shape.headDim]);
    past[`past_key_values.${l}.value`] = new ort.Tensor('float32', new Float32Array(0), [1, shape.numKeyValueHeads, 0, shape.headDim]);
  }
  return past;
}
