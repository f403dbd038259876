/**
 * Static checks of infra/terraform and infra/chart that need neither Terraform nor providers
 * nor a cloud (CI has none of them; `infra/scripts/validate.sh` runs `terraform validate` where
 * Terraform is installed).
 *
 * (a) Every .tf file, and every env's .tfvars and .backend.hcl, parses with HCL's own parser
 *     (`@cdktf/hcl2json`, WASM).
 * (b) Per configuration directory (each module, and the one root stack), from the parsed JSON:
 *     - every `var.X` referenced is a declared `variable "X"`, every declared variable is used,
 *       and every variable has a type and a description (every output a description);
 *     - every `local.X` referenced is defined in a `locals` block;
 *     - every `module.m.out` referenced names a module call, and for a local module an output
 *       that module declares;
 *     - every resource/data reference names a block the configuration declares;
 *     - every `module "m"` call of a local module passes only variables the module declares and
 *       every variable without a default;
 *     - registry modules and Helm charts are pinned to exact versions; providers are declared in
 *       required_providers; modules configure no providers; the stack declares no resources
 *       and calls every module unconditionally.
 *     References come from hcl2json's `getReferencesInExpression`, applied to every
 *     interpolated string of the JSON (see hcl.ts): HCL's expression parser, not a regex.
 *     Per environment (`envs/<env>.tfvars` + `envs/<env>.backend.hcl` for the stack): the
 *     tfvars sets only variables the stack declares, every required one, with values of their
 *     types that pass the stack's validations and those of the module variables they are passed
 *     to (evaluated from the HCL conditions by hcl-eval.ts); whatever differs between envs is
 *     set in each env's tfvars; each env's state has its own key.
 * (c) The capacity contract: the attribute paths modules/capacity reads from the API response
 *     (`jsondecode(…).result.data.json.pools`, and `gpuType`, `nodesNeeded`, … on each pool)
 *     exist, required, in `capacityPayloadSchema` wrapped in tRPC's response envelope, and a
 *     real tRPC v11 fetch handler with the superjson transformer answers exactly that envelope.
 *     Here regexes over the HCL expression text find the paths: a `jsondecode(...)` followed by
 *     attribute accesses, and `<it>.<attr>` inside `for <it> in local.api_pools` expressions.
 */
import { parse } from '@cdktf/hcl2json';
import { initTRPC } from '@trpc/server';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import superjson from 'superjson';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CAPACITY_HTTP_PATH,
  capacityPayloadSchema,
  capacityPoolSchema,
  capacityResponseSchema,
  gpuTypeSchema,
  type CapacityPayload,
} from './capacity-contract';
import { convert, EvalError, evaluate, evaluateJson, parseType, Unknown, unwrap, type TfType, type Value } from './hcl-eval';
import {
  configDirs,
  expressionStrings,
  findTfFiles,
  isObject,
  loadConfig,
  localModuleDir,
  parseFile,
  parseValues,
  refsOf,
  rel,
  requiredProviders,
  requiredVersion,
  validationsOf,
  type TfConfig,
  type VariableDecl,
} from './hcl';
import { hasPath, valuesKeyTree } from './values-keys';

const INFRA = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TF = join(INFRA, 'terraform');
const MODULES = join(TF, 'modules');
const STACK = join(TF, 'stack');
const ENVS = join(TF, 'envs');
const CHART = join(INFRA, 'chart', 'ctxlab');

const tfFiles = findTfFiles(TF);
const dirs = configDirs(TF);
const moduleDirs = dirs.filter((d) => dirname(d) === MODULES);
/** An environment is envs/<env>.tfvars (its values) and envs/<env>.backend.hcl (where its state lives). */
const envNames = readdirSync(ENVS)
  .filter((f) => f.endsWith('.tfvars'))
  .map((f) => f.slice(0, -'.tfvars'.length))
  .sort();
const tfvarsFile = (env: string) => join(ENVS, `${env}.tfvars`);
const backendFile = (env: string) => join(ENVS, `${env}.backend.hcl`);

const loaded = new Map<string, TfConfig | Error>();
function config(dir: string): TfConfig {
  const c = loaded.get(dir);
  if (c === undefined) throw new Error(`${rel(TF, dir)} was not loaded`);
  if (c instanceof Error) throw c;
  return c;
}

