/** Small formatting helpers shared by the renderers. */

/**
 * A number as a command line takes it: integers in full (3580165449, never 3.58e9), small
 * fractions in exponent form as recipes write them (2e-5), everything else as JavaScript prints it.
 */
export function num(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`not a finite number: ${n}`);
  if (Number.isInteger(n)) return Math.abs(n) < 1e21 ? n.toFixed(0) : String(n);
  if (Math.abs(n) < 1e-3) return n.toExponential().replace('e+', 'e');
  return String(n);
}

/** Quotes a word for a POSIX shell when it needs quoting. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_\-.,/:=@+%]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

export const shellJoin = (argv: readonly string[]): string => argv.map(shellQuote).join(' ');

/** Runs commands in order under `sh -e`: the first that fails stops the job with its exit status. */
export function sequence(steps: readonly (readonly string[])[]): string[] {
  if (steps.length === 1) return [...steps[0]!];
  return ['sh', '-ec', steps.map(shellJoin).join('\n')];
}

// ---------------------------------------------------------------------------------------------
// A YAML emitter for the configs we render (maps, lists, scalars). Strings that YAML 1.1 (PyYAML,
// which accelerate and mergekit use) could read as anything else are double-quoted, JSON-style.
// ---------------------------------------------------------------------------------------------

export type YamlValue = string | number | boolean | null | YamlValue[] | { [k: string]: YamlValue };

const YAML_11_SPECIAL = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~)$/;

/** PyYAML reads a float only with a dot in the mantissa and a signed exponent (1.0e-05, not 1e-5). */
function yamlNumber(n: number): string {
  if (Number.isInteger(n)) return num(n);
  const [mantissa = '', exponent] = String(n).split('e');
  if (exponent === undefined) return mantissa;
  const m = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
  return `${m}e${exponent.startsWith('-') || exponent.startsWith('+') ? exponent : `+${exponent}`}`;
}

function yamlScalar(v: string | number | boolean | null): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return yamlNumber(v);
  const plain = /^[A-Za-z_/][A-Za-z0-9_./+@-]*$/.test(v) && !YAML_11_SPECIAL.test(v);
  return plain ? v : JSON.stringify(v);
}

function isScalar(v: YamlValue): v is string | number | boolean | null {
  return v === null || typeof v !== 'object';
}

function emit(v: YamlValue, indent: string, sortKeys: boolean): string[] {
  if (isScalar(v)) return [indent + yamlScalar(v)];
  if (Array.isArray(v)) {
    if (v.length === 0) return [indent + '[]'];
    return v.flatMap((item) => {
      if (isScalar(item)) return [`${indent}- ${yamlScalar(item)}`];
      const inner = emit(item, indent + '  ', sortKeys);
      return [`${indent}- ${inner[0]!.trimStart()}`, ...inner.slice(1)];
    });
  }
  const entries = Object.entries(v);
  if (sortKeys) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.flatMap(([k, child]) => {
    const key = yamlScalar(k);
    if (isScalar(child) || (Array.isArray(child) && child.length === 0)) return [`${indent}${key}: ${emit(child, '', sortKeys)[0]}`];
    if (!Array.isArray(child) && Object.keys(child).length === 0) return [`${indent}${key}: {}`];
    return [`${indent}${key}:`, ...emit(child, indent + '  ', sortKeys)];
  });
}

/**
 * YAML block text for a map, with a trailing newline. `sortKeys` orders every map's keys by code point, as
 * PyYAML's `dump` does by default (and so every file a Python tool writes with it).
 */
export function toYaml(doc: { [k: string]: YamlValue }, opts: { sortKeys?: boolean } = {}): string {
  return emit(doc, '', opts.sortKeys ?? false).join('\n') + '\n';
}
