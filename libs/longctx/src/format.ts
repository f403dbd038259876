// Locale-independent formatting for explanation strings and messages: output must not
// change with the host's ICU data or LANG.

/** An integer with thousands separators: 15296098 → "15,296,098". */
export function fmtInt(n: number): string {
  const sign = n < 0 ? '-' : '';
  const digits = Math.trunc(Math.abs(n)).toString();
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A real number with up to `digits` decimals and no trailing zeros: 15296098.403706 → "15296098.404". */
export function fmtNum(n: number, digits = 3): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return n.toString();
  const fixed = n.toFixed(digits);
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

/** Compact scientific form used in recipe messages: 207112184 → "2.07e8". */
export function fmtSci(n: number): string {
  return n >= 1e6 ? n.toExponential(2).replace('e+', 'e') : fmtInt(n);
}

/** Bytes as GiB with two decimals: 5980160000 → "5.57 GiB". */
export function fmtGiB(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}
