import { hashSeed, Rng } from '@ctxlab/niah';
import type { LengthUpsample } from './plan';

/**
 * Chooses which source the next document comes from. With ratios, the one furthest behind its
 * share of the tokens emitted so far (ties to the earlier source), so every prefix of the output
 * holds the mixture to within one document; without ratios, the sources one after another, in
 * plan order. Deterministic: no randomness is involved.
 */
export class Mixer {
  readonly emitted: number[];
  private readonly active: boolean[];
  constructor(private readonly ratios: readonly number[] | null, count: number) {
    this.emitted = new Array<number>(count).fill(0);
    this.active = new Array<boolean>(count).fill(true);
  }

  /** The next source, or -1 when none is left. */
  next(): number {
    let best = -1;
    let bestLag = Infinity;
    for (let i = 0; i < this.active.length; i++) {
      if (!this.active[i]) continue;
      if (!this.ratios) return i;
      const lag = this.emitted[i]! / this.ratios[i]!;
      if (lag < bestLag) {
        bestLag = lag;
        best = i;
      }
    }
    return best;
  }

  add(source: number, tokens: number): void {
    this.emitted[source]! += tokens;
  }

  retire(source: number): void {
    this.active[source] = false;
  }

  get total(): number {
    return this.emitted.reduce((a, b) => a + b, 0);
  }
}

/**
 * Fu et al.'s per-source length up-sampling as a keep/skip decision per document: documents of at
 * least `thresholdTokens` are always kept, shorter ones with probability `keepShort`. Each source
 * and epoch draws from its own seeded stream, so a source's decisions do not depend on how the
 * mixer interleaves it with the others.
 */
export class LengthSampler {
  private readonly rng: Rng;
  constructor(
    private readonly spec: LengthUpsample | undefined,
    seed: number,
    sourceName: string,
    epoch: number,
  ) {
    this.rng = new Rng(hashSeed(seed, sourceName, epoch));
  }

  /** Tokens to read before the decision can be made (0: keep everything). */
  get lookahead(): number {
    return this.spec?.thresholdTokens ?? 0;
  }

  keep(tokens: number): boolean {
    if (!this.spec || tokens >= this.spec.thresholdTokens) return true;
    return this.rng.next() < this.spec.keepShort;
  }
}

/**
 * Pulls items until they hold `tokens` tokens or the stream ends: enough to tell a short document
 * from a long one while holding at most the threshold in memory.
 */
export async function readAhead<T>(it: AsyncIterator<T>, size: (item: T) => number, tokens: number): Promise<{ head: T[]; count: number; ended: boolean }> {
  const head: T[] = [];
  let count = 0;
  while (head.length === 0 || count < tokens) {
    const r = await it.next();
    if (r.done) return { head, count, ended: true };
    head.push(r.value);
    count += size(r.value);
  }
  return { head, count, ended: false };
}
