import { levenshtein } from '@ctxlab/niah';
import { z } from 'zod';
import accelerateLaunch from './contracts/accelerate-launch.json' with { type: 'json' };
import easycontextTrain from './contracts/easycontext-train.json' with { type: 'json' };
import longllmQloraTrain from './contracts/longllm-qlora-train.json' with { type: 'json' };
import mergekitExtractLora from './contracts/mergekit-extract-lora.json' with { type: 'json' };
import mergekitYaml from './contracts/mergekit-yaml.json' with { type: 'json' };
import torchrun from './contracts/torchrun.json' with { type: 'json' };
import vllmServe from './contracts/vllm-serve.json' with { type: 'json' };
import { MASTER_ADDR_REF, NODE_RANK_REF, type RenderedJob } from './types';

/**
 * Tool contracts: the command-line options (and config-file keys) of the external tools ctxlab
 * renders commands for, transcribed from each tool's source at a named commit into
 * `contracts/*.json`, and a checker that holds a rendered command to them.
 */

// ---------------------------------------------------------------------------------------------
// The fixture format
// ---------------------------------------------------------------------------------------------

/**
 * What an option's value must parse as: `int` (Python int()), `float` (Python float()), `bool`
 * (one of the parser's bool words), `json` (json.loads), `str` and `path` (any word), or `flag`
 * (the option takes no value: store_true, a click flag, a count).
 */
const valueTypeSchema = z.enum(['int', 'float', 'str', 'path', 'json', 'bool', 'flag']);
export type ValueType = z.infer<typeof valueTypeSchema>;

const flagSchema = z
  .object({
    /** Every spelling the parser accepts, long and short. */
    names: z.array(z.string().regex(/^--?[A-Za-z0-9]/)).min(1),
    type: valueTypeSchema,
    /** `optional`: argparse nargs='?' (the value may be left out). Options of every other type but `flag` need one. */
    value: z.literal('optional').optional(),
    /** `+`: one or more values. */
    nargs: z.literal('+').optional(),
    choices: z.array(z.string()).min(1).optional(),
    /** The tool refuses to start without it. */
    required: z.boolean().optional(),
    /** May be given more than once (argparse append, click multiple, a count). */
    repeatable: z.boolean().optional(),
    /** Index into `sources` of the file that defines it; 0 when left out. */
    source: z.number().int().nonnegative().optional(),
  })
  .strict();
export type FlagContract = z.infer<typeof flagSchema>;

const sourceSchema = z
  .object({
    repository: z.string().regex(/^[\w.-]+\/[\w.-]+$/),
    commit: z.string().regex(/^[0-9a-f]{40}$/).optional(),
    /** A release, for a source whose commit could not be read. */
    release: z.string().optional(),
    paths: z.array(z.string()).min(1),
    /** How the definitions were read: a fetched checkout, a stored copy found by search, or not read at that version. */
    read: z.enum(['fetched', 'search-store', 'unverified']),
    note: z.string().optional(),
  })
  .strict()
  .refine((s) => s.commit !== undefined || s.release !== undefined, 'a source names a commit or a release');
export type ContractSource = z.infer<typeof sourceSchema>;

/** A key of a config file the tool reads, or the file itself (a map). */
export interface ConfigKeyContract {
  type: 'str' | 'int' | 'float' | 'bool' | 'list' | 'map' | 'any' | 'model-reference';
  choices?: string[];
  /** For maps: the keys the tool reads. A map without `keys` is not looked into. */
  keys?: Record<string, ConfigKeyContract>;
  /** For lists: what every item must be. */
  items?: ConfigKeyContract;
  required?: string[];
  /** Exactly one of these keys must be present. */
  exactlyOneOf?: string[];
  /** What the tool does with a key it does not read: refuses the file, or drops the key. */
  unknownKeys?: 'error' | 'ignored';
  note?: string;
}

