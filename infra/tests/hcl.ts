/**
 * Reads Terraform configurations without Terraform: `@cdktf/hcl2json` (HCL's own parser, as
 * WASM) turns each .tf file into JSON, and this file indexes what a configuration directory
 * declares (variables, locals, outputs, module calls, resources, data sources) and what its
 * expressions reference.
 *
 * How references are found: hcl2json keeps every expression as its source text inside
 * "${…}" (a literal stays a plain JSON value). Every string that holds an interpolation — and
 * every object key that does — goes through hcl2json's `getReferencesInExpression`, which
 * parses it with HCL's expression parser and returns its traversals (`var.x`,
 * `module.m.out`, `aws_s3_bucket.b.arn`), leaving out `for` iterator variables. So a reference
 * is found wherever it sits: in a for expression, a conditional, a template, a heredoc, a
 * nested block, a validation condition.
 *
 * An environment is not a configuration: it is a variable file (`envs/<env>.tfvars`) and a
 * backend file (`envs/<env>.backend.hcl`) for the one root stack. Both are plain HCL attributes,
 * which `parseValues` reads; `hcl-eval.ts` checks their values against the stack's types and
 * validations.
 */
import { getReferencesInExpression, parse } from '@cdktf/hcl2json';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// hcl2json's JSON: blocks become arrays of objects, attributes plain values or "${expr}" strings.
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface Reference {
  /** The traversal as HCL spells it, with indexes flattened: "module.cluster.vpc_id". */
  value: string;
  file: string;
}

export interface VariableDecl {
  file: string;
  hasDefault: boolean;
  body: JsonObject;
}

export interface Validation {
  condition: string;
  errorMessage: string;
}

export interface ModuleCall {
  file: string;
  source: string;
  version: string | undefined;
  /** Arguments other than Terraform's meta-arguments. */
  args: string[];
  /** Meta-arguments it sets other than source and version (count, for_each, providers, depends_on). */
  metaArgs: string[];
  body: JsonObject;
}

export interface TfConfig {
  dir: string;
  files: string[];
  variables: Map<string, VariableDecl>;
  outputs: Map<string, JsonObject>;
  locals: Map<string, Json>;
  modules: Map<string, ModuleCall>;
  /** "type.name" of every resource block. */
  resources: Set<string>;
  /** "type.name" of every data block (without the "data." prefix). */
  dataSources: Set<string>;
  providerBlocks: string[];
  terraformBlocks: JsonObject[];
  /** `backend "<type>" { … }` blocks inside terraform blocks. */
  backends: { type: string; body: JsonObject }[];
  references: Reference[];
  /** The raw JSON of each file, by file path. */
  json: Map<string, JsonObject>;
}

/** Terraform's meta-arguments of a module block: not inputs of the called module. */
export const MODULE_META_ARGUMENTS = new Set(['source', 'version', 'count', 'for_each', 'providers', 'depends_on']);

export function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every .tf file under `root`, sorted, skipping Terraform's working directories (.terraform, or a TF_DATA_DIR such as .terraform-prod). */
export function findTfFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      if (entry.startsWith('.terraform') || entry === 'node_modules') continue;
      const p = join(dir, entry);
      if (statSync(p).isDirectory()) walk(p);
      else if (entry.endsWith('.tf')) out.push(p);
    }
  };
  walk(root);
  return out;
}

/** Directories that hold .tf files: each is one Terraform configuration (root or child module). */
export function configDirs(root: string): string[] {
  return [...new Set(findTfFiles(root).map((f) => dirname(f)))].sort();
}

const parsed = new Map<string, Promise<JsonObject>>();

/** Parses one HCL file (cached): a .tf file, a .tfvars file or a backend config. Rejects with HCL's own diagnostic on a syntax error. */
export function parseFile(file: string): Promise<JsonObject> {
  let p = parsed.get(file);
  if (!p) {
    p = parse(file, readFileSync(file, 'utf8')) as Promise<JsonObject>;
    parsed.set(file, p);
  }
  return p;
}

/** A variable file or backend config: attribute name → value (literals; an expression stays "${…}"). */
export const parseValues = parseFile;

/** The validation blocks of a variable. */
export function validationsOf(decl: VariableDecl): Validation[] {
  const blocks = decl.body.validation;
  return (Array.isArray(blocks) ? blocks : []).filter(isObject).map((v) => ({ condition: String(v.condition), errorMessage: String(v.error_message) }));
}

/** The labelled blocks of one kind (`variable`, `output`, `module`): name → first body. */
function labelled(json: JsonObject, kind: string): [string, JsonObject][] {
  const blocks = json[kind];
  if (!isObject(blocks)) return [];
  return Object.entries(blocks).map(([name, bodies]) => {
    const body = Array.isArray(bodies) ? bodies[0] : bodies;
    return [name, isObject(body) ? body : {}];
  });
}

