import { describe, expect, it } from 'vitest';
import { table } from './table';

describe('table', () => {
  it('pads columns and right-aligns numbers with thousands separators', () => {
    const t = table(['name', 'n'], [['a', 1000], ['bbb', 5]]).split('\n');
    expect(t[0]).toBe('name      n');
    expect(t[2]).toBe('a     1,000');
    expect(t[3]).toBe('bbb       5');
  });
});