const configKeySchema: z.ZodType<ConfigKeyContract> = z.lazy(() =>
  z
    .object({
      type: z.enum(['str', 'int', 'float', 'bool', 'list', 'map', 'any', 'model-reference']),
      choices: z.array(z.string()).min(1).optional(),
      keys: z.record(z.string(), configKeySchema).optional(),
      items: configKeySchema.optional(),
      required: z.array(z.string()).optional(),
      exactlyOneOf: z.array(z.string()).min(2).optional(),
      unknownKeys: z.enum(['error', 'ignored']).optional(),
      note: z.string().optional(),
    })
    .strict(),
);

const configFileSchema = z
  .object({
    /** The file name the renderer writes it under. */
    file: z.string(),
    format: z.enum(['yaml', 'json']),
    keys: z.record(z.string(), configKeySchema),
    required: z.array(z.string()).optional(),
    exactlyOneOf: z.array(z.string()).min(2).optional(),
    unknownKeys: z.enum(['error', 'ignored']),
    note: z.string().optional(),
  })
  .strict();
export type ConfigFileContract = z.infer<typeof configFileSchema>;

const toolContractSchema = z
  .object({
    contract: z.literal(1),
    id: z.string(),
    name: z.string(),
    sources: z.array(sourceSchema).min(1),
    parser: z
      .object({
        kind: z.enum(['argparse', 'click']),
        /** vLLM's FlexibleArgumentParser reads `--a_b` as `--a-b`. */
        underscoresAsDashes: z.boolean().optional(),
        /** What a `bool` value may be, compared case-insensitively. */
        boolWords: z.array(z.string()).min(2).optional(),
      })
      .strict(),
    positionals: z.array(z.object({ name: z.string(), optional: z.boolean().optional() }).strict()),
    /** After the positionals, every further word belongs to the program the tool launches. */
    remainder: z.boolean(),
    flags: z.array(flagSchema),
    configs: z.array(configFileSchema).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    for (const f of c.flags) {
      for (const n of f.names) {
        if (seen.has(n)) ctx.addIssue({ code: 'custom', message: `${c.id}: ${n} is listed twice` });
        seen.add(n);
      }
      if ((f.source ?? 0) >= c.sources.length) ctx.addIssue({ code: 'custom', message: `${c.id}: ${f.names[0]} names source ${f.source}, which is not listed` });
      if (f.type === 'flag' && (f.value !== undefined || f.nargs !== undefined || f.choices !== undefined)) {
        ctx.addIssue({ code: 'custom', message: `${c.id}: ${f.names[0]} takes no value, so it has no value, nargs or choices` });
      }
    }
  });
export type ToolContract = z.infer<typeof toolContractSchema>;

export const CONTRACT_IDS = [
  'easycontext-train',
  'accelerate-launch',
  'longllm-qlora-train',
  'torchrun',
  'mergekit-extract-lora',
  'mergekit-yaml',
  'vllm-serve',
] as const;
export type ContractId = (typeof CONTRACT_IDS)[number];

const FIXTURES: Record<ContractId, unknown> = {
  'easycontext-train': easycontextTrain,
  'accelerate-launch': accelerateLaunch,
  'longllm-qlora-train': longllmQloraTrain,
  torchrun,
  'mergekit-extract-lora': mergekitExtractLora,
  'mergekit-yaml': mergekitYaml,
  'vllm-serve': vllmServe,
};