/** Doubly labelled blocks (`resource "type" "name"`): "type.name". */
function doublyLabelled(json: JsonObject, kind: string): string[] {
  const blocks = json[kind];
  if (!isObject(blocks)) return [];
  return Object.entries(blocks).flatMap(([type, byName]) => (isObject(byName) ? Object.keys(byName).map((name) => `${type}.${name}`) : []));
}

/** Every string (and object key) in a JSON tree that holds an interpolation. */
export function expressionStrings(node: Json, out: string[] = []): string[] {
  if (typeof node === 'string') {
    if (node.includes('${')) out.push(node);
  } else if (Array.isArray(node)) {
    for (const item of node) expressionStrings(item, out);
  } else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key.includes('${')) out.push(key);
      expressionStrings(value, out);
    }
  }
  return out;
}

/** Loads one configuration directory: every .tf file directly in it. */
export async function loadConfig(dir: string): Promise<TfConfig> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.tf'))
    .sort()
    .map((f) => join(dir, f));
  const cfg: TfConfig = {
    dir,
    files,
    variables: new Map(),
    outputs: new Map(),
    locals: new Map(),
    modules: new Map(),
    resources: new Set(),
    dataSources: new Set(),
    providerBlocks: [],
    terraformBlocks: [],
    backends: [],
    references: [],
    json: new Map(),
  };
  for (const file of files) {
    const json = await parseFile(file);
    cfg.json.set(file, json);
    for (const [name, body] of labelled(json, 'variable')) cfg.variables.set(name, { file, hasDefault: 'default' in body, body });
    for (const [name, body] of labelled(json, 'output')) cfg.outputs.set(name, body);
    for (const [name, body] of labelled(json, 'module')) {
      const source = body.source;
      const version = body.version;
      cfg.modules.set(name, {
        file,
        source: typeof source === 'string' ? source : '',
        version: typeof version === 'string' ? version : undefined,
        args: Object.keys(body).filter((k) => !MODULE_META_ARGUMENTS.has(k)),
        metaArgs: Object.keys(body).filter((k) => MODULE_META_ARGUMENTS.has(k) && k !== 'source' && k !== 'version'),
        body,
      });
    }
    const locals = json.locals;
    for (const block of Array.isArray(locals) ? locals : []) {
      if (isObject(block)) for (const [name, value] of Object.entries(block)) cfg.locals.set(name, value);
    }
    doublyLabelled(json, 'resource').forEach((r) => cfg.resources.add(r));
    doublyLabelled(json, 'data').forEach((d) => cfg.dataSources.add(d));
    if (isObject(json.provider)) cfg.providerBlocks.push(...Object.keys(json.provider));
    const tf = json.terraform;
    for (const block of Array.isArray(tf) ? tf : []) {
      if (!isObject(block)) continue;
      cfg.terraformBlocks.push(block);
      for (const [type, body] of labelled(block, 'backend')) cfg.backends.push({ type, body });
    }
    for (const expr of expressionStrings(json)) {
      for (const ref of await getReferencesInExpression(file, expr)) cfg.references.push({ value: ref.value, file });
    }
  }
  return cfg;
}

/** The module directory a local `source` points at, or null for a registry/remote source. */
export function localModuleDir(cfg: TfConfig, source: string): string | null {
  return source.startsWith('./') || source.startsWith('../') ? resolve(cfg.dir, source) : null;
}

/** References of one root kind: refsOf(cfg, 'var') → [{ name: 'region', attr: undefined, … }]. */
export function refsOf(cfg: TfConfig, root: 'var' | 'local' | 'module' | 'data'): { name: string; attr: string | undefined; ref: Reference }[] {
  return cfg.references
    .filter((r) => r.value.startsWith(`${root}.`))
    .map((ref) => {
      const parts = ref.value.split('.');
      // data.<type>.<name>: the "name" is type.name
      if (root === 'data') return { name: `${parts[1]}.${parts[2]}`, attr: parts[3], ref };
      return { name: parts[1] ?? '', attr: parts[2], ref };
    });
}

/** "modules/cluster/main.tf" for messages. */
export function rel(root: string, p: string): string {
  return relative(root, p) || '.';
}

/** The `required_providers` entries of a configuration: local name → body. */
export function requiredProviders(cfg: TfConfig): Map<string, JsonObject> {
  const out = new Map<string, JsonObject>();
  for (const tf of cfg.terraformBlocks) {
    const rp = tf.required_providers;
    for (const block of Array.isArray(rp) ? rp : [rp]) {
      if (!isObject(block)) continue;
      for (const [name, body] of Object.entries(block)) if (isObject(body)) out.set(name, body);
    }
  }
  return out;
}

/** `required_version` of a configuration, if set. */
export function requiredVersion(cfg: TfConfig): string | undefined {
  for (const tf of cfg.terraformBlocks) if (typeof tf.required_version === 'string') return tf.required_version;
  return undefined;
}