beforeAll(async () => {
  for (const dir of dirs) loaded.set(dir, await loadConfig(dir).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))));
}, 120_000);

/** Provider local name of a resource or data source type: aws_s3_bucket → aws, http → http. */
const providerOf = (type: string) => type.split('_')[0] ?? type;
const PROVIDER_PREFIX = /^(aws|kubernetes|helm|http|random|tls|time|null|cloudinit)_/;
const EXACT_VERSION = /^v?\d+\.\d+\.\d+$/;

describe('the layout', () => {
  it('has the expected modules, one root stack, and each env as a tfvars and a backend file', () => {
    expect(moduleDirs.map((d) => basename(d)).sort()).toEqual(['capacity', 'cluster', 'cluster-autoscaler', 'ctxlab', 'data', 'gpu-operator', 'storage']);
    // The only configurations: the modules and the stack (an env has no .tf file of its own).
    expect(dirs).toEqual([...moduleDirs, STACK].sort());
    expect(envNames).toEqual(['dev', 'prod']);
    expect(envNames.filter((env) => !existsSync(backendFile(env)))).toEqual([]);
    expect(tfFiles.length).toBeGreaterThanOrEqual(34);
  });

  it('keeps no values in the stack directory (a terraform.tfvars or *.auto.tfvars there would apply to every env)', () => {
    expect(readdirSync(STACK).filter((f) => f === 'terraform.tfvars' || f.endsWith('.auto.tfvars') || f.endsWith('.auto.tfvars.json'))).toEqual([]);
  });
});

describe('(a) every .tf file, and every env file, parses', () => {
  it.each(tfFiles.map((f) => rel(INFRA, f)))('%s', async (file) => {
    await expect(parseFile(join(INFRA, file))).resolves.toBeTypeOf('object');
  });

  it.each(envNames.flatMap((env) => [tfvarsFile(env), backendFile(env)]).map((f) => rel(INFRA, f)))('%s', async (file) => {
    await expect(parseValues(join(INFRA, file))).resolves.toBeTypeOf('object');
  });

  it('reports an HCL syntax error as an error (the check above is not vacuous)', async () => {
    await expect(parse('broken.tf', 'variable "x" {\n  type = string\n')).rejects.toThrow(/broken\.tf/);
  });
});

