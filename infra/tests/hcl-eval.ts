/**
 * Enough of Terraform's evaluation, without Terraform, to check an environment's tfvars against
 * the stack: `convert` applies a variable's type constraint to a value (as Terraform does,
 * filling `optional(…)` attributes), and `evaluate` computes a `validation` condition over it.
 *
 * Expressions are parsed by HCL's own parser (`@cdktf/hcl2json`'s `getExpressionAst`); this
 * file only walks the tree. It knows the operators, conditionals, for expressions, templates,
 * traversals and the functions the configurations' conditions use; anything else throws
 * `Unsupported`, and a reference to something only a plan knows (`module.x`, `local.x`,
 * `data.x`) throws `Unknown`, so a check built on it fails (or skips, where it says so) instead
 * of passing by accident. `can(…)` catches only `EvalError`, as Terraform's catches only
 * evaluation errors.
 */
import { getExpressionAst } from '@cdktf/hcl2json';

type Node = {
  type: string;
  meta?: Record<string, unknown> | null;
  children: Node[];
  range?: { start: { byte: number }; end: { byte: number } };
};

export type Value = null | boolean | number | string | Value[] | { [key: string]: Value };
type Obj = { [key: string]: Value };

/** The expression cannot be evaluated because it is wrong for these values: what `can()` catches. */
export class EvalError extends Error {}
/** The expression needs a value only a plan has (a module output, a local, a data source). */
export class Unknown extends Error {}
/** The expression uses a construct this evaluator does not implement. */
export class Unsupported extends Error {}