/** Parses a contract fixture; a malformed one throws, naming the fixture. */
export function parseToolContract(fixture: unknown): ToolContract {
  const r = toolContractSchema.safeParse(fixture);
  if (r.success) return r.data;
  const id = typeof fixture === 'object' && fixture !== null && 'id' in fixture ? String(fixture.id) : 'a tool contract';
  throw new Error(`${id}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
}

/** The contracts in contracts/*.json, by id. */
export const TOOL_CONTRACTS: Readonly<Record<ContractId, ToolContract>> = Object.fromEntries(
  CONTRACT_IDS.map((id) => {
    const contract = parseToolContract(FIXTURES[id]);
    if (contract.id !== id) throw new Error(`contracts: the fixture for ${id} says it is ${contract.id}`);
    return [id, contract];
  }),
) as Record<ContractId, ToolContract>;

// ---------------------------------------------------------------------------------------------
// Findings
// ---------------------------------------------------------------------------------------------

export type ContractIssueKind =
  /** An option the tool does not define. */
  | 'unknown-flag'
  /** A value the option's type cannot parse, or a value given to an option that takes none. */
  | 'wrong-type'
  /** A value outside the option's (or key's) choices. */
  | 'not-a-choice'
  /** An option that needs a value and has none. */
  | 'missing-value'
  /** A required option, positional or key that is absent. */
  | 'missing-required'
  /** A positional argument the tool does not take. */
  | 'extra-argument'
  /** A config key the tool does not read. */
  | 'unknown-key';

export interface ContractIssue {
  kind: ContractIssueKind;
  /** The contract's id. */
  tool: string;
  /** The option as written (`--max-model-len`), or a config key path (`merge.yml: models.0.model`). */
  subject: string;
  value?: string;
  /** For unknown options and keys: the nearest one the tool does define, when one is near. */
  closest?: string;
  message: string;
}

const short = (s: ContractSource) => (s.commit ? `${s.repository}@${s.commit.slice(0, 12)}` : `${s.repository} ${s.release} (unverified)`);

/** "vllm serve (vllm-project/vllm@001999d2f360, vllm-project/vllm@005223338608)": the tool and the sources its contract was read from. */
export function contractLabel(c: ToolContract): string {
  return `${c.name} (${c.sources.map(short).join(', ')})`;
}

/** The nearest candidate by edit distance, when it is near enough to be a likely intended spelling. */
export function closestName(word: string, candidates: Iterable<string>, normalize: (s: string) => string = (s) => s): string | undefined {
  const w = normalize(word);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = levenshtein(w, normalize(c));
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const near = Math.max(2, Math.floor(w.length / 4));
  return best !== undefined && bestDistance <= near ? best : undefined;
}

// ---------------------------------------------------------------------------------------------
// Command lines
// ---------------------------------------------------------------------------------------------

/**
 * Values the executor supplies at run time, with a sample expansion of each for type checks: the
 * kubelet expands `$(CTXLAB_NODE_RANK)` to the machine's index and `$(CTXLAB_MASTER_ADDR)` to rank
 * 0's host name.
 */
export const RUNTIME_SAMPLES: Readonly<Record<string, string>> = {
  [NODE_RANK_REF]: '1',
  [MASTER_ADDR_REF]: 'job-0.job.ctxlab-jobs.svc',
};

const PY_INT = /^[+-]?\d+$/;
const PY_FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?(?:inf|infinity|nan)$/i;
/** argparse reads a word as an option when it starts with "-", unless it is a negative number or holds a space. */
const looksLikeOption = (w: string) => w.length > 1 && w.startsWith('-') && !/^-\d+$|^-\d*\.\d+$/.test(w) && !w.includes(' ');

const TYPE_WORDS: Record<Exclude<ValueType, 'flag' | 'str' | 'path'>, string> = {
  int: 'an integer',
  float: 'a number',
  bool: 'a boolean',
  json: 'JSON',
};

function valueProblem(type: ValueType, value: string, boolWords: readonly string[]): string | undefined {
  switch (type) {
    case 'int':
      return PY_INT.test(value) ? undefined : TYPE_WORDS.int;
    case 'float':
      return PY_FLOAT.test(value) ? undefined : TYPE_WORDS.float;
    case 'bool':
      return boolWords.includes(value.toLowerCase()) ? undefined : `${TYPE_WORDS.bool} (${boolWords.join('/')})`;
    case 'json':
      try {
        JSON.parse(value);
        return undefined;
      } catch {
        return TYPE_WORDS.json;
      }
    default:
      return undefined;
  }
}

/** The words of a command line a contract was checked against, split the way the tool splits them. */
export interface CheckedArgs {
  issues: ContractIssue[];
  /** Option (by its first name in the contract) → the values given to it. */
  options: Map<string, string[]>;
  positionals: string[];
  /** With `remainder`: the words after the positionals, for the program the tool launches. */
  remainder: string[];
}

export interface CheckOptions {
  /** Words the executor replaces before the tool sees them, and a sample of what each becomes. */
  runtimeValues?: Readonly<Record<string, string>>;
}

/**
 * Checks a tool's arguments (the argv after the program's own words) against its contract, the way
 * argparse and click read them: every option must exist (no abbreviations), take the number of
 * values it takes, of its type and among its choices; required options and positionals must be
 * there; nothing may be left over.
 */
export function checkArgs(args: readonly string[], contract: ToolContract, opts: CheckOptions = {}): CheckedArgs {
  const label = contractLabel(contract);
  const runtime = opts.runtimeValues ?? RUNTIME_SAMPLES;
  const boolWords = (contract.parser.boolWords ?? ['true', 'false']).map((w) => w.toLowerCase());
  const normalize = contract.parser.underscoresAsDashes ? (s: string) => (s.startsWith('--') ? `--${s.slice(2).replaceAll('_', '-')}` : s) : (s: string) => s;
  const byName = new Map<string, FlagContract>();
  for (const f of contract.flags) for (const n of f.names) byName.set(normalize(n), f);
  const allNames = contract.flags.flatMap((f) => f.names);

  const issues: ContractIssue[] = [];
  const options = new Map<string, string[]>();
  const positionals: string[] = [];
  let remainder: string[] = [];
  const issue = (kind: ContractIssueKind, subject: string, text: string, extra: Partial<ContractIssue> = {}) =>
    issues.push({ kind, tool: contract.id, subject, message: `${label}: ${text}`, ...extra });

  const checkValue = (name: string, flag: FlagContract, value: string) => {
    const v = runtime[value] ?? value;
    const problem = valueProblem(flag.type, v, boolWords);
    if (problem) issue('wrong-type', name, `${name} ${JSON.stringify(value)} is not ${problem}`, { value });
    else if (flag.choices && !flag.choices.includes(v)) issue('not-a-choice', name, `${name} ${JSON.stringify(value)} is not one of ${flag.choices.join(', ')}`, { value });
  };

  let i = 0;
  while (i < args.length) {
    const word = args[i]!;
    i++;
    if (!looksLikeOption(word)) {
      if (positionals.length < contract.positionals.length) {
        positionals.push(word);
        if (contract.remainder && positionals.length === contract.positionals.length) {
          remainder = args.slice(i);
          break;
        }
      } else {
        issue('extra-argument', word, `${JSON.stringify(word)} is not an argument it takes`);
      }
      continue;
    }
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const name = eq > 0 ? word.slice(0, eq) : word;
    const inline = eq > 0 ? word.slice(eq + 1) : undefined;
    // The values an option takes: its inline value, or the words after it that are not options.
    const take = (flag: FlagContract): string[] => {
      if (inline !== undefined) return flag.type === 'flag' ? [] : [inline];
      const values: string[] = [];
      if (flag.type === 'flag') return values;
      while (i < args.length && !looksLikeOption(args[i]!) && (flag.nargs === '+' || values.length === 0)) values.push(args[i++]!);
      return values;
    };
    const flag = byName.get(normalize(name));
    if (!flag) {
      const closest = closestName(name, allNames, normalize);
      issue('unknown-flag', name, `${name} is not an option${closest ? `; the closest is ${closest}` : ''}`, closest ? { closest } : {});
      // Read on as the intended option would be read, so that its values are not taken for positionals.
      const intended = closest ? byName.get(normalize(closest)) : undefined;
      if (intended) take(intended);
      else while (i < args.length && !looksLikeOption(args[i]!)) i++;
      continue;
    }
    if (flag.type === 'flag' && inline !== undefined) issue('wrong-type', name, `${name} takes no value, but is given ${JSON.stringify(inline)}`, { value: inline });
    const values = take(flag);
    if (flag.type !== 'flag' && values.length === 0 && flag.value !== 'optional') {
      issue('missing-value', name, `${name} needs ${flag.nargs === '+' ? 'one or more values' : 'a value'}`);
    }
    for (const v of values) checkValue(name, flag, v);
    const key = flag.names[0]!;
    options.set(key, [...(options.get(key) ?? []), ...values]);
  }

  for (const f of contract.flags) {
    if (f.required && !options.has(f.names[0]!)) issue('missing-required', f.names[0]!, `${f.names[0]} is required`);
  }
  contract.positionals.forEach((p, k) => {
    if (k >= positionals.length && !p.optional) issue('missing-required', p.name, `the ${p.name} argument is required`);
  });
  return { issues, options, positionals, remainder };
}

// ---------------------------------------------------------------------------------------------
// Config files
// ---------------------------------------------------------------------------------------------

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** mergekit's MODEL[@REVISION][+LORA[@REVISION]] (ModelReference and ModelPath.validate_string). */
function modelReferenceProblem(v: string): string | undefined {
  const parts = v.split('+');
  if (parts.length > 2) return `has ${parts.length - 1} "+": mergekit reads one model and at most one LoRA`;
  for (const p of parts) {
    if (p === '') return 'has an empty model or LoRA path';
    if (p.split('@').length > 2) return `"${p}" has more than one "@" (mergekit reads what follows "@" as a revision)`;
  }
  return undefined;
}

function typeProblem(spec: ConfigKeyContract, v: unknown): string | undefined {
  switch (spec.type) {
    case 'str':
      return typeof v === 'string' ? undefined : 'a string';
    case 'int':
      return Number.isInteger(v) ? undefined : 'an integer';
    case 'float':
      return typeof v === 'number' ? undefined : 'a number';
    case 'bool':
      return typeof v === 'boolean' ? undefined : 'true or false';
    case 'list':
      return Array.isArray(v) ? undefined : 'a list';
    case 'map':
      return isMap(v) ? undefined : 'a map';
    case 'model-reference':
      return typeof v === 'string' ? modelReferenceProblem(v) : 'a model reference (a string)';
    case 'any':
      return undefined;
  }
}

/**
 * Checks a config document (as the renderer builds it, before it is written out) against the
 * tool's config contract: unknown keys, missing required keys, value types and choices, nested
 * maps and list items.
 */
export function checkConfig(doc: unknown, config: ConfigFileContract, contract: ToolContract): ContractIssue[] {
  const label = contractLabel(contract);
  const issues: ContractIssue[] = [];
  const visit = (value: unknown, spec: ConfigKeyContract, path: string) => {
    const at = `${config.file}: ${path || '(document)'}`;
    const problem = typeProblem(spec, value);
    if (problem) {
      issues.push({ kind: 'wrong-type', tool: contract.id, subject: at, value: JSON.stringify(value), message: `${label}: ${at} is ${JSON.stringify(value)}, which is not ${problem}` });
      return;
    }
    if (spec.choices && !spec.choices.includes(String(value))) {
      issues.push({ kind: 'not-a-choice', tool: contract.id, subject: at, value: String(value), message: `${label}: ${at} is ${JSON.stringify(value)}, not one of ${spec.choices.join(', ')}` });
    }
    if (Array.isArray(value) && spec.items) value.forEach((item, k) => visit(item, spec.items!, `${path}.${k}`));
    if (isMap(value) && spec.keys) {
      const keys = spec.keys;
      for (const k of Object.keys(value)) {
        if (k in keys) {
          visit(value[k], keys[k]!, path ? `${path}.${k}` : k);
          continue;
        }
        const closest = closestName(k, Object.keys(keys));
        const what = spec.unknownKeys === 'ignored' ? 'which the tool ignores' : 'which makes the tool refuse the file';
        const subject = `${config.file}: ${path ? `${path}.${k}` : k}`;
        issues.push({ kind: 'unknown-key', tool: contract.id, subject, ...(closest ? { closest } : {}), message: `${label}: ${subject} is not a key it reads, ${what}${closest ? `; the closest is ${closest}` : ''}` });
      }
      for (const r of spec.required ?? []) {
        if (!(r in value)) issues.push({ kind: 'missing-required', tool: contract.id, subject: `${config.file}: ${path ? `${path}.${r}` : r}`, message: `${label}: ${config.file} needs ${path ? `${path}.${r}` : r}` });
      }
      if (spec.exactlyOneOf) {
        const present = spec.exactlyOneOf.filter((k) => value[k] !== undefined && value[k] !== null);
        if (present.length !== 1) {
          issues.push({ kind: 'missing-required', tool: contract.id, subject: at, message: `${label}: ${at} needs exactly one of ${spec.exactlyOneOf.join(', ')}; it has ${present.length ? present.join(', ') : 'none'}` });
        }
      }
    }
  };
  const { file: _file, format: _format, ...root } = config;
  visit(doc, { ...root, type: 'map', unknownKeys: config.unknownKeys }, '');
  return issues;
}

// ---------------------------------------------------------------------------------------------
// Rendered jobs
// ---------------------------------------------------------------------------------------------

/** One program of a rendered step, the words it was given, and the contract they were checked against. */
export interface CheckedProgram {
  contract: ContractId;
  args: string[];
  checked: CheckedArgs;
}

export interface JobContractReport {
  issues: ContractIssue[];
  programs: CheckedProgram[];
  /** Steps no contract covers (ctxlab's own scripts, the lab model's tools). */
  unchecked: string[][];
  /** Rendered files checked against a config contract. */
  files: string[];
}

/** The contract of a step's program and where its own arguments start, or undefined for programs without one. */
function launchOf(step: readonly string[]): { contract: ContractId; args: readonly string[] } | undefined {
  const [p0, p1, p2] = step;
  if (p0 === 'accelerate' && p1 === 'launch') return { contract: 'accelerate-launch', args: step.slice(2) };
  if (p0 === 'torchrun') return { contract: 'torchrun', args: step.slice(1) };
  if (p0 === 'vllm' && p1 === 'serve') return { contract: 'vllm-serve', args: step.slice(2) };
  if (p1 === '-m' && p2 === 'vllm.entrypoints.openai.api_server') return { contract: 'vllm-serve', args: step.slice(3) };
  if (p0 === 'mergekit-extract-lora') return { contract: 'mergekit-extract-lora', args: step.slice(1) };
  if (p0 === 'mergekit-yaml') return { contract: 'mergekit-yaml', args: step.slice(1) };
  return undefined;
}

/** The program a launcher starts, from the launcher's parsed arguments. */
function launchedBy(launcher: ContractId, checked: CheckedArgs): ContractId | undefined {
  const script = checked.positionals[0];
  if (launcher === 'accelerate-launch' && script?.endsWith('/train.py')) return 'easycontext-train';
  if (launcher === 'torchrun' && checked.options.has('-m') && script === 'main.train') return 'longllm-qlora-train';
  return undefined;
}

/**
 * Holds every step of a rendered job to the contracts of the programs it runs, launcher and
 * launched program alike, and its JSON config files to theirs. YAML configs are checked from the
 * documents the renderers build (`checkConfig`), not re-read from text.
 */
export function checkJobContracts(job: Pick<RenderedJob, 'steps' | 'files'>, opts: CheckOptions = {}): JobContractReport {
  const report: JobContractReport = { issues: [], programs: [], unchecked: [], files: [] };
  for (const step of job.steps) {
    const launch = launchOf(step);
    if (!launch) {
      report.unchecked.push([...step]);
      continue;
    }
    let contract: ContractId | undefined = launch.contract;
    let args = launch.args;
    while (contract) {
      const checked = checkArgs(args, TOOL_CONTRACTS[contract], opts);
      report.programs.push({ contract, args: [...args], checked });
      report.issues.push(...checked.issues);
      const next: ContractId | undefined = TOOL_CONTRACTS[contract].remainder ? launchedBy(contract, checked) : undefined;
      if (TOOL_CONTRACTS[contract].remainder && !next && checked.remainder.length > 0) report.unchecked.push([...checked.positionals, ...checked.remainder]);
      contract = next;
      args = checked.remainder;
    }
  }
  for (const { contract } of report.programs) {
    for (const config of TOOL_CONTRACTS[contract].configs ?? []) {
      const file = job.files.find((f) => f.path === config.file);
      if (!file || config.format !== 'json') continue;
      report.files.push(file.path);
      report.issues.push(...checkConfig(JSON.parse(file.content), config, TOOL_CONTRACTS[contract]));
    }
  }
  return report;
}

/** The config contract of a contract's file, by file name. */
export function configContract(id: ContractId, file: string): ConfigFileContract {
  const config = TOOL_CONTRACTS[id].configs?.find((c) => c.file === file);
  if (!config) throw new Error(`${id} has no contract for ${file}`);
  return config;
}