describe.each(dirs.map((d) => rel(TF, d)))('(b) %s', (dirName) => {
  const dir = join(TF, dirName);

  it('declares every var.X it references', () => {
    const cfg = config(dir);
    const missing = refsOf(cfg, 'var')
      .filter((r) => !cfg.variables.has(r.name))
      .map((r) => `var.${r.name} in ${rel(TF, r.ref.file)}`);
    expect(missing).toEqual([]);
  });

  it('uses every variable it declares', () => {
    const cfg = config(dir);
    const used = new Set(refsOf(cfg, 'var').map((r) => r.name));
    expect([...cfg.variables.keys()].filter((v) => !used.has(v))).toEqual([]);
  });

  it('gives every variable a type and a description, and every output a description', () => {
    const cfg = config(dir);
    const bad = [
      ...[...cfg.variables].filter(([, v]) => typeof v.body.type !== 'string' || typeof v.body.description !== 'string' || v.body.description.length < 10).map(([n]) => `variable ${n}`),
      ...[...cfg.outputs].filter(([, o]) => typeof o.description !== 'string' || o.description.length < 10).map(([n]) => `output ${n}`),
    ];
    expect(bad).toEqual([]);
  });

  it('defines every local.X it references', () => {
    const cfg = config(dir);
    const missing = refsOf(cfg, 'local')
      .filter((r) => !cfg.locals.has(r.name))
      .map((r) => `local.${r.name} in ${rel(TF, r.ref.file)}`);
    expect(missing).toEqual([]);
  });

  it('references only module calls it makes, and only outputs local modules declare', async () => {
    const cfg = config(dir);
    const problems: string[] = [];
    for (const r of refsOf(cfg, 'module')) {
      const call = cfg.modules.get(r.name);
      if (!call) {
        problems.push(`module.${r.name} (no such module block) in ${rel(TF, r.ref.file)}`);
        continue;
      }
      const target = localModuleDir(cfg, call.source);
      // Registry modules' outputs cannot be listed offline; `terraform validate` checks those.
      if (!target || r.attr === undefined) continue;
      const callee = config(target);
      if (!callee.outputs.has(r.attr)) problems.push(`module.${r.name}.${r.attr}: ${rel(TF, target)} has no output "${r.attr}"`);
    }
    expect(problems).toEqual([]);
  });

  it('references only resources and data sources it declares', () => {
    const cfg = config(dir);
    const problems: string[] = [];
    for (const r of refsOf(cfg, 'data')) if (!cfg.dataSources.has(r.name)) problems.push(`data.${r.name} in ${rel(TF, r.ref.file)}`);
    for (const ref of cfg.references) {
      const [type, name] = ref.value.split('.');
      if (type && name && PROVIDER_PREFIX.test(type) && !cfg.resources.has(`${type}.${name}`)) problems.push(`${type}.${name} in ${rel(TF, ref.file)}`);
    }
    expect(problems).toEqual([]);
  });

  it('calls each local module with only its variables, and every required one', () => {
    const cfg = config(dir);
    const problems: string[] = [];
    for (const [name, call] of cfg.modules) {
      const target = localModuleDir(cfg, call.source);
      if (!target) continue;
      if (!existsSync(target)) {
        problems.push(`module ${name}: source ${call.source} does not exist`);
        continue;
      }
      const callee = config(target);
      for (const arg of call.args) if (!callee.variables.has(arg)) problems.push(`module ${name}: ${rel(TF, target)} has no variable "${arg}"`);
      for (const [v, decl] of callee.variables) if (!decl.hasDefault && !call.args.includes(v)) problems.push(`module ${name}: required variable "${v}" of ${rel(TF, target)} not set`);
    }
    expect(problems).toEqual([]);
  });

  it('pins registry modules and Helm charts to exact versions', () => {
    const cfg = config(dir);
    const problems: string[] = [];
    for (const [name, call] of cfg.modules) {
      if (localModuleDir(cfg, call.source)) continue;
      if (!call.version || !EXACT_VERSION.test(call.version)) problems.push(`module ${name} (${call.source}) version ${call.version ?? '(none)'}`);
    }
    for (const json of cfg.json.values()) {
      const releases = isObject(json.resource) ? json.resource.helm_release : undefined;
      if (!isObject(releases)) continue;
      for (const [name, bodies] of Object.entries(releases)) {
        const body = Array.isArray(bodies) ? bodies[0] : undefined;
        if (!isObject(body) || body.repository === undefined) continue; // a local chart
        const version = body.version;
        const varRef = typeof version === 'string' ? /^\$\{var\.([A-Za-z0-9_]+)\}$/.exec(version) : null;
        const pinned = varRef ? cfg.variables.get(varRef[1] ?? '')?.body.default : version;
        if (typeof pinned !== 'string' || !EXACT_VERSION.test(pinned)) problems.push(`helm_release ${name} version ${String(version)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('requires Terraform >= 1.6 and declares every provider it uses', () => {
    const cfg = config(dir);
    expect(requiredVersion(cfg)).toMatch(/>=\s*1\.(6|[7-9]|1\d)/);
    const declared = requiredProviders(cfg);
    const used = new Set([...cfg.resources, ...cfg.dataSources].map((r) => providerOf(r.split('.')[0] ?? '')));
    for (const p of cfg.providerBlocks) used.add(p);
    expect([...used].filter((p) => !declared.has(p))).toEqual([]);
    for (const [name, body] of declared) {
      expect(body.source, `${name} source`).toBe(`hashicorp/${name}`);
      expect(body.version, `${name} version`).toBeTypeOf('string');
    }
  });
});

describe('(b) modules and the stack keep their roles', () => {
  it('modules configure no providers (so the stack passes them in and modules stay reusable)', () => {
    expect(moduleDirs.flatMap((d) => config(d).providerBlocks.map((p) => `${basename(d)}: provider ${p}`))).toEqual([]);
  });

  it('the stack declares no resources or data sources: it only wires modules', () => {
    const cfg = config(STACK);
    expect([...cfg.resources, ...cfg.dataSources]).toEqual([]);
  });

  it('the stack calls every module unconditionally (every env plans the same modules) and pins aws ~> 5.x, kubernetes, helm, http', () => {
    const cfg = config(STACK);
    const called = [...cfg.modules.values()].map((m) => localModuleDir(cfg, m.source));
    expect(moduleDirs.filter((d) => !called.includes(d)).map((d) => basename(d))).toEqual([]);
    // No count/for_each: which modules a plan has cannot depend on an env's values.
    expect([...cfg.modules].filter(([, m]) => m.metaArgs.some((a) => a === 'count' || a === 'for_each')).map(([n]) => n)).toEqual([]);
    const providers = requiredProviders(cfg);
    expect(providers.get('aws')?.version).toMatch(/^~>\s*5\.\d+/);
    for (const p of ['kubernetes', 'helm', 'http']) expect(providers.get(p)?.version, p).toMatch(/^~>\s*\d+\.\d+/);
    expect(cfg.providerBlocks.sort()).toEqual(['aws', 'helm', 'kubernetes']);
  });

  it('the stack has one partial backend "s3" {}: where the state lives is an env file', () => {
    expect(config(STACK).backends).toEqual([{ type: 's3', body: {} }]);
    expect(moduleDirs.flatMap((d) => config(d).backends.map((b) => `${basename(d)}: backend ${b.type}`))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The environments: values for the stack
// ---------------------------------------------------------------------------------------------

const typeCache = new Map<VariableDecl, Promise<TfType>>();
function typeOfDecl(decl: VariableDecl): Promise<TfType> {
  let t = typeCache.get(decl);
  if (!t) {
    t = parseType(String(decl.body.type));
    typeCache.set(decl, t);
  }
  return t;
}

/** The messages of a variable's validations that fail (or error) for a value, after its type's conversion (a failed conversion is one message). */
async function failedValidations(decl: VariableDecl, name: string, value: Value, strict: boolean, label = name): Promise<string[]> {
  let converted: Value;
  try {
    converted = convert(value, await typeOfDecl(decl), strict, label);
  } catch (e) {
    if (!(e instanceof EvalError)) throw e;
    return [e.message];
  }
  const failed: string[] = [];
  for (const v of validationsOf(decl)) {
    const expr = unwrap(v.condition);
    if (expr === null) throw new Error(`${label}: condition ${v.condition} is not an expression`);
    try {
      if ((await evaluate(expr, { var: { [name]: converted } })) !== true) failed.push(`${label}: ${v.errorMessage}`);
    } catch (e) {
      // A condition that errors fails the plan too (e.g. regex() on a null); Unsupported/Unknown escape.
      if (!(e instanceof EvalError)) throw e;
      failed.push(`${label}: ${v.errorMessage} (${e.message})`);
    }
  }
  return failed;
}

const envValues = (env: string) => parseValues(tfvarsFile(env)) as Promise<Record<string, Value>>;

/** Every stack variable as an env gets it: its tfvars value, or the stack's default, converted to the variable's type. */
async function effectiveValues(env: string): Promise<Record<string, Value>> {
  const values = await envValues(env);
  const out: Record<string, Value> = {};
  for (const [name, decl] of config(STACK).variables) {
    if (name in values) out[name] = convert(values[name]!, await typeOfDecl(decl), true, name);
    else if (decl.hasDefault) out[name] = convert(decl.body.default as Value, await typeOfDecl(decl), true, name);
  }
  return out;
}

/** Module inputs whose validations must be checked against each env's values (so that check is not vacuous). */
const MODULE_INPUTS_CHECKED = [
  'capacity.ctxlab_url',
  'capacity.gpu_pools',
  'capacity.headroom_nodes',
  'cluster.availability_zones',
  'cluster.name',
  'cluster.system_node_group',
  'ctxlab.longest_job_step_seconds',
  'data.postgres_major_version',
  'storage.bucket_name',
];

describe.each(envNames)('(b) env %s', (env) => {
  it('sets only variables the stack declares, and every one without a default', async () => {
    const cfg = config(STACK);
    const keys = Object.keys(await envValues(env));
    expect(keys.filter((k) => !cfg.variables.has(k))).toEqual([]);
    expect([...cfg.variables].filter(([n, v]) => !v.hasDefault && !keys.includes(n)).map(([n]) => n)).toEqual([]);
  });

  it("sets values of the stack variables' types (no attribute a type lacks: Terraform would drop it silently) that pass their validations", async () => {
    const cfg = config(STACK);
    const problems: string[] = [];
    for (const [name, value] of Object.entries(await envValues(env))) {
      const decl = cfg.variables.get(name);
      if (decl) problems.push(...(await failedValidations(decl, name, value, true)));
    }
    expect(problems).toEqual([]);
    // Not vacuous: the stack validates at least the environment's name.
    expect(validationsOf(cfg.variables.get('environment')!)).toHaveLength(1);
  });

  it("passes the validations of every module variable the stack passes its variables' values to", async () => {
    const cfg = config(STACK);
    const vars = await effectiveValues(env);
    const problems: string[] = [];
    const checked: string[] = [];
    for (const [name, call] of cfg.modules) {
      const target = localModuleDir(cfg, call.source);
      if (!target) continue;
      const callee = config(target);
      for (const arg of call.args) {
        const decl = callee.variables.get(arg);
        if (!decl) continue; // reported by "calls each local module with only its variables"
        let value: Value;
        try {
          value = await evaluateJson(call.body[arg], { var: vars });
        } catch (e) {
          if (e instanceof Unknown) continue; // needs a module output or a local: only a plan knows it
          throw e;
        }
        checked.push(`${basename(target)}.${arg}`);
        problems.push(...(await failedValidations(decl, arg, value, false, `module.${name}.${arg}`)));
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toEqual(expect.arrayContaining(MODULE_INPUTS_CHECKED));
  });

  it('GPU pools: known GPU types, scaling from zero, valid node groups', async () => {
    const pools = (await effectiveValues(env)).gpu_pools as Record<string, { instance_types: string[]; gpu_type: string; min_size: number }>;
    for (const pool of Object.values(pools)) {
      expect(gpuTypeSchema.safeParse(pool.gpu_type).success, pool.gpu_type).toBe(true);
      expect(pool.min_size, `${pool.gpu_type} scales from zero`).toBe(0);
    }
    // The cluster gets each pool merged with sizes from modules/capacity, which stay within the
    // pool's own min_size..max_size (without the API: as configured), so the pools as configured
    // must pass the cluster's node-group validations (key length, sizes, label value, capacity type).
    const groups = config(join(MODULES, 'cluster')).variables.get('gpu_node_groups')!;
    expect(await failedValidations(groups, 'gpu_node_groups', pools as unknown as Value, false)).toEqual([]);
    const instanceTypes = Object.values(pools).flatMap((p) => p.instance_types);
    if (env === 'dev') {
      expect(Object.keys(pools)).toHaveLength(1);
      expect(instanceTypes.every((t) => /^g[56]\./.test(t))).toBe(true);
    } else {
      expect(instanceTypes).toEqual(expect.arrayContaining(['p5.48xlarge', 'p4de.24xlarge']));
    }
  });

  it("is the environment its file is named after", async () => {
    expect((await envValues(env)).environment).toBe(env);
  });

  it('keeps its state in an encrypted S3 object of its own (envs/<env>.backend.hcl)', async () => {
    const backend = await parseValues(backendFile(env));
    expect(Object.keys(backend)).toEqual(expect.arrayContaining(['bucket', 'key', 'region']));
    expect(backend.key).toBe(`ctxlab/${env}/terraform.tfstate`);
    expect(backend.encrypt).toBe(true);
  });
});

describe('(b) the envs differ only in values', () => {
  it("every variable whose value differs between envs is set in each env's tfvars (none is left to a stack default)", async () => {
    const effective = await Promise.all(envNames.map((env) => effectiveValues(env)));
    const set = await Promise.all(envNames.map((env) => envValues(env)));
    const differing = [...config(STACK).variables.keys()].filter((n) => new Set(effective.map((e) => JSON.stringify(e[n]))).size > 1);
    expect(differing).toEqual(expect.arrayContaining(['environment', 'name', 'vpc_cidr', 'gpu_pools', 'system_node_group', 'redis_replicas', 'deletion_protection']));
    expect(differing.flatMap((n) => envNames.filter((_, i) => !(n in set[i]!)).map((env) => `${env} leaves ${n} to the default`))).toEqual([]);
  });

  it('no two envs share a name, a VPC CIDR, an artifact bucket or a state key', async () => {
    const effective = await Promise.all(envNames.map((env) => effectiveValues(env)));
    for (const v of ['environment', 'name', 'vpc_cidr', 'artifact_bucket_name']) expect(new Set(effective.map((e) => e[v])).size, v).toBe(envNames.length);
    const keys = await Promise.all(envNames.map(async (env) => (await parseValues(backendFile(env))).key));
    expect(new Set(keys).size).toBe(envNames.length);
  });

  it('the checks are not vacuous: a bad name, an unknown attribute, a bad pool and inverted sizes are refused', async () => {
    const stack = config(STACK).variables;
    expect(await failedValidations(stack.get('environment')!, 'environment', 'Prod', true)).toHaveLength(1);
    const sng = { instance_types: ['t3.large'], min_size: 1, max_size: 3, desired_size: 2 };
    expect(await failedValidations(stack.get('system_node_group')!, 'system_node_group', sng, true)).toEqual([]);
    expect(await failedValidations(stack.get('system_node_group')!, 'system_node_group', { ...sng, disk_size_gb: 80 }, true)).toEqual([
      expect.stringMatching(/"disk_size_gb" is not in the type/),
    ]);
    const cluster = config(join(MODULES, 'cluster')).variables;
    expect(await failedValidations(cluster.get('system_node_group')!, 'system_node_group', { ...sng, min_size: 3 }, false)).toHaveLength(1);
    expect(await failedValidations(cluster.get('name')!, 'name', 'ctxlab_Prod', false)).toHaveLength(1);
    const pool = { instance_types: ['g5.2xlarge'], gpu_type: 'a10g-24gb', gpus_per_node: 1, min_size: 0, desired_size: 0, max_size: 2 };
    expect(await failedValidations(cluster.get('gpu_node_groups')!, 'gpu_node_groups', { a10g: pool }, false)).toEqual([]);
    const bad = { 'a-pool-key-over-16': pool, b: { ...pool, capacity_type: 'RESERVED', gpu_type: 'A10G' } };
    expect(await failedValidations(cluster.get('gpu_node_groups')!, 'gpu_node_groups', bad, false)).toHaveLength(3);
    const capacity = config(join(MODULES, 'capacity')).variables;
    expect(await failedValidations(capacity.get('gpu_pools')!, 'gpu_pools', { a: pool, b: pool }, false)).toHaveLength(1);
  });
});

describe('(b) Redis for BullMQ', () => {
  const file = join(MODULES, 'data', 'main.tf');
  const resource = (type: string) => {
    const r = config(join(MODULES, 'data')).json.get(file)?.resource;
    const blocks = isObject(r) ? r[type] : undefined;
    const block = isObject(blocks) ? blocks.redis : undefined;
    return (Array.isArray(block) ? block[0] : undefined) as Record<string, unknown> | undefined;
  };

  it('runs ElastiCache with maxmemory-policy noeviction and no parameter it would ignore', () => {
    const params = (resource('aws_elasticache_parameter_group')?.parameter ?? []) as { name: string; value: string }[];
    // appendonly is not a parameter ElastiCache honours on Redis >= 2.8.22: durability comes from the replica below.
    expect(params).toEqual([{ name: 'maxmemory-policy', value: 'noeviction' }]);
  });

  it('fails over to a replica in another AZ in prod (what stands in for AOF on ElastiCache)', async () => {
    const group = resource('aws_elasticache_replication_group');
    expect(group).toMatchObject({ automatic_failover_enabled: '${var.redis_replicas > 0}', multi_az_enabled: '${var.redis_replicas > 0}' });
    expect((await effectiveValues('prod')).redis_replicas).toBeGreaterThanOrEqual(1);
  });
});

describe('(b) the chart', () => {
  const values = valuesKeyTree(readFileSync(join(CHART, 'values.yaml'), 'utf8'));

  it('declares (in values.yaml) every .Values path its templates use', () => {
    const templates = readdirSync(join(CHART, 'templates')).filter((f) => /\.(ya?ml|tpl|txt)$/.test(f));
    const missing: string[] = [];
    for (const t of templates) {
      for (const m of readFileSync(join(CHART, 'templates', t), 'utf8').matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
        const path = (m[1] ?? '').slice(1).split('.');
        if (!hasPath(values, path)) missing.push(`${t}: .Values.${path.join('.')}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('declares every value modules/ctxlab sets', () => {
    const cfg = config(join(MODULES, 'ctxlab'));
    const tfValues = cfg.locals.get('values');
    expect(isObject(tfValues)).toBe(true);
    const missing: string[] = [];
    const walk = (node: unknown, path: string[]) => {
      if (path.length > 0 && !hasPath(values, path)) missing.push(path.join('.'));
      if (isObject(node as never)) for (const [k, v] of Object.entries(node as object)) walk(v, [...path, k]);
    };
    walk(tfValues, []);
    expect(missing).toEqual([]);
  });

  it('is a Helm 3 chart', () => {
    expect(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')).toMatch(/^apiVersion: v2$/m);
  });
});

// ---------------------------------------------------------------------------------------------
// (c) The capacity contract
// ---------------------------------------------------------------------------------------------

const samplePayload: CapacityPayload = {
  generatedAt: '2026-11-20T10:00:00.000Z',
  pools: [
    { gpuType: 'h100-sxm-80gb', gpuMemoryGiB: 80, gpusNeeded: 16, nodesNeeded: 2, gpusPerNode: 8, sources: { serveEndpoints: 1, queuedJobs: 0, runningJobs: 1, queuedGpus: 0 } },
    { gpuType: 'a100-80gb', gpuMemoryGiB: 80, gpusNeeded: 3, nodesNeeded: 1, gpusPerNode: 8, sources: { serveEndpoints: 0, queuedJobs: 2, runningJobs: 1, queuedGpus: 2 } },
  ],
};

/** The schema a key path leads to inside a zod schema (objects and arrays of objects), or undefined. */
function schemaAt(schema: z.ZodType, path: readonly string[]): { schema: z.ZodType; optional: boolean } | undefined {
  let node: z.ZodType = schema;
  let optional = false;
  for (const key of path) {
    while (node instanceof z.ZodOptional || node instanceof z.ZodNullable) {
      optional = true;
      node = node.unwrap() as z.ZodType;
    }
    if (!(node instanceof z.ZodObject)) return undefined;
    const next = (node.shape as Record<string, z.ZodType | undefined>)[key];
    if (!next) return undefined;
    node = next;
  }
  if (node instanceof z.ZodOptional) optional = true;
  return { schema: node, optional };
}

describe('(c) the capacity API contract', () => {
  const capacity = () => config(join(MODULES, 'capacity'));
  const expressions = () => [...capacity().json.values()].flatMap((j) => expressionStrings(j));

  it('the HCL requests GET <ctxlab_url>/api/trpc/infra.capacity with a bearer token', () => {
    const cfg = capacity();
    expect(String(cfg.locals.get('capacity_url'))).toContain(CAPACITY_HTTP_PATH);
    const json = [...cfg.json.values()].find((j) => isObject(j.data));
    const http = JSON.stringify(json?.data);
    expect(http).toContain('"method":"GET"');
    expect(http).toContain('"Authorization":"Bearer ${var.api_token}"');
  });

  it('every path the HCL reads after jsondecode(...) exists in the tRPC response schema', () => {
    const paths = new Set<string>();
    for (const e of expressions()) for (const m of e.matchAll(/jsondecode\((?:[^()]|\([^()]*\))*\)((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) paths.add((m[1] ?? '').slice(1));
    expect([...paths].sort()).toEqual(['result.data.json.generatedAt', 'result.data.json.pools']);
    for (const p of paths) {
      const found = schemaAt(capacityResponseSchema, p.split('.'));
      expect(found, p).toBeDefined();
      expect(found?.optional, `${p} must be required`).toBe(false);
    }
    expect(schemaAt(capacityResponseSchema, ['result', 'data', 'json', 'pools'])?.schema).toBeInstanceOf(z.ZodArray);
  });

  it('every attribute the HCL reads on a pool is a required field of capacityPoolSchema', () => {
    const attrs = new Set<string>();
    for (const e of expressions()) {
      for (const m of e.matchAll(/\bfor\s+(?:[A-Za-z_]\w*\s*,\s*)?([A-Za-z_]\w*)\s+in\s+local\.api_pools\b/g)) {
        const it = m[1] ?? '';
        for (const a of e.matchAll(new RegExp(`(?<![\\w.])${it}((?:\\.[A-Za-z_]\\w*)+)`, 'g'))) attrs.add((a[1] ?? '').slice(1));
      }
    }
    // Not vacuous: the sizing needs at least these.
    expect([...attrs]).toEqual(expect.arrayContaining(['gpuType', 'gpusNeeded', 'nodesNeeded', 'gpusPerNode']));
    for (const a of attrs) {
      const found = schemaAt(capacityPoolSchema, a.split('.'));
      expect(found, `pool attribute ${a}`).toBeDefined();
      expect(found?.optional, `pool attribute ${a} must be required`).toBe(false);
    }
  });

  it('a real tRPC v11 fetch handler (superjson) answers GET infra.capacity with the envelope the HCL decodes', async () => {
    const t = initTRPC.create({ transformer: superjson });
    const appRouter = t.router({ infra: t.router({ capacity: t.procedure.output(capacityPayloadSchema).query(() => samplePayload) }) });
    const res = await fetchRequestHandler({
      endpoint: '/api/trpc',
      router: appRouter,
      createContext: () => ({}),
      req: new Request(`http://ctxlab.internal${CAPACITY_HTTP_PATH}`, { method: 'GET', headers: { Accept: 'application/json', Authorization: 'Bearer test-token' } }),
    });
    expect(res.status).toBe(200);
    const body: unknown = JSON.parse(await res.text());
    const parsed = capacityResponseSchema.parse(body);
    expect(parsed.result.data.json).toEqual(samplePayload);
    // A string generatedAt is plain JSON: superjson adds no meta.
    expect(parsed.result.data.meta).toBeUndefined();
    // Exactly what the HCL walks to: result.data.json.pools[*].gpuType / nodesNeeded / gpusPerNode / gpusNeeded.
    const pools = (body as { result: { data: { json: { pools: Record<string, unknown>[] } } } }).result.data.json.pools;
    expect(pools.map((p) => [p.gpuType, p.nodesNeeded, p.gpusPerNode, p.gpusNeeded])).toEqual([
      ['h100-sxm-80gb', 2, 8, 16],
      ['a100-80gb', 1, 8, 3],
    ]);
  });

  it('accepts the documented example payload', () => {
    const example = {
      generatedAt: '2026-11-20T10:00:00Z',
      pools: [{ gpuType: 'h100-sxm-80gb', gpuMemoryGiB: 80, gpusNeeded: 16, nodesNeeded: 2, gpusPerNode: 8, sources: { serveEndpoints: 1, queuedJobs: 0, runningJobs: 1, queuedGpus: 0 } }],
    };
    expect(capacityPayloadSchema.parse(example)).toEqual(example);
    expect(capacityPayloadSchema.parse({ generatedAt: '2026-11-20T10:00:00+01:00', pools: [] }).pools).toEqual([]);
  });

  it.each([
    ['nodes that cannot hold the GPUs', { nodesNeeded: 1 }, 'nodesNeeded'],
    ['more nodes than GPUs', { gpusNeeded: 1, nodesNeeded: 2 }, 'nodesNeeded'],
    ['a gpuType that is not a label value', { gpuType: 'H100 SXM' }, 'gpuType'],
    ['a fractional GPU count', { gpusNeeded: 1.5 }, 'gpusNeeded'],
    ['a negative count', { sources: { serveEndpoints: -1, queuedJobs: 0, runningJobs: 0 } }, 'sources.serveEndpoints'],
    ['zero GPUs per node', { gpusPerNode: 0 }, 'gpusPerNode'],
    ['an unknown field', { gpuCount: 3 }, ''],
  ])('rejects a pool with %s', (_name, change, path) => {
    const pool = { ...samplePayload.pools[0]!, ...change };
    const r = capacityPayloadSchema.safeParse({ ...samplePayload, pools: [pool] });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.slice(2).join('.'))).toContain(path);
  });

  it('rejects a GPU type reported twice, and a generatedAt that is not ISO 8601', () => {
    const twice = capacityPayloadSchema.safeParse({ ...samplePayload, pools: [samplePayload.pools[0], samplePayload.pools[0]] });
    expect(twice.error?.issues.map((i) => i.path.join('.'))).toEqual(['pools.1.gpuType']);
    expect(capacityPayloadSchema.safeParse({ ...samplePayload, generatedAt: 'yesterday' }).success).toBe(false);
  });
});
