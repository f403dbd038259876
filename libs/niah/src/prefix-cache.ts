import { NiahError } from './errors';

/**
 * A block-level model of vLLM's automatic prefix caching (v1 KV cache manager), to measure how
 * many prompt tokens a server must prefill for a given order of requests.
 *
 *  - The KV cache is split into blocks of `blockSize` tokens; `capacityTokens` / blockSize of them.
 *  - A full block is identified by a hash chained over all previous blocks and its own token ids,
 *    so a block is reusable only by a request with the identical prefix. Partial blocks are
 *    never cached.
 *  - A request reuses its longest run of cached leading blocks; at least one token is always
 *    computed (a fully cached, block-aligned prompt recomputes its last block).
 *  - Blocks of a running request are pinned. When it finishes its blocks become evictable and
 *    join the end of the LRU queue in reverse order — last block first — so a prompt's tail is
 *    evicted before its prefix (vLLM frees them in this order for exactly that reason).
 *  - Eviction takes the least recently freed block.
 * Requests run one at a time (no concurrent batches).
 */
export interface PrefixCacheOptions {
  blockSize?: number;
  capacityTokens: number;
}

export interface RequestCacheStats {
  promptTokens: number;
  cachedTokens: number;
  prefillTokens: number;
}

export interface PrefixCacheReport {
  requests: number;
  promptTokens: number;
  cachedTokens: number;
  prefillTokens: number;
  perRequest: RequestCacheStats[];
}

/** Chained 2×32-bit block hash packed into one safe integer (collisions ~2^-53 per pair). */
function blockKeys(ids: ArrayLike<number>, blockSize: number): number[] {
  const full = Math.floor(ids.length / blockSize);
  const keys = new Array<number>(full);
  let h1 = 0x12345678;
  let h2 = 0x9abcdef0;
  for (let b = 0; b < full; b++) {
    const base = b * blockSize;
    for (let i = 0; i < blockSize; i++) {
      const v = ids[base + i]!;
      h1 = Math.imul(h1 ^ v, 0x01000193) ^ (h1 >>> 15);
      h2 = Math.imul(h2 + v + 0x9e3779b9, 0x85ebca77) ^ (h2 >>> 13);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 0x7feb352d) >>> 0;
    h2 = Math.imul(h2 ^ (h2 >>> 15), 0x846ca68b) >>> 0;
    keys[b] = (h1 & 0x1fffff) * 2 ** 32 + h2;
  }
  return keys;
}

export class PrefixCacheSimulator {
  readonly blockSize: number;
  readonly capacityBlocks: number;
  // Cached full blocks live in slots; evictable ones are threaded on an LRU list (head = next
  // victim). A hand-rolled list: V8 Maps degrade when used as queues with constant deletes.
  private readonly slotOf = new Map<number, number>();
  private readonly keyOf: Float64Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly listed: Uint8Array;
  private readonly freeSlots: number[] = [];
  private head = -1;
  private tail = -1;

  constructor(opts: PrefixCacheOptions) {
    this.blockSize = opts.blockSize ?? 16;
    this.capacityBlocks = Math.floor(opts.capacityTokens / this.blockSize);
    const n = this.capacityBlocks;
    this.keyOf = new Float64Array(n);
    this.prev = new Int32Array(n);
    this.next = new Int32Array(n);
    this.listed = new Uint8Array(n);
    for (let i = n - 1; i >= 0; i--) this.freeSlots.push(i);
  }

  private unlink(s: number): void {
    if (!this.listed[s]) return;
    const p = this.prev[s]!;
    const n = this.next[s]!;
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
    this.listed[s] = 0;
  }

  private append(s: number): void {
    this.unlink(s);
    this.prev[s] = this.tail;
    this.next[s] = -1;
    if (this.tail >= 0) this.next[this.tail] = s;
    else this.head = s;
    this.tail = s;
    this.listed[s] = 1;
  }

