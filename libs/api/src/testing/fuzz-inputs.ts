/**
 * Inputs for fuzzing procedures: fast-check arbitraries derived from a procedure's own zod input
 * schema (through zod's JSON Schema export, which carries the bounds, enums, patterns and
 * discriminators), and hostile values spliced into them at a random place.
 */
import fc from 'fast-check';
import { z } from 'zod';

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
}

export interface InputPools {
  /** Ids of records that exist, so generated inputs reach past "not found". */
  ids: readonly string[];
  /** URLs generated for `format: uri` strings (loopback ports nothing listens on: no outside traffic). */
  urls: readonly string[];
}

const deepArray = (levels: number): unknown => {
  let v: unknown = 0;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
};
const deepObject = (levels: number): unknown => {
  let v: unknown = { leaf: 'x' };
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
};

/** Values that broke, or could break, a handler: NUL bytes, int32 overflow, huge and deep structures, wrong types. */
export const HOSTILE: readonly unknown[] = [
  'a\u0000b',
  '\u0000',
  { key: 'nul\u0000inside' },
  { 'nul\u0000key': 1 },
  2 ** 31,
  2 ** 31 - 1,
  -(2 ** 31) - 1,
  2 ** 53 + 2,
  -1,
  0,
  0.5,
  1e12,
  3e9,
  1e308,
  -1e308,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  10n ** 30n,
  new Date(Number.NaN),
  null,
  undefined,
  true,
  '',
  ' ',
  '1e12',
  {},
  [],
  'x'.repeat(1 << 20),
  `${'y'.repeat(1 << 20)}\u0000`,
  Array.from({ length: 100_000 }, (_, i) => i),
  Array.from({ length: 10_000 }, () => 'a\u0000'),
  deepArray(3_000),
  deepObject(1_000),
  JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'),
];

function bounds(s: JsonSchema, integer: boolean): { lo: number; hi: number } {
  const step = integer ? 1 : Number.EPSILON;
  const lo = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + step : -1e6);
  const hi = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - step : 1e6);
  return { lo, hi };
}

function stringArb(s: JsonSchema, key: string, pools: InputPools): fc.Arbitrary<string> {
  const min = s.minLength ?? 0;
  const max = Math.max(min, Math.min(s.maxLength ?? 40, 40));
  if (/(^|[a-z])(id|Id|ids)$/.test(key) && pools.ids.length) return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...pools.ids) }, { weight: 1, arbitrary: fc.string({ minLength: min, maxLength: max }) });
  if (s.format === 'email') return fc.emailAddress();
  if (s.format === 'uri' || /url$/i.test(key)) return fc.constantFrom(...pools.urls);
  if (s.pattern) {
    const re = new RegExp(s.pattern);
    return fc.stringMatching(re).filter((x) => x.length >= min && x.length <= (s.maxLength ?? Infinity));
  }
  return fc.string({ minLength: min, maxLength: max, unit: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...'abcxyz019-_ .') }, { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }) }) });
}

/** Arbitrary values that a JSON Schema accepts (mostly: patterns and cross-field rules may still refuse some). */
export function arbitraryFor(s: JsonSchema, pools: InputPools, key = '', depth = 0): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const alts = s.anyOf ?? s.oneOf;
  if (alts?.length) return fc.oneof(...alts.map((a) => arbitraryFor(a, pools, key, depth + 1)));
  if (s.allOf?.[0]) return arbitraryFor(s.allOf[0], pools, key, depth + 1);
  if (Array.isArray(s.type)) return fc.oneof(...s.type.map((t) => arbitraryFor({ ...s, type: t }, pools, key, depth + 1)));
  switch (s.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer': {
      const { lo, hi } = bounds(s, true);
      const near = Math.min(hi, Math.max(lo, 0) + 100_000);
      return fc.oneof({ weight: 6, arbitrary: fc.integer({ min: Math.max(lo, -(2 ** 31)), max: Math.max(Math.min(near, 2 ** 31 - 1), Math.max(lo, -(2 ** 31))) }) }, { weight: 1, arbitrary: fc.constantFrom(lo, hi) });
    }
    case 'number': {
      const { lo, hi } = bounds(s, false);
      return fc.oneof({ weight: 6, arbitrary: fc.double({ min: lo, max: Math.min(hi, Math.max(lo, 0) + 1e6), noNaN: true, noDefaultInfinity: true }) }, { weight: 1, arbitrary: fc.constantFrom(lo, hi) });
    }
    case 'string':
      return stringArb(s, key, pools);
    case 'array': {
      const items = s.items ?? {};
      const min = s.minItems ?? 0;
      return fc.array(arbitraryFor(items, pools, key, depth + 1), { minLength: min, maxLength: Math.max(min, Math.min(s.maxItems ?? 4, 4)) });
    }
    case 'object': {
      if (s.properties) {
        const props = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, arbitraryFor(v, pools, k, depth + 1)]));
        return fc.record(props, { requiredKeys: (s.required ?? []).filter((k) => k in props) });
      }
      const values = typeof s.additionalProperties === 'object' ? s.additionalProperties : {};
      return fc.dictionary(fc.string({ maxLength: 12 }), arbitraryFor(values, pools, key, depth + 1), { maxKeys: 4 });
    }
    default:
      // unknown / any: JSON of any shape.
      return depth > 6 ? fc.constant(null) : fc.jsonValue({ maxDepth: 3 });
  }
}

/** Every place in a value a hostile value can go: the root, each property and each array item. */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (out.length > 500) return out;
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

function replaceAt(v: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (Array.isArray(v)) return v.map((x, i) => (i === head ? replaceAt(x, rest, value) : x));
  const o = v as Record<string, unknown>;
  return { ...o, [head!]: replaceAt(o[head!], rest, value) };
}

/**
 * A procedure's inputs: mostly what its schema accepts, and as often a hostile value put at one
 * place of such an input (the root included), so that checks deep inside are reached too.
 */
export function fuzzInputs(schema: z.ZodType, pools: InputPools, opts: { hostile?: readonly unknown[] | undefined } = {}): fc.Arbitrary<unknown> {
  const valid = arbitraryFor(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema, pools);
  const hostile = fc.tuple(valid, fc.nat(), fc.constantFrom(...(opts.hostile ?? HOSTILE))).map(([v, n, h]) => {
    const all = paths(v);
    return replaceAt(v, all[n % all.length]!, h);
  });
  return fc.oneof(valid, hostile);
}
