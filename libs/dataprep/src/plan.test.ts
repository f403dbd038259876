import { describe, expect, it } from 'vitest';
import { DataprepError } from './errors';
import { parsePlan } from './plan';

const source = { name: 'web', kind: 'jsonl', path: 'web.jsonl' } as const;

function planError(input: unknown): DataprepError {
  try {
    parsePlan(input);
  } catch (e) {
    if (e instanceof DataprepError) return e;
    throw e;
  }
  throw new Error('expected the plan to be refused');
}

describe('parsePlan', () => {
  it('fills the defaults', () => {
    const plan = parsePlan({ format: 'easycontext', seqLength: 65536, sources: [source, { name: 'books', kind: 'text-folder', path: 'books' }] });
    expect(plan).toMatchObject({ packing: 'pack', lossMask: false, seed: 42, maxShardBytes: 512 * 2 ** 20 });
    expect(plan.sources[0]).toMatchObject({ field: 'text' });
    expect(plan.sources[1]).toMatchObject({ extensions: ['.txt', '.md'] });
    expect(parsePlan({ format: 'easycontext', seqLength: 64, sources: [{ ...source, lengthUpsample: { keepShort: 0.1 } }] }).sources[0]!.lengthUpsample).toEqual({ thresholdTokens: 4096, keepShort: 0.1 });
  });

  it('names the field of each problem', () => {
    expect(planError({ format: 'easycontext', seqLength: 8, sources: [source] })).toMatchObject({ field: 'seqLength', code: 'INVALID_PLAN' });
    expect(planError({ format: 'easycontext', seqLength: 64, sources: [{ ...source, kind: 'csv' }] }).field).toBe('sources[0].kind');
    expect(planError({ format: 'easycontext', seqLength: 64, sources: [{ ...source, ratio: 1.5 }] }).field).toBe('sources[0].ratio');
    expect(planError({ format: 'easycontext', seqLength: 64, sources: [{ ...source, lengthUpsample: { keepShort: 2 } }] }).field).toBe('sources[0].lengthUpsample.keepShort');
    expect(planError({ format: 'longllm-qlora', seqLength: 64, packing: 'pack', sources: [source] }).message).toContain('packing');
    expect(planError({ format: 'parquet', seqLength: 64, sources: [source] }).field).toBe('format');
  });

  it('refuses duplicate names, ratios on some sources only, and ratios not summing to 1', () => {
    expect(planError({ format: 'easycontext', seqLength: 64, sources: [source, source] }).message).toBe('invalid plan: sources[1].name: "web" is already the name of sources[0]');
    expect(planError({ format: 'easycontext', seqLength: 64, sources: [{ ...source, ratio: 1 }, { ...source, name: 'b' }] }).message).toBe(
      'invalid plan: sources[1].ratio: missing: give a ratio for every source or for none',
    );
    const e = planError({ format: 'easycontext', seqLength: 64, sources: [{ ...source, ratio: 0.6 }, { ...source, name: 'b', ratio: 0.6 }] });
    expect(e.message).toBe('invalid plan: sources: ratios sum to 1.2 (web 0.6, b 0.6); they must sum to 1');
    expect(e.field).toBe('sources');
    expect(() => parsePlan({ format: 'easycontext', seqLength: 64, sources: [{ ...source, ratio: 0.7 }, { ...source, name: 'b', ratio: 0.3 }] })).not.toThrow();
  });
});
