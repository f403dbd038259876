import { contextLabel } from '@ctxlab/contracts';

// Formatting for card text. Locale-independent on purpose: a card must read the same whichever
// host renders it, and numbers are printed exactly as given (no rounding of published figures).

/** 15296098 → "15,296,098"; non-integers keep every digit they have. */
export function fmtNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (!Number.isInteger(n)) {
    // Very small values (learning rates) read better in exponent form; it is exact either way.
    if (n !== 0 && Math.abs(n) < 1e-3) return fmtExp(n);
    const [whole, frac] = String(n).split('.');
    return `${groupDigits(whole ?? '0')}${frac === undefined ? '' : `.${frac}`}`;
  }
  if (Math.abs(n) >= 1e21) return String(n);
  return groupDigits(String(n));
}

function groupDigits(digits: string): string {
  const sign = digits.startsWith('-') ? '-' : '';
  return sign + digits.replace('-', '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** 2e-5 → "2e-5", 0.00015 → "1.5e-4": the shortest exact exponent form. */
export function fmtExp(n: number): string {
  return n.toExponential().replace('e+', 'e');
}

/** A token count with the field's label: 1048576 → "1,048,576 (1048K)". */
export function fmtTokens(n: number): string {
  const label = contextLabel(n);
  return label === String(n) ? fmtNumber(n) : `${fmtNumber(n)} (${label})`;
}

/** A value with its unit: "87.5 %", "6.12 ppl"; a percent sign hugs the number. */
export function fmtValue(v: number | null, unit?: string): string {
  if (v === null) return '—';
  const s = fmtNumber(v);
  if (!unit) return s;
  return unit === '%' ? `${s}%` : `${s} ${unit}`;
}

/** A signed difference: "+1.2", "-3.4", "0". */
export function fmtSigned(v: number | null, unit?: string): string {
  if (v === null) return '—';
  const s = fmtValue(v, unit);
  return v > 0 ? `+${s}` : s;
}

/** Parameters as people say them, with the exact count: 70553706496 → "70.55B (70,553,706,496)". */
export function fmtParams(n: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [size, suffix] of units) if (n >= size) return `${(n / size).toFixed(2).replace(/\.?0+$/, '')}${suffix} (${fmtNumber(n)})`;
  return fmtNumber(n);
}

export function fmtBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1).replace(/\.0$/, '')} KiB`;
  return `${fmtNumber(n)} bytes`;
}

/** An ISO date (YYYY-MM-DD) from a Date or an ISO string; other strings as given. */
export function fmtDate(d: string | Date): string {
  if (d instanceof Date) return Number.isNaN(d.getTime()) ? 'unknown' : d.toISOString().slice(0, 10);
  return /^\d{4}-\d{2}-\d{2}T/.test(d) ? d.slice(0, 10) : d;
}

/** Text for one table cell: a pipe would end the cell and a newline the row. */
export function cell(s: string | number | null | undefined): string {
  if (s === null || s === undefined || s === '') return '—';
  const t = typeof s === 'number' ? fmtNumber(s) : s;
  return t.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

/** Inline code that survives backticks in its text. */
export function code(s: string): string {
  const fence = s.includes('`') ? '``' : '`';
  return `${fence}${fence.length > 1 ? ' ' : ''}${s}${fence.length > 1 ? ' ' : ''}${fence}`;
}

/** One-line text for headings and link labels. */
export function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** Link text cannot hold unbalanced brackets. */
export function linkText(s: string): string {
  return oneLine(s).replace(/[[\]]/g, (c) => `\\${c}`);
}

export type Align = 'left' | 'right' | 'center';

/** A GitHub-flavoured Markdown table (the Hub renders GFM). */
export function table(headers: string[], rows: (string | number | null | undefined)[][], align: Align[] = []): string {
  const rule = headers.map((_, i) => {
    const a = align[i] ?? 'left';
    return a === 'right' ? '---:' : a === 'center' ? ':---:' : '---';
  });
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers.map(cell)), line(rule), ...rows.map((r) => line(headers.map((_, i) => cell(r[i]))))].join('\n');
}

/** File-name slug: lower-case letters, digits and single dashes. */
export function slugify(s: string): string {
  const slug = s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return slug || 'heatmap';
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_\-.,/:=@+%]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * An argv as a readable shell command: the program and its positional arguments on the first line,
 * then one `--flag value` per continuation line, so each setting can be read (and grepped) whole.
 */
export function shellCommand(argv: readonly string[], env: Record<string, string> = {}): string {
  const head: string[] = Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`);
  const groups: string[][] = [];
  let i = 0;
  while (i < argv.length && !argv[i]!.startsWith('-')) head.push(shellQuote(argv[i++]!));
  while (i < argv.length) {
    const group = [shellQuote(argv[i++]!)];
    if (!group[0]!.includes('=') && i < argv.length && !argv[i]!.startsWith('--')) group.push(shellQuote(argv[i++]!));
    groups.push(group);
  }
  return [head.join(' '), ...groups.map((g) => `  ${g.join(' ')}`)].join(' \\\n');
}

/** A fenced code block whose fence outlasts any backtick run inside. */
export function fenced(lang: string, body: string): string {
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${body.replace(/\n+$/, '')}\n${fence}`;
}