const isObj = (v: Value | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

async function ast(expr: string): Promise<Node> {
  const node = (await getExpressionAst('expr.tf', expr)) as Node | null;
  if (!node) throw new Unsupported(`cannot parse ${expr}`);
  return node;
}

/** The expression inside hcl2json's "${…}" string, or null for a template or a plain string. */
export function unwrap(s: string): string | null {
  const m = /^\$\{([\s\S]*)\}$/.exec(s);
  return m && !m[1]!.includes('${') ? m[1]! : null;
}

// ---------------------------------------------------------------------------------------------
// Type constraints
// ---------------------------------------------------------------------------------------------

export type TfType =
  | { kind: 'string' | 'number' | 'bool' | 'any' }
  | { kind: 'list' | 'set' | 'map'; of: TfType }
  | { kind: 'tuple'; items: TfType[] }
  | { kind: 'object'; attrs: Map<string, { type: TfType; optional: boolean; default: Value | undefined }> };

/** Parses a variable's `type` as hcl2json gives it ("${map(object({…}))}"). */
export async function parseType(typeString: string): Promise<TfType> {
  const expr = unwrap(typeString);
  if (expr === null) throw new Unsupported(`type ${typeString}`);
  return typeOf(await ast(expr), expr);
}

async function typeOf(node: Node, src: string): Promise<TfType> {
  if (node.type === 'scopeTraversal') {
    const name = String(node.meta?.fullAccessor);
    if (name === 'string' || name === 'number' || name === 'bool' || name === 'any') return { kind: name };
  }
  if (node.type === 'function') {
    const name = String(node.meta?.name);
    const [first] = node.children;
    if ((name === 'list' || name === 'set' || name === 'map') && first) return { kind: name, of: await typeOf(first, src) };
    if (name === 'tuple' && first?.type === 'tuple') return { kind: 'tuple', items: await Promise.all(first.children.map((c) => typeOf(c, src))) };
    if (name === 'object' && first?.type === 'object') {
      const attrs = new Map<string, { type: TfType; optional: boolean; default: Value | undefined }>();
      for (const [key, value] of objectPairs(first, src)) {
        if (value.type === 'function' && value.meta?.name === 'optional') {
          const [t, d] = value.children;
          attrs.set(key, { type: await typeOf(t!, src), optional: true, default: d ? await evalNode(d, {}, src) : undefined });
        } else attrs.set(key, { type: await typeOf(value, src), optional: false, default: undefined });
      }
      return { kind: 'object', attrs };
    }
  }
  throw new Unsupported(`type constraint ${String(node.meta?.value ?? node.type)}`);
}

/** An object constructor's key → value nodes: bare keys are read back from the source by their range. */
function objectPairs(node: Node, src: string): [string, Node][] {
  const out: [string, Node][] = [];
  for (let i = 0; i + 1 < node.children.length; i += 2) {
    const k = node.children[i]!;
    const inner = k.children[0];
    let key: string;
    if (inner?.type === 'template' && inner.children.length === 1 && inner.children[0]!.type === 'literalValue') key = String(inner.children[0]!.meta?.value);
    else if (!inner && k.range) key = Buffer.from(src).subarray(k.range.start.byte, k.range.end.byte).toString().trim();
    else throw new Unsupported(`object key in ${String(node.meta?.value)}`);
    out.push([key, node.children[i + 1]!]);
  }
  return out;
}

/**
 * A value converted to a type as Terraform converts a variable's value: primitives convert
 * where Terraform's automatic conversions do, `optional` attributes get their defaults (or
 * null), a missing required attribute is an error. `strict` also rejects attributes the type
 * does not declare (Terraform drops them silently, which hides a misspelled attribute in a
 * tfvars file); without it they are dropped, as when a module receives a wider object.
 */
export function convert(value: Value, type: TfType, strict: boolean, path = 'value'): Value {
  if (value === null) return null;
  const fail = (what: string): never => {
    throw new EvalError(`${path}: ${what}`);
  };
  switch (type.kind) {
    case 'any':
      return value;
    case 'string':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      return fail(`expected a string, got ${JSON.stringify(value)}`);
    case 'number':
      if (typeof value === 'number') return value;
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
      return fail(`expected a number, got ${JSON.stringify(value)}`);
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      return fail(`expected a bool, got ${JSON.stringify(value)}`);
    case 'list':
    case 'set': {
      if (!Array.isArray(value)) return fail(`expected a ${type.kind}, got ${JSON.stringify(value)}`);
      const items = value.map((v, i) => convert(v, type.of, strict, `${path}[${i}]`));
      return type.kind === 'set' ? [...new Map(items.map((v) => [canonical(v), v])).values()] : items;
    }
    case 'tuple':
      if (!Array.isArray(value) || value.length !== type.items.length) return fail(`expected a tuple of ${type.items.length}`);
      return value.map((v, i) => convert(v, type.items[i]!, strict, `${path}[${i}]`));
    case 'map':
      if (!isObj(value)) return fail(`expected a map, got ${JSON.stringify(value)}`);
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convert(v, type.of, strict, `${path}.${k}`)]));
    case 'object': {
      if (!isObj(value)) return fail(`expected an object, got ${JSON.stringify(value)}`);
      const out: Obj = {};
      for (const [name, attr] of type.attrs) {
        if (name in value) out[name] = convert(value[name]!, attr.type, strict, `${path}.${name}`);
        else if (attr.optional) out[name] = attr.default === undefined ? null : convert(attr.default, attr.type, false, `${path}.${name}`);
        else fail(`required attribute "${name}" is missing`);
      }
      if (strict) for (const k of Object.keys(value)) if (!type.attrs.has(k)) fail(`attribute "${k}" is not in the type (Terraform would drop it silently)`);
      return out;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------------------------

/** Names in scope: `var` (an object of variables) and for-expression iterators. */
export type Scope = Record<string, Value>;

/** Evaluates an expression (its source text, without "${…}"). */
export async function evaluate(expr: string, scope: Scope): Promise<Value> {
  return evalNode(await ast(expr), scope, expr);
}

/**
 * Evaluates an attribute as hcl2json gives it: "${expr}" strings are expressions, other strings
 * literals (a template mixing text and interpolation is Unsupported), objects and arrays by
 * their elements.
 */
export async function evaluateJson(json: unknown, scope: Scope): Promise<Value> {
  if (typeof json === 'string') {
    if (!json.includes('${')) return json;
    const expr = unwrap(json);
    if (expr === null) throw new Unsupported(`template ${json}`);
    return evaluate(expr, scope);
  }
  if (Array.isArray(json)) return Promise.all(json.map((j) => evaluateJson(j, scope)));
  if (typeof json === 'object' && json !== null) {
    const out: Obj = {};
    for (const [k, v] of Object.entries(json)) out[k] = await evaluateJson(v, scope);
    return out;
  }
  return json as Value;
}

const typeName = (v: Value) => (v === null ? 'null' : Array.isArray(v) ? 'tuple' : typeof v === 'object' ? 'object' : typeof v);

function num(v: Value, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  throw new EvalError(`${what}: a number is required, got ${typeName(v)}`);
}

function bool(v: Value, what: string): boolean {
  if (typeof v === 'boolean') return v;
  throw new EvalError(`${what}: a bool is required, got ${typeName(v)}`);
}

function str(v: Value, what: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new EvalError(`${what}: a string is required, got ${typeName(v)}`);
}

function obj(v: Value, what: string): Obj {
  if (isObj(v)) return v;
  throw new EvalError(`${what}: an object or map is required, got ${typeName(v)}`);
}

function elements(v: Value, what: string): Value[] {
  if (Array.isArray(v)) return v;
  if (isObj(v)) return Object.values(v);
  throw new EvalError(`${what}: a collection is required, got ${typeName(v)}`);
}

/** Equality as HCL's ==: by value, objects whatever their key order. */
const canonical = (v: Value): string =>
  Array.isArray(v) ? `[${v.map(canonical).join(',')}]` : isObj(v) ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k]!)}`).join(',')}}` : JSON.stringify(v);
