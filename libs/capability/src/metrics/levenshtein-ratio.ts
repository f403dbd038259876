/**
 * fuzzywuzzy 0.18 `fuzz.ratio(s1, s2)` with python-Levenshtein installed (fuzzywuzzy/fuzz.py,
 * StringMatcher.py): equal strings → 100; an empty one → 0; else
 * `int(round(100 * Levenshtein.ratio(s1, s2)))`, the ratio being (|s1|+|s2|−d)/(|s1|+|s2|) with d
 * the edit distance in which a substitution costs 2 (so |s1|+|s2|−d = 2·LCS), over code points.
 * Python's round sends exact halves to the even integer; fuzzball's Math.round does not, which is
 * why this is written out rather than taken from fuzzball.
 */
export function fuzzRatio(s1: string, s2: string): number {
  if (s1 === s2) return 100;
  const a = Array.from(s1);
  const b = Array.from(s2);
  if (a.length === 0 || b.length === 0) return 0;
  const lensum = a.length + b.length;
  const ldist = lensum - 2 * lcsLength(a, b);
  return roundHalfEven(100 * ((lensum - ldist) / lensum));
}

function lcsLength(a: readonly string[], b: readonly string[]): number {
  let prev = new Int32Array(b.length + 1);
  let row = new Int32Array(b.length + 1);
  for (const ca of a) {
    for (let j = 1; j <= b.length; j++) row[j] = ca === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, row[j - 1]!);
    [prev, row] = [row, prev];
  }
  return prev[b.length]!;
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
