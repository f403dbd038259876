import { Rng } from '@ctxlab/niah';
import { getTokenizer } from '@ctxlab/tokenizers';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreparePlanInput } from '../plan';
import { prepareDataset } from './prepare';
import { readRecords, splitDocuments, tempDir, type EasyContextRecord } from './testing';

// The byte tokenizer: one token per byte of ASCII text, so lengths are set exactly and runs are fast.
const tok = getTokenizer('byte');
const BOS = tok.special.bos.id;
const EOS = tok.special.eos.id;

let dir = '';
let cleanup: () => Promise<void> = async () => undefined;
let runs = 0;

/** A JSONL source of documents "<tag><n>|" followed by filler up to `length` characters. */
async function corpus(name: string, docs: { tag: string; length: number }[]): Promise<string> {
  const path = join(dir, `${name}.jsonl`);
  const lines = docs.map((d, i) => {
    const head = `${d.tag}${i}|`;
    return JSON.stringify({ text: head + 'x'.repeat(Math.max(0, d.length - head.length)) });
  });
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

function lengths(n: number, lo: number, hi: number, seed: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => rng.int(lo, hi));
}

/** A plan mixing JSONL sources, name → [path, ratio]. */
function mixOf(seqLength: number, sources: Record<string, [string, number]>): PreparePlanInput {
  return { format: 'easycontext', seqLength, sources: Object.entries(sources).map(([name, [path, ratio]]) => ({ name, kind: 'jsonl', path, ratio })) };
}

/** The share of the output's tokens (separators included) in documents starting with `tag`. */
function tokenShare(docs: readonly string[], tag: string): number {
  const tokens = (keep: (d: string) => boolean) => docs.filter(keep).reduce((n, d) => n + d.length + 2, 0);
  return tokens((d) => d.startsWith(tag)) / tokens(() => true);
}

async function run(plan: PreparePlanInput) {
  const outDir = join(dir, `out-${runs++}`);
  const result = await prepareDataset(plan, { tokenizer: tok, outDir });
  const ids = (await readRecords<EasyContextRecord>(outDir, result.shards)).flatMap((r) => r.input_ids);
  const docs = splitDocuments(ids, BOS, EOS).map((d) => tok.decode(d));
  return { result, docs, ids };
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterAll(() => cleanup());

describe('length up-sampling (Fu et al.)', () => {
  it('keeps every long document and about keepShort of the short ones', async () => {
    const shortDocs = lengths(3000, 100, 1500, 1).map((length) => ({ tag: 'S', length }));
    const longDocs = lengths(300, 4200, 6000, 2).map((length) => ({ tag: 'L', length }));
    // Interleaved, as a real source would be.
    const docs = shortDocs.flatMap((d, i) => (i % 10 === 0 ? [d, longDocs[i / 10]!] : [d]));
    const path = await corpus('lengths', docs);
    const { result, docs: out } = await run({
      format: 'easycontext',
      seqLength: 1023,
      sources: [{ name: 'web', kind: 'jsonl', path, lengthUpsample: { thresholdTokens: 4096, keepShort: 0.1 } }],
    });
    const keptShort = out.filter((d) => d.startsWith('S')).length;
    const keptLong = out.filter((d) => d.startsWith('L')).length;
    // All 300 long documents (the last may straddle the dropped tail); short ones ~ Binomial(3000, 0.1): sd ≈ 16.
    expect(keptLong).toBeGreaterThanOrEqual(299);
    expect(keptShort).toBeGreaterThan(300 - 65);
    expect(keptShort).toBeLessThan(300 + 65);
    const st = result.stats.perSource.web!;
    expect(st.documents).toBe(3300);
    expect(st.documentsKept).toBeGreaterThanOrEqual(keptShort + keptLong);
    expect(st.documentsKept).toBeLessThanOrEqual(keptShort + keptLong + 1);
    // The histogram counts every document read, with separators: lengths 102 … 6002.
    const h = Object.fromEntries(st.lengthHistogram.map((b) => [b.label, b.documents]));
    expect(Object.values(h).reduce((a, b) => a + b, 0)).toBe(3300);
    expect(h['4K–8K']).toBe(300);
    expect(h['8K–16K']).toBe(0);
  });
});

describe('mixing ratios', () => {
  it('gives each source its share of the output tokens, stopping when the first runs out', async () => {
    const a = await corpus('mix-a', lengths(600, 200, 2500, 3).map((length) => ({ tag: 'A', length })));
    const b = await corpus('mix-b', lengths(600, 200, 2500, 4).map((length) => ({ tag: 'B', length })));
    const { result, docs } = await run(mixOf(2047, { a: [a, 0.7], b: [b, 0.3] }));
    const share = tokenShare(docs, 'A');
    expect(share).toBeGreaterThan(0.68);
    expect(share).toBeLessThan(0.72);
    expect(result.stats.stoppedBy).toEqual({ exhausted: 'a' });
    const st = result.stats.perSource;
    expect(st.a!.tokensOut / result.stats.tokens).toBeCloseTo(0.7, 2);
    expect(st.a!.tokensOut + st.b!.tokensOut).toBe(result.stats.tokens);
  });

  it('repeats a small source to hold its ratio up to maxTokens', async () => {
    const small = await corpus('small', lengths(50, 200, 800, 5).map((length) => ({ tag: 'S', length })));
    const large = await corpus('large', lengths(800, 200, 800, 6).map((length) => ({ tag: 'L', length })));
    const { result, docs } = await run({ ...mixOf(1023, { small: [small, 0.5], large: [large, 0.5] }), maxTokens: 300_000 });
    expect(result.stats.stoppedBy).toBe('max-tokens');
    expect(result.stats.perSource.small!.epochs).toBeGreaterThan(4);
    expect(result.stats.perSource.large!.epochs).toBe(1);
    expect(tokenShare(docs, 'S')).toBeCloseTo(0.5, 1);
    expect(result.stats.tokens).toBeGreaterThanOrEqual(300_000 - 1024);
    expect(result.stats.tokens).toBeLessThan(300_000 + 1024);
  });
});

describe('determinism', () => {
  it('writes byte-identical shards for the same seed, and other ones for another seed', async () => {
    const path = await corpus('seeded', lengths(600, 100, 6000, 7).map((length) => ({ tag: 'D', length })));
    const plan = (seed: number): PreparePlanInput => ({
      format: 'easycontext',
      seqLength: 511,
      seed,
      sources: [{ name: 'd', kind: 'jsonl', path, lengthUpsample: { thresholdTokens: 4096, keepShort: 0.3 } }],
    });
    const first = await run(plan(7));
    const again = await run(plan(7));
    const other = await run(plan(8));
    expect(again.result.shards.map((s) => s.sha256)).toEqual(first.result.shards.map((s) => s.sha256));
    expect(other.result.shards.map((s) => s.sha256)).not.toEqual(first.result.shards.map((s) => s.sha256));
  });
});
