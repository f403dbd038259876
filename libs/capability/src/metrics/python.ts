/**
 * The few Python/NumPy string and number semantics the official metric code relies on, written
 * out so that the TypeScript ports give the same results character for character.
 */

/** Characters for which Python's str.isspace() is true (what str.split() / str.strip() use). */
const PY_WS = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_WS_RUN = new RegExp(`[${PY_WS}]+`, 'u');
const PY_STRIP = new RegExp(`^[${PY_WS}]+|[${PY_WS}]+$`, 'gu');

/** Python's `s.split()`: runs of Unicode whitespace separate, no empty fields. */
export function pySplit(s: string): string[] {
  return s.split(PY_WS_RUN).filter((t) => t.length > 0);
}

/** Python's `s.strip()`. */
export function pyStrip(s: string): string {
  return s.replace(PY_STRIP, '');
}

/** Python's `re.findall(r"\d+", s)` on a str: `\d` is any Unicode decimal digit (Nd). */
export function pyFindDigitRuns(s: string): string[] {
  return s.match(/\p{Nd}+/gu) ?? [];
}

/** Python's `round(x, 2)` on a float: the nearest hundredth, exact binary ties to even. */
export function pyRound2(x: number): number {
  if (!Number.isFinite(x)) return x;
  const tie = Number.isInteger(x * 8) && !Number.isInteger(x * 4);
  if (!tie) return Number(x.toFixed(2));
  const lower = Math.floor(x * 100);
  return (lower % 2 === 0 ? lower : lower + 1) / 100;
}

/** NumPy's `round(np.float64(x), 2)`: multiply by 100, rint (ties to even), divide by 100. */
export function npRound2(x: number): number {
  const y = x * 100;
  const r = Math.round(y);
  const rint = r - y === 0.5 && r % 2 !== 0 ? r - 1 : r;
  return rint / 100;
}

/** NumPy's pairwise summation of float64 (numpy/core/src/umath/loops_utils.h.src, pairwise_sum). */
function npPairwiseSum(a: readonly number[], start: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i]!;
    return res;
  }
  if (n <= 128) {
    const r = a.slice(start, start + 8);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let k = 0; k < 8; k++) r[k]! += a[start + i + k]!;
    let res = r[0]! + r[1]! + (r[2]! + r[3]!) + (r[4]! + r[5]! + (r[6]! + r[7]!));
    for (; i < n; i++) res += a[start + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return npPairwiseSum(a, start, n2) + npPairwiseSum(a, start + n2, n - n2);
}

/** `np.mean(list_of_floats)`: pairwise sum divided by the count; NaN for an empty list. */
export function npMean(a: readonly number[]): number {
  return a.length === 0 ? NaN : npPairwiseSum(a, 0, a.length) / a.length;
}
