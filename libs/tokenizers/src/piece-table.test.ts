import { describe, expect, it } from 'vitest';
import { MISSING, PieceTable, hashChars } from './piece-table';

const put = (t: PieceTable, s: string, v: number) => t.set(s, 0, s.length, hashChars(s, 0, s.length), v);
const get = (t: PieceTable, s: string) => t.get(s, 0, s.length, hashChars(s, 0, s.length));

describe('PieceTable', () => {
  it('looks keys up by a slice of any string, without the slice', () => {
    const t = new PieceTable();
    put(t, 'world', 7);
    const text = 'hello world!';
    expect(t.get(text, 6, 11, hashChars(text, 6, 11))).toBe(7);
    expect(t.get(text, 6, 10, hashChars(text, 6, 10))).toBe(MISSING);
    expect(get(t, 'World')).toBe(MISSING);
  });

  it('hashes the code units of the slice, not of the whole string', () => {
    expect(hashChars('xxabcxx', 2, 5)).toBe(hashChars('abc', 0, 3));
    expect(hashChars('ab', 0, 2)).not.toBe(hashChars('ba', 0, 2));
  });

  it('grows past its first capacity and keeps every entry, negative values included', () => {
    const t = new PieceTable(16);
    const keys = Array.from({ length: 5000 }, (_, i) => `k${i}字${i % 7 === 0 ? '😀' : ''}`);
    keys.forEach((k, i) => put(t, k, i % 3 === 0 ? -1 - i : i));
    expect(t.size).toBe(keys.length);
    keys.forEach((k, i) => expect(get(t, k)).toBe(i % 3 === 0 ? -1 - i : i));
  });

  it('truncates to a mark, keeping only the entries stored before it', () => {
    const t = new PieceTable(16);
    put(t, 'a', 1);
    put(t, 'bb', 2);
    const mark = t.keyUnits;
    for (let i = 0; i < 100; i++) put(t, `later${i}`, i);
    expect(t.getBefore(mark, 'bb', 0, 2, hashChars('bb', 0, 2))).toBe(2);
    expect(t.getBefore(mark, 'later5', 0, 6, hashChars('later5', 0, 6))).toBe(MISSING);
    t.truncate(mark);
    expect(t.size).toBe(2);
    expect(t.keyUnits).toBe(mark);
    expect(get(t, 'a')).toBe(1);
    expect(get(t, 'bb')).toBe(2);
    expect(get(t, 'later5')).toBe(MISSING);
    put(t, 'later5', 9);
    expect(get(t, 'later5')).toBe(9);
  });

  it('clones into a table that shares nothing with the original', () => {
    const t = new PieceTable(16);
    put(t, 'x', 1);
    const c = t.clone();
    put(c, 'y', 2);
    for (let i = 0; i < 200; i++) put(c, `z${i}`, i);
    expect(get(c, 'x')).toBe(1);
    expect(get(t, 'y')).toBe(MISSING);
    expect(t.size).toBe(1);
  });
});
