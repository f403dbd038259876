import { describe, expect, it } from 'vitest';
import { ORIGINAL_NEEDLE } from './needles';
import { chineseWords, editSimilarity, f1, levenshtein, scoreAnswer, zhinaoChineseScore, zhinaoEnglishScore } from './scorers';

const ref = { expected: [ORIGINAL_NEEDLE], needle: ORIGINAL_NEEDLE };

describe('360Zhinao English rule', () => {
  it('gives full marks when the lower-cased answer matches sandwich.+?dolores.+?sunny', () => {
    expect(zhinaoEnglishScore(ORIGINAL_NEEDLE, ORIGINAL_NEEDLE)).toBe(100);
    expect(zhinaoEnglishScore('Eat a SANDWICH and sit in DOLORES Park on a SUNNY day.', ORIGINAL_NEEDLE)).toBe(100);
  });

  it('gives full marks to an answer with extra text around the fact', () => {
    const answer = 'According to the document, the best thing to do in San Francisco is to eat a sandwich and sit in Dolores Park on a sunny day. Enjoy!';
    expect(scoreAnswer('zhinao-en', answer, ref)).toBe(100);
  });

  it('does not let the regex cross a newline: a split answer falls back to Levenshtein', () => {
    // Verbatim but split: the regex fails, whitespace-free Levenshtein is 0 → 100 by the fallback.
    const split = 'The best thing to do in San Francisco is eat a sandwich\nand sit in Dolores Park on a sunny day.';
    expect(/sandwich.+?dolores.+?sunny/.test(split.toLowerCase())).toBe(false);
    expect(zhinaoEnglishScore(split, ORIGINAL_NEEDLE)).toBe(100);
    // Paraphrased and split: the fallback gives partial credit, computed exactly.
    const para = 'Eat a sandwich.\nThen sit in Dolores Park when it is sunny.';
    const a = para.replace(/\s+/g, '');
    const b = ORIGINAL_NEEDLE.replace(/\s+/g, '');
    const expected = 100 * (1 - levenshtein(a, b) / Math.max(a.length, b.length));
    expect(zhinaoEnglishScore(para, ORIGINAL_NEEDLE)).toBeCloseTo(expected, 10);
    expect(zhinaoEnglishScore(para, ORIGINAL_NEEDLE)).toBeLessThan(100);
    expect(zhinaoEnglishScore(para, ORIGINAL_NEEDLE)).toBeGreaterThan(0);
  });

  it("matches Python's `.`, which crosses \\r (JavaScript's does not)", () => {
    expect(zhinaoEnglishScore('sandwich\r dolores\r sunny', ORIGINAL_NEEDLE)).toBe(100);
  });

  it('scores empty strings as the rule says', () => {
    expect(editSimilarity('', '')).toBe(100);
    expect(editSimilarity(' \n\t', '  ')).toBe(100);
    expect(zhinaoEnglishScore('', ORIGINAL_NEEDLE)).toBe(0);
  });

  it('computes Levenshtein distances over code points', () => {
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('flaw', 'lawn')).toBe(2);
    expect(levenshtein('', 'abc')).toBe(3);
    expect(levenshtein('😀a', 'a')).toBe(1);
    expect(editSimilarity('abcd', 'abcx')).toBe(75);
  });
});

describe('360Zhinao Chinese rule', () => {
  it('gives full marks when 刘秀 appears', () => {
    expect(zhinaoChineseScore('王莽在刘秀的手下工作。')).toBe(100);
    expect(zhinaoChineseScore('答案：刘秀')).toBe(100);
  });

  it('falls back to character-level F1 against 王莽在刘秀的手下工作。', () => {
    // 9 vs 10 characters, 7 shared: P = 7/9, R = 7/10, F1 = 98/133.
    expect(zhinaoChineseScore('王莽在老板手下工作')).toBeCloseTo((100 * 98) / 133, 10);
    expect(zhinaoChineseScore('我不知道')).toBe(0);
    expect(chineseWords('王莽 在Liu Xiu，手下！')).toEqual(['王', '莽', '在', 'liu', 'xiu', '手', '下']);
    expect(f1(['a', 'b'], ['a', 'b'])).toBe(1);
  });
});

describe('other scorers', () => {
  it('value retrieval: the number appears', () => {
    expect(scoreAnswer('value', 'The special magic Paris number is: 1234567.', { expected: ['1234567'] })).toBe(100);
    expect(scoreAnswer('value', 'It is 1234568.', { expected: ['1234567'] })).toBe(0);
  });

  it('RULER string_match_all is the share of expected strings present, case-insensitive', () => {
    const r = { expected: ['Figs', 'prosciutto', 'goat cheese'] };
    expect(scoreAnswer('string-match-all', 'figs, PROSCIUTTO', r)).toBeCloseTo(200 / 3, 10);
    expect(scoreAnswer('string-match-all', 'figs, prosciutto and Goat Cheese', r)).toBe(100);
    expect(scoreAnswer('string-match-part', 'only figs', r)).toBe(100);
    expect(scoreAnswer('string-match-part', 'nothing', r)).toBe(0);
  });

  it('exact match and the negative control', () => {
    expect(scoreAnswer('exact', ' 42 ', { expected: ['42'] })).toBe(100);
    expect(scoreAnswer('exact', '42.', { expected: ['42'] })).toBe(0);
    expect(scoreAnswer('negative', 'The document does not mention a special magic number for Paris.', { expected: [], digits: 7 })).toBe(100);
    expect(scoreAnswer('negative', 'It is 4,815,162.', { expected: [], digits: 7 })).toBe(0);
    expect(scoreAnswer('negative', 'In 1990 nothing happened.', { expected: [], digits: 7 })).toBe(100);
  });
});
