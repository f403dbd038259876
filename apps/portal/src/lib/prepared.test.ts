import { describe, expect, it } from 'vitest';
import { fmtShare, readPrepared, readPrepareResult, stoppedByText } from './prepared';

const bucket = (label: string, minTokens: number, maxTokens: number | null, documents: number) => ({ label, minTokens, maxTokens, documents, tokens: documents * minTokens });
const stats = {
  format: 'easycontext', tokenizer: 'llama3', seqLength: 256, packing: 'pack', lossMask: false, seed: 42, maxTokens: 5140,
  tokens: 5397, sequences: 21, documents: 9, tokensDropped: 12, stoppedBy: 'max-tokens',
  perSource: { essays: { datasetId: 'd1', kind: 'text-folder', ratio: null, documents: 9, documentsKept: 7, tokensIn: 7000, tokensOut: 5397, tokensDropped: 12, epochs: 1, lengthHistogram: [bucket('<1K', 0, 1024, 6), bucket('1K–2K', 1024, 2048, 3)] } },
  shards: [{ path: 'data/train-00000-of-00001.jsonl', sha256: 'ab'.repeat(32), bytes: 36017, sequences: 21, tokens: 5397 }],
};

describe("a prepared dataset's recorded stats", () => {
  it('reads what the job records, and names what is wrong with a record it cannot read', () => {
    const r = readPrepared(stats);
    expect('stats' in r && r.stats.perSource.essays!.lengthHistogram).toHaveLength(2);
    expect(readPrepared({ ...stats, recipe: { recipeId: 'r1', name: 'yarn', version: 2, stage: 1 } })).toMatchObject({ stats: { recipe: { stage: 1 } } });
    expect(readPrepared({ ...stats, sequences: -1, shards: 'none' })).toEqual({ problem: expect.stringMatching(/^sequences: .*; shards: /) });
  });

  it('says why the job stopped and shows shares as percentages', () => {
    expect(stoppedByText('max-tokens', 5140)).toBe('the token budget (5,140 tokens) was reached');
    expect(stoppedByText('sources-read', null)).toBe('every source read to its end');
    expect(stoppedByText({ exhausted: '1-web' }, null)).toBe('source 1-web ran out');
    expect([fmtShare(0.5), fmtShare(1 / 3), fmtShare(null)]).toEqual(['50.0%', '33.3%', '—']);
  });

  it("reads a succeeded job's result, and nothing else", () => {
    expect(readPrepareResult({ datasetId: 'd2', uri: 'file:///x', digest: 'sha256:…', tokens: 10, sequences: 1, shards: 1, bytes: 99 })).toMatchObject({ datasetId: 'd2', shards: 1 });
    expect(readPrepareResult(null)).toBeNull();
    expect(readPrepareResult({ cancelled: true })).toBeNull();
  });
});