  /** Runs one request to completion; returns its prompt, cached and prefilled token counts. */
  process(ids: ArrayLike<number>): RequestCacheStats {
    const B = this.blockSize;
    const keys = blockKeys(ids, B);
    const totalBlocks = Math.ceil(ids.length / B);
    if (totalBlocks > this.capacityBlocks) {
      throw new NiahError('PREFIX_CACHE_TOO_SMALL', `a ${ids.length}-token prompt does not fit a KV cache of ${this.capacityBlocks * B} tokens`);
    }
    let hits = 0;
    while (hits < keys.length && this.slotOf.has(keys[hits]!)) hits++;
    if (hits * B >= ids.length) hits = Math.max(0, hits - 1);
    const slots: number[] = [];
    for (let i = 0; i < hits; i++) {
      const s = this.slotOf.get(keys[i]!)!;
      this.unlink(s); // pinned while the request runs
      slots.push(s);
    }
    // Blocks this request computes; a partial last block needs a slot but is never cached.
    const partial = totalBlocks - keys.length;
    const alloc = () => {
      if (this.freeSlots.length === 0) {
        const victim = this.head;
        if (victim < 0) throw new NiahError('PREFIX_CACHE_TOO_SMALL', 'the KV cache is full of pinned blocks');
        this.unlink(victim);
        this.slotOf.delete(this.keyOf[victim]!);
        this.freeSlots.push(victim);
      }
      return this.freeSlots.pop()!;
    };
    for (let i = hits; i < keys.length; i++) {
      const existing = this.slotOf.get(keys[i]!);
      if (existing !== undefined) {
        this.unlink(existing);
        slots.push(existing);
        continue;
      }
      const s = alloc();
      this.keyOf[s] = keys[i]!;
      this.slotOf.set(keys[i]!, s);
      slots.push(s);
    }
    if (partial > 0) this.freeSlots.push(alloc());
    // Finished: free in reverse order so the prefix is evicted last.
    for (let i = slots.length - 1; i >= 0; i--) this.append(slots[i]!);
    const cachedTokens = hits * B;
    return { promptTokens: ids.length, cachedTokens, prefillTokens: ids.length - cachedTokens };
  }
}

/** Prefill tokens a server with prefix caching spends on `prompts`, sent one after another in this order. */
export function simulatePrefill(prompts: Iterable<ArrayLike<number>>, opts: PrefixCacheOptions): PrefixCacheReport {
  const sim = new PrefixCacheSimulator(opts);
  const perRequest: RequestCacheStats[] = [];
  for (const p of prompts) perRequest.push(sim.process(p));
  const sum = (f: (r: RequestCacheStats) => number) => perRequest.reduce((s, r) => s + f(r), 0);
  return {
    requests: perRequest.length,
    promptTokens: sum((r) => r.promptTokens),
    cachedTokens: sum((r) => r.cachedTokens),
    prefillTokens: sum((r) => r.prefillTokens),
    perRequest,
  };
}

/**
 * The fewest prompt tokens any order of `prompts` can prefill, under any cache size: every
 * distinct full block (identified, as in the cache, by its whole prefix) is computed at least
 * once — the cache only ever holds what some request computed — and every partial last block
 * is computed by its own request, since partial blocks are never cached. An unbounded cache
 * reaches it in every order (a block seen before is a hit, and so are all blocks before it,
 * whose hashes it chains), except that a block-aligned prompt whose every block was seen before
 * recomputes its last one; NIAH prompts all end differently, so for their grids it is exact.
 */
export function prefillLowerBound(prompts: Iterable<ArrayLike<number>>, blockSize = 16): number {
  const seen = new Set<number>();
  let tokens = 0;
  for (const ids of prompts) {
    const keys = blockKeys(ids, blockSize);
    for (const k of keys) {
      if (seen.has(k)) continue;
      seen.add(k);
      tokens += blockSize;
    }
    tokens += ids.length - keys.length * blockSize;
  }
  return tokens;
}
