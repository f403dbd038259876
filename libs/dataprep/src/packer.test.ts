import { describe, expect, it } from 'vitest';
import { Packer, type PackingMode } from './packer';
import { Mixer } from './mix';
import { emptyHistogram, lengthBucket } from './stats';

async function pack(mode: PackingMode, docs: [number, number[]][], recordTokens = 4) {
  const out: { ids: number[]; mask: number[]; segments: { source: number; tokens: number }[] }[] = [];
  const p = new Packer({
    recordTokens,
    mode,
    withMask: true,
    sink: (r) => void out.push({ ids: [...r.ids], mask: [...r.mask!], segments: r.segments.map((s) => ({ ...s })) }),
  });
  for (const [source, ids] of docs) {
    await p.push(source, ids, undefined, source);
    p.endDocument();
  }
  p.finish();
  return { out, p };
}

describe('Packer', () => {
  it('pack: documents run across records, the tail is dropped, tokens are counted per source', async () => {
    const { out, p } = await pack('pack', [
      [0, [1, 2, 3]],
      [1, [4, 5, 6, 7, 8]],
      [0, [9, 10, 11]],
    ]);
    expect(out.map((r) => r.ids)).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
    expect(out[0]!.segments).toEqual([
      { source: 0, tokens: 3 },
      { source: 1, tokens: 1 },
    ]);
    expect(out[0]!.mask).toEqual([0, 0, 0, 1]);
    expect(p.written).toEqual(new Map([[0, 3], [1, 5]]));
    expect(p.dropped).toEqual(new Map([[0, 3]]));
  });

  it('chunk: each document alone, remainders and short documents dropped', async () => {
    const { out, p } = await pack('chunk', [
      [0, [1, 2, 3, 4, 5, 6, 7, 8, 9]],
      [1, [10, 11]],
    ]);
    expect(out.map((r) => r.ids)).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
    expect(p.dropped).toEqual(new Map([[0, 1], [1, 2]]));
  });
});

describe('Mixer', () => {
  it('always serves the source furthest behind its ratio', () => {
    const m = new Mixer([0.75, 0.25], 2);
    const order: number[] = [];
    for (let i = 0; i < 8; i++) {
      const s = m.next();
      order.push(s);
      m.add(s, 10);
    }
    expect(order).toEqual([0, 1, 0, 0, 0, 1, 0, 0]);
    m.retire(0);
    expect(m.next()).toBe(1);
    m.retire(1);
    expect(m.next()).toBe(-1);
  });
});

describe('length histogram', () => {
  it('has log2 buckets from <1K to ≥1M', () => {
    expect(emptyHistogram().map((b) => b.label)).toEqual(['<1K', '1K–2K', '2K–4K', '4K–8K', '8K–16K', '16K–32K', '32K–64K', '64K–128K', '128K–256K', '256K–512K', '512K–1M', '≥1M']);
    expect([0, 1023, 1024, 2047, 2048, 4096, 1048575, 1048576, 5e7].map(lengthBucket)).toEqual([0, 0, 1, 1, 2, 3, 10, 11, 11]);
  });
});
