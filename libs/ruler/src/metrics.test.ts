import { describe, expect, it } from 'vitest';
import {
  effectiveLength,
  postprocessPrediction,
  pythonRound2,
  rulerAverage,
  rulerTaskScore,
  scoreRuler,
  scoreRulerPrediction,
} from './metrics';

/*
 * Expected values were computed by running RULER's own functions (string_match_all and
 * string_match_part from NVIDIA/RULER scripts/eval/synthetic/constants.py, commit c3f5e3b,
 * extracted with Python's ast and executed on the same inputs):
 *   string_match_all(["The numbers are 123 and 456", "abc"], [["123","456","789"], ["ABC"]]) = 83.33
 *   string_match_all(["a"] + ["z"]*7, [["A","b","c","d"]] + [["q"]]*7)                     = 3.12
 *   string_match_part(["It was Martha Quill.", "no idea"], [["martha quill","Quill"], ["x"]]) = 50.0
 *   string_match_part(["1821", "eighteen"], [["1821"], ["1821", "eighteen twenty"]])         = 50.0
 * By hand: 2 of 3 and 1 of 1 found → (66.67 + 100) / 2; one of four found in one of eight
 * samples → 25 / 8 = 3.125, which Python's round(…, 2) takes to 3.12 (an exact binary tie, to even).
 */
describe('RULER metrics', () => {
  const task = (scores: number[]) => rulerTaskScore(scores);

  it('string_match_all: the share of references found, case-insensitive, averaged and rounded like RULER', () => {
    const a = scoreRuler('niah_multivalue', 'The numbers are 123 and 456', ['123', '456', '789']);
    const b = scoreRuler('niah_single_1', 'abc', ['ABC']);
    expect(a).toBeCloseTo(200 / 3, 10);
    expect(b).toBe(100);
    expect(task([a, b])).toBe(83.33);
    const tie = [scoreRuler('vt', 'a', ['A', 'b', 'c', 'd']), ...Array.from({ length: 7 }, () => scoreRuler('vt', 'z', ['q']))];
    expect(tie[0]).toBe(25);
    expect(task(tie)).toBe(3.12);
  });

  it('string_match_part: any reference found (qa tasks)', () => {
    expect(task([scoreRuler('qa_1', 'It was Martha Quill.', ['martha quill', 'Quill']), scoreRuler('qa_1', 'no idea', ['x'])])).toBe(50);
    expect(task([scoreRuler('qa_2', '1821', ['1821']), scoreRuler('qa_2', 'eighteen', ['1821', 'eighteen twenty'])])).toBe(50);
    // The same prediction scores differently under the two metrics.
    expect(scoreRulerPrediction('string_match_part', '123', ['123', '456'])).toBe(100);
    expect(scoreRulerPrediction('string_match_all', '123', ['123', '456'])).toBe(50);
  });

  it('post-processes predictions as RULER does: strip, control characters to newlines, strip', () => {
    expect(postprocessPrediction('\u0000 1234567\t\n')).toBe('1234567');
    expect(postprocessPrediction('a\tb\u0007c')).toBe('a\nb\nc');
    // A reference with a tab cannot match once tabs become newlines — RULER's behaviour too.
    expect(scoreRulerPrediction('string_match_all', 'x\ty', ['x\ty'])).toBe(0);
  });

  it("rounds like Python's round(x, 2)", () => {
    expect(pythonRound2(3.125)).toBe(3.12);
    expect(pythonRound2(3.375)).toBe(3.38);
    expect(pythonRound2(2.675)).toBe(2.67); // 2.675 is 2.67499… in binary
    expect(pythonRound2(83.33333)).toBe(83.33);
  });

  it('averages task scores and finds the effective length (strictly above the threshold)', () => {
    expect(rulerAverage({ niah_single_1: 100, cwe: 50, qa_1: 75 })).toBe(75);
    const byLength = { 4096: 95.2, 8192: 90.1, 16384: 85.6, 32768: 70 };
    expect(effectiveLength(byLength)).toBe(8192);
    expect(effectiveLength(byLength, 85)).toBe(16384);
    expect(effectiveLength(new Map([[4096, 80]]))).toBeUndefined();
    expect(() => rulerTaskScore([])).toThrow(/at least one sample/);
    expect(() => scoreRuler('cwe', 'x', [])).toThrow(/reference/);
  });
});