const equal = (a: Value, b: Value) => canonical(a) === canonical(b);

function attr(v: Value, key: string | number, what: string): Value {
  if (Array.isArray(v)) {
    const i = typeof key === 'number' ? key : Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= v.length) throw new EvalError(`${what}: index ${key} out of range`);
    return v[i]!;
  }
  if (isObj(v)) {
    if (!(String(key) in v)) throw new EvalError(`${what}: no attribute or key "${key}"`);
    return v[String(key)]!;
  }
  throw new EvalError(`${what}: cannot read "${key}" of ${typeName(v)}`);
}

/** HCL's regex() (RE2) for the patterns JavaScript reads the same way. */
function regex(pattern: string, s: string): Value {
  if (/\(\?P<|\\[pPQEzA]|\[\[:/.test(pattern)) throw new Unsupported(`RE2-only regex syntax in ${pattern}`);
  const m = new RegExp(pattern, 'u').exec(s);
  if (!m) throw new EvalError(`regex ${pattern} does not match ${JSON.stringify(s)}`);
  if (m.groups) return { ...m.groups } as Obj;
  return m.length > 1 ? m.slice(1).map((g) => g ?? null) : m[0];
}

const FUNCTIONS: Record<string, (args: Value[]) => Value> = {
  regex: ([p, s]) => regex(str(p!, 'regex'), str(s!, 'regex')),
  contains: ([c, v]) => elements(c!, 'contains').some((e) => equal(e, v!)),
  length: ([v]) => (typeof v === 'string' ? [...v].length : elements(v!, 'length').length),
  distinct: ([v]) => [...new Map(elements(v!, 'distinct').map((e) => [canonical(e), e])).values()],
  keys: ([v]) => Object.keys(obj(v!, 'keys')).sort(),
  values: ([v]) => {
    const o = obj(v!, 'values');
    return Object.keys(o).sort().map((k) => o[k]!);
  },
  alltrue: ([v]) => elements(v!, 'alltrue').every((e) => bool(e, 'alltrue')),
  anytrue: ([v]) => elements(v!, 'anytrue').some((e) => bool(e, 'anytrue')),
  floor: ([v]) => Math.floor(num(v!, 'floor')),
  ceil: ([v]) => Math.ceil(num(v!, 'ceil')),
  abs: ([v]) => Math.abs(num(v!, 'abs')),
  min: (args) => Math.min(...args.map((a) => num(a, 'min'))),
  max: (args) => Math.max(...args.map((a) => num(a, 'max'))),
  lower: ([v]) => str(v!, 'lower').toLowerCase(),
  upper: ([v]) => str(v!, 'upper').toUpperCase(),
  startswith: ([s, p]) => str(s!, 'startswith').startsWith(str(p!, 'startswith')),
  endswith: ([s, p]) => str(s!, 'endswith').endsWith(str(p!, 'endswith')),
  tostring: ([v]) => (v === null ? null : str(v!, 'tostring')),
  tonumber: ([v]) => (v === null ? null : num(v!, 'tonumber')),
  merge: (args) => Object.assign({}, ...args.map((a) => (a === null ? {} : obj(a, 'merge')))) as Obj,
  coalesce: (args) => {
    const v = args.find((a) => a !== null && a !== '');
    if (v === undefined) throw new EvalError('coalesce: no non-null, non-empty argument');
    return v;
  },
};

async function evalNode(node: Node, scope: Scope, src: string): Promise<Value> {
  const meta = node.meta ?? {};
  const what = String(meta.value ?? node.type);
  const child = (i: number) => evalNode(node.children[i]!, scope, src);
  switch (node.type) {
    case 'literalValue': {
      const v = String(meta.value);
      if (meta.type === 'string') return v;
      if (meta.type === 'number') return Number(v);
      if (meta.type === 'bool') return v === 'true';
      if (v === 'null') return null;
      throw new Unsupported(`literal ${v}`);
    }
    case 'template':
    case 'templateWrap': {
      const parts = await Promise.all(node.children.map((_, i) => child(i)));
      if (node.type === 'templateWrap' || (parts.length === 1 && node.children[0]!.type !== 'literalValue')) return parts[0]!;
      return parts.map((p) => str(p, what)).join('');
    }
    case 'scopeTraversal':
    case 'relativeTraversal': {
      const parts = (meta.traversal ?? []) as { type: string; segment: string }[];
      let v: Value;
      let rest = parts;
      if (node.type === 'relativeTraversal') v = await child(0);
      else {
        const root = parts[0]?.segment ?? '';
        if (['module', 'local', 'data', 'path', 'terraform', 'count', 'each', 'self'].includes(root)) throw new Unknown(what);
        if (!(root in scope)) throw new Unsupported(`unknown name ${root} in ${what}`);
        v = scope[root]!;
        rest = parts.slice(1);
      }
      for (const p of rest) v = attr(v, p.type === 'indexTraversal' ? (JSON.parse(p.segment) as string | number) : p.segment, what);
      return v;
    }
    case 'index':
      return attr(await child(0), (await child(1)) as string | number, what);
    case 'tuple':
      return Promise.all(node.children.map((_, i) => child(i)));
    case 'object': {
      const out: Obj = {};
      for (const [k, v] of objectPairs(node, src)) out[k] = await evalNode(v, scope, src);
      return out;
    }
    case 'conditional':
      return bool(await child(0), what) ? child(1) : child(2);
    case 'unaryOp': {
      const v = await child(0);
      if (meta.operator === 'logicalNot') return !bool(v, what);
      if (meta.operator === 'negate') return -num(v, what);
      throw new Unsupported(`operator ${String(meta.operator)}`);
    }
    case 'binaryOp': {
      // Both sides, always: HCL's && and || do not short-circuit, so neither does this.
      const [a, b] = [await child(0), await child(1)];
      switch (meta.operator) {
        case 'equal':
          return equal(a, b);
        case 'notEqual':
          return !equal(a, b);
        case 'logicalAnd':
          return bool(a, what) && bool(b, what);
        case 'logicalOr':
          return bool(a, what) || bool(b, what);
        case 'lessThan':
          return num(a, what) < num(b, what);
        case 'lessThanOrEqual':
          return num(a, what) <= num(b, what);
        case 'greaterThan':
          return num(a, what) > num(b, what);
        case 'greaterThanOrEqual':
          return num(a, what) >= num(b, what);
        case 'add':
          return num(a, what) + num(b, what);
        case 'subtract':
          return num(a, what) - num(b, what);
        case 'multiply':
          return num(a, what) * num(b, what);
        case 'divide':
          return num(a, what) / num(b, what);
        case 'modulo':
          return num(a, what) % num(b, what);
      }
      throw new Unsupported(`operator ${String(meta.operator)}`);
    }
    case 'function': {
      const name = String(meta.name);
      if (name === 'can' || name === 'try') {
        for (const c of node.children) {
          try {
            const v = await evalNode(c, scope, src);
            return name === 'can' ? true : v;
          } catch (e) {
            if (!(e instanceof EvalError)) throw e;
          }
        }
        if (name === 'can') return false;
        throw new EvalError(`try: no argument could be evaluated in ${what}`);
      }
      const fn = FUNCTIONS[name];
      if (!fn) throw new Unsupported(`function ${name}`);
      let args = await Promise.all(node.children.map((_, i) => child(i)));
      if (meta.expandedFinalArgument) args = [...args.slice(0, -1), ...elements(args[args.length - 1]!, what)];
      return fn(args);
    }
    case 'for': {
      const keyExpr = String(meta.keyExpression ?? '');
      const condExpr = String(meta.conditionalExpression ?? '');
      const [collNode, ...restNodes] = node.children;
      const keyNode = keyExpr ? restNodes.shift() : undefined;
      const valueNode = restNodes.shift();
      const condNode = condExpr ? restNodes.shift() : undefined;
      if (!collNode || !valueNode) throw new Unsupported(what);
      const coll = await evalNode(collNode, scope, src);
      let entries: [Value, Value][];
      if (Array.isArray(coll)) entries = coll.map((v, i) => [i, v]);
      else entries = Object.keys(obj(coll, what)).sort().map((k) => [k, (coll as Obj)[k]!]);
      const keyVar = String(meta.keyVar ?? '');
      const valVar = String(meta.valVar ?? '');
      const results: [Value, Value][] = [];
      for (const [k, v] of entries) {
        const inner: Scope = { ...scope, [valVar]: v, ...(keyVar ? { [keyVar]: k } : {}) };
        if (condNode && !bool(await evalNode(condNode, inner, src), what)) continue;
        results.push([keyNode ? await evalNode(keyNode, inner, src) : null, await evalNode(valueNode, inner, src)]);
      }
      if (!keyNode) return results.map(([, v]) => v);
      const out: Record<string, Value> = {};
      for (const [k, v] of results) {
        const key = str(k, what);
        if (meta.groupedValue) out[key] = [...((out[key] as Value[] | undefined) ?? []), v];
        else if (key in out) throw new EvalError(`${what}: duplicate key ${key}`);
        else out[key] = v;
      }
      return out;
    }
  }
  throw new Unsupported(`${node.type} expression ${what}`);
}
