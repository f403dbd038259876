import { describe, expect, it } from 'vitest';
import { contextLength, jsonObject, listInput, MAX_JSON_DEPTH, nameSchema, positiveInt } from './common';

describe('input bounds', () => {
  it('text refuses NUL, naming the field', () => {
    const r = listInput(['name'] as const, {}).safeParse({ search: 'a\u0000b' });
    expect(r.success ? [] : r.error.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['search', 'must not contain a NUL character']]);
    expect(nameSchema.safeParse('ok\u0000').success).toBe(false);
  });

  it('integers stop at int4 and lengths at 2^24 tokens', () => {
    expect(positiveInt.safeParse(2 ** 31 - 1).success).toBe(true);
    expect(positiveInt.safeParse(2 ** 31).error?.issues[0]?.message).toBe('must be at most 2,147,483,647');
    expect(contextLength.safeParse(16_777_216).success).toBe(true);
    expect(contextLength.safeParse(3_000_000_000).error?.issues.map((i) => i.message)).toEqual(['must be at most 16,777,216 tokens']);
  });

  it('free-form JSON: NUL in nested strings and keys, and deep nesting, are refused with their path', () => {
    expect(jsonObject().safeParse({ a: [{ b: 'x\u0000' }] }).error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['a.0.b', 'must not contain a NUL character']]);
    expect(jsonObject().safeParse({ a: { 'k\u0000': 1 } }).error?.issues.map((i) => i.path.join('.'))).toEqual(['a.k\u0000']);
    expect(jsonObject().safeParse({ 'k\u0000': 1 }).success).toBe(false);
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(jsonObject().safeParse({ deep }).error?.issues[0]?.message).toBe(`nests deeper than ${MAX_JSON_DEPTH} levels`);
    expect(jsonObject().safeParse({ spec: { grid: { lengths: [1, 2] } } }).success).toBe(true);
  });
});
