import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_WORD_LIST, loadWordLists } from './node';
import { parseWordList } from './words';

describe('word lists', () => {
  it('keeps lowercase base forms and splits adjectives by suffix', () => {
    const letters = (i: number) => {
      let s = '';
      for (let n = i; s === '' || n > 0; n = Math.floor(n / 26)) s += 'abcdefghijklmnopqrstuvwxyz'[n % 26];
      return s;
    };
    const base = Array.from({ length: 1200 }, (_v, i) => `zz${letters(i)}q`);
    const text = [...base, 'Paris', "cat's", 'cat', 'cats', 'happy', 'happiest', 'careful', 'jump', 'jumped', 'jumping', 'x', 'government'].join('\n');
    const w = parseWordList(text);
    expect(w.words).toContain('cat');
    expect(w.words).toContain('happy');
    for (const dropped of ['Paris', "cat's", 'cats', 'happiest', 'jumped', 'jumping', 'x']) expect(w.words).not.toContain(dropped);
    expect(w.adjectives).toContain('careful');
    expect(w.adjectives).not.toContain('government');
    expect(w.nouns).toContain('government');
    expect(() => parseWordList('cat\ndog')).toThrow(/only 2 usable words/);
  });

  it.skipIf(!existsSync(DEFAULT_WORD_LIST))('reads wamerican into tens of thousands of words', () => {
    const w = loadWordLists();
    expect(w.words.length).toBeGreaterThan(20_000);
    expect(w.adjectives.length).toBeGreaterThan(2_000);
    expect(w.words.every((x) => /^[a-z]{3,12}$/.test(x))).toBe(true);
  });
});
