import { isMap, parseDocument } from 'yaml';
import { z } from 'zod';
import { SUITE_NAMES } from './metadata';

/**
 * Reading a card back: the front matter split off and parsed, checked against the Hub's metadata
 * format (huggingface/hub-docs `modelcard.md` and huggingface_hub's `ModelCardData` / `EvalResult`),
 * and turned into the metadata ctxlab stores.
 */

export class ModelCardError extends Error {
  constructor(
    message: string,
    /** Where in the card: `front matter`, or a metadata path such as `model-index[0].results`. */
    readonly path: string,
  ) {
    super(message);
    this.name = 'ModelCardError';
  }
}

export interface ParsedModelCard {
  /** The front matter as a mapping; null when the card has none. */
  data: Record<string, unknown> | null;
  /** The Markdown after the front matter. */
  body: string;
}

export interface ModelCardIssue {
  path: string;
  message: string;
  /** Errors break the Hub's reading of the card; warnings are keys the Hub ignores or advises against. */
  severity: 'error' | 'warning';
}

const FRONT = 'front matter';

/** The front matter's text and where the body starts, or null when the card does not open with `---`. */
export function splitFrontMatter(text: string): { yaml: string; body: string } | null {
  const src = text.replace(/^\uFEFF/, '');
  const open = /^---[ \t]*\r?\n/.exec(src);
  if (!open) return null;
  const rest = src.slice(open[0].length);
  // The block ends at the first line that is exactly `---` (the Hub's reader does the same).
  const close = /^---[ \t]*(?:\r?\n|$)/m.exec(rest);
  if (!close) throw new ModelCardError('the front matter opened with "---" is never closed by a "---" line', FRONT);
  return { yaml: rest.slice(0, close.index), body: rest.slice(close.index + close[0].length).replace(/^\r?\n/, '') };
}

/**
 * Splits a card into its metadata and its Markdown. A card without front matter has `data: null`;
 * front matter that is not YAML, or is YAML but not a mapping, throws a ModelCardError.
 */
export function parseModelCard(text: string): ParsedModelCard {
  const split = splitFrontMatter(text);
  if (!split) return { data: null, body: text };
  if (split.yaml.trim() === '') return { data: {}, body: split.body };
  // YAML 1.1, as huggingface_hub reads cards (PyYAML's safe_load): `yes`, `on` and dates are not strings there.
  const doc = parseDocument(split.yaml, { prettyErrors: false, version: '1.1' });
  const err = doc.errors[0];
  if (err) throw new ModelCardError(`the front matter is not valid YAML: ${err.message.split('\n')[0]}`, FRONT);
  if (!isMap(doc.contents)) throw new ModelCardError('the front matter must be a YAML mapping of keys to values', FRONT);
  return { data: doc.toJS() as Record<string, unknown>, body: split.body };
}

/**
 * The top-level keys the Hub's model-card metadata defines (hub-docs `modelcard.md` and
 * model-cards.md: the card fields, gating fields, widget and inference settings). Anything else
 * is kept by the Hub but shown nowhere, so it is worth a warning: usually a misspelling.
 */
export const KNOWN_CARD_KEYS: readonly string[] = [
  'language',
  'license',
  'license_name',
  'license_link',
  'library_name',
  'library_version',
  'pipeline_tag',
  'tags',
  'datasets',
  'metrics',
  'base_model',
  'base_model_relation',
  'new_version',
  'model-index',
  'model_name',
  'thumbnail',
  'widget',
  'inference',
  'co2_eq_emissions',
  'extra_gated_prompt',
  'extra_gated_fields',
  'extra_gated_heading',
  'extra_gated_description',
  'extra_gated_button_content',
  'extra_gated_eu_disallowed',
];

/** A Hub repo id (`owner/name` or a bare name) or a ctxlab registry name (which may contain spaces). */
const MODEL_REF = /^[A-Za-z0-9][A-Za-z0-9._\- ]*(?:\/[A-Za-z0-9][A-Za-z0-9._\- ]*)?$/;
const LICENSE_ID = /^[a-z0-9][a-z0-9.+-]*$/;

const nonEmpty = (what: string) =>
  z.string({ error: (i) => (i.input === undefined ? `is required: ${what}` : `must be a string (${what})`) }).refine((s) => s.trim() !== '', `must not be empty (${what})`);

const stringList = (what: string) => z.array(z.string({ error: `must be a string (${what})` }), { error: `must be a list of strings (${what})` });

const MODEL_REF_HINT = 'must look like a Hugging Face repo id (owner/name) or a ctxlab model name';

/** base_model: one model or a list; checked by hand so a bad list entry is reported at its own index. */
const baseModelSchema = z
  .custom<string | string[]>((v) => typeof v === 'string' || Array.isArray(v), { error: (i) => `must be a repo id string or a list of them, not ${describe(i.input)}` })
  .superRefine((v, ctx) => {
    const check = (s: unknown, path: number[]) => {
      if (typeof s !== 'string') ctx.addIssue({ code: 'custom', path, message: `must be a repo id string, not ${describe(s)}` });
      else if (!MODEL_REF.test(s) || s.trim() !== s) ctx.addIssue({ code: 'custom', path, message: `${MODEL_REF_HINT}, not ${JSON.stringify(s)}` });
    };
    if (!Array.isArray(v)) check(v, []);
    else if (!v.length) ctx.addIssue({ code: 'custom', path: [], message: 'must list at least one model' });
    else v.forEach((s, i) => check(s, [i]));
  });

const scalarRecord = z.record(z.string(), z.unknown(), { error: 'must be a mapping of argument names to values' });

const metricSchema = z.looseObject({
  type: nonEmpty('the metric id, e.g. accuracy'),
  value: z.number({ error: (i) => (i.input === undefined ? "is required: the metric's numeric value" : `must be a number, not ${describe(i.input)}`) }).refine(Number.isFinite, 'must be a finite number'),
  name: z.string({ error: 'must be a string' }).optional(),
  config: z.string({ error: 'must be a string' }).optional(),
  args: scalarRecord.optional(),
  verified: z.boolean({ error: 'must be true or false' }).optional(),
});

const resultSchema = z.looseObject({
  task: z.looseObject({ type: nonEmpty('the task type, e.g. text-generation'), name: z.string({ error: 'must be a string' }).optional() }, { error: (i) => (i.input === undefined ? 'is required: { type, name }' : 'must be a mapping { type, name }') }),
  dataset: z.looseObject(
    {
      type: nonEmpty('the dataset id, e.g. cais/mmlu'),
      name: nonEmpty('the dataset name shown on the Hub'),
      config: z.string({ error: 'must be a string' }).optional(),
      split: z.string({ error: 'must be a string' }).optional(),
      revision: z.string({ error: 'must be a string' }).optional(),
      args: scalarRecord.optional(),
    },
    { error: (i) => (i.input === undefined ? 'is required: { type, name }' : 'must be a mapping { type, name, config?, split?, args? }') },
  ),
  metrics: z.array(metricSchema, { error: (i) => (i.input === undefined ? 'is required: a list of { type, value }' : 'must be a list of { type, value }') }).min(1, 'must list at least one metric'),
  source: z
    .looseObject({ name: z.string({ error: 'must be a string' }).optional(), url: nonEmpty('the URL the results come from') }, { error: 'must be a mapping { name, url }' })
    .optional(),
});

const modelIndexSchema = z
  .array(
    z.looseObject(
      {
        name: nonEmpty('the model name'),
        results: z.array(resultSchema, { error: (i) => (i.input === undefined ? 'is required: a list of results' : 'must be a list of results') }),
      },
      { error: 'must be a mapping { name, results }' },
    ),
    { error: 'must be a list of { name, results }' },
  )
  .min(1, 'must name at least one model');

/** The metadata schema; keys not listed pass through (the unknown-key check warns about them). */
export const cardMetadataSchema = z.looseObject({
  language: z.union([z.string(), z.array(z.string())], { error: 'must be a language code or a list of them (strings)' }).optional(),
  license: z.string({ error: 'must be a string: a license id such as apache-2.0, or other' }).optional(),
  license_name: z.string({ error: 'must be a string' }).optional(),
  license_link: z.string({ error: 'must be a string (a URL or a file in the repo)' }).optional(),
  library_name: z.string({ error: 'must be a string such as transformers or peft' }).optional(),
  pipeline_tag: z.string({ error: 'must be a string such as text-generation' }).optional(),
  tags: stringList('tags').optional(),
  datasets: stringList('dataset ids').optional(),
  metrics: stringList('metric ids').optional(),
  base_model: baseModelSchema.optional(),
  base_model_relation: z.enum(['adapter', 'merge', 'quantized', 'finetune'], { error: 'must be one of adapter, merge, quantized, finetune' }).optional(),
  'model-index': modelIndexSchema.optional(),
});

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `a ${typeof v === 'object' ? 'mapping' : typeof v}`;
}

/** `model-index[0].results[1].metrics[0].value`: how people write a YAML path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out;
}

/**
 * Everything wrong with a card's metadata, each issue with the path it is about. An empty list
 * means the Hub will read the card as intended. Never throws.
 */
export function validateModelCard(text: string): ModelCardIssue[] {
  let parsed: ParsedModelCard;
  try {
    parsed = parseModelCard(text);
  } catch (e) {
    if (e instanceof ModelCardError) return [{ path: e.path, message: e.message, severity: 'error' }];
    throw e;
  }
  if (!parsed.data) {
    return [{ path: FRONT, message: 'the card has no metadata: it must open with a "---" line, the YAML front matter, and a closing "---" line', severity: 'error' }];
  }
  const data = parsed.data;
  const issues: ModelCardIssue[] = [];
  const r = cardMetadataSchema.safeParse(data);
  if (!r.success) {
    // zod reports a failed union once at the union; the custom messages already say what fits.
    for (const i of r.error.issues) issues.push({ path: formatPath(i.path), message: i.message, severity: 'error' });
  }
  for (const k of Object.keys(data)) {
    if (!KNOWN_CARD_KEYS.includes(k)) {
      issues.push({ path: k, message: `is not a model-card metadata key the Hub knows (known: ${KNOWN_CARD_KEYS.join(', ')}); check the spelling`, severity: 'warning' });
    }
  }
  if (typeof data.license === 'string') {
    if (!LICENSE_ID.test(data.license)) issues.push({ path: 'license', message: 'should be a lower-case license id as the Hub lists them (apache-2.0, mit, llama3, other)', severity: 'warning' });
    if (data.license === 'other' && data.license_name === undefined) issues.push({ path: 'license_name', message: 'should name the license when license is "other"', severity: 'warning' });
    if (data.license === 'other' && data.license_link === undefined) issues.push({ path: 'license_link', message: 'should link the license text when license is "other"', severity: 'warning' });
  }
  if (data.base_model_relation !== undefined && data.base_model === undefined) {
    issues.push({ path: 'base_model_relation', message: 'means nothing without base_model', severity: 'warning' });
  }
  return issues;
}

/** One evaluation number as the card's model-index carries it. */
export interface CardEvalResult {
  /** ctxlab suite, read from the task name (niah, ruler, mmlu …); the task name itself when it is none of them. */
  suite: string;
  taskType: string;
  taskName: string | null;
  datasetType: string;
  datasetName: string;
  datasetConfig: string | null;
  datasetSplit: string | null;
  metric: string;
  label: string | null;
  value: number;
  contextLength: number | null;
  shots: number | null;
  sourceUrl: string | null;
}

/** What ctxlab stores from a card's metadata. */
export interface CardMetadata {
  license: string | null;
  licenseName: string | null;
  licenseLink: string | null;
  baseModels: string[];
  baseModelRelation: string | null;
  libraryName: string | null;
  pipelineTag: string | null;
  tags: string[];
  datasets: string[];
  languages: string[];
  /** model-index's first entry's name. */
  modelName: string | null;
  evaluations: CardEvalResult[];
}

const SUITE_BY_NAME = new Map(Object.entries(SUITE_NAMES).map(([id, name]) => [name.toLowerCase(), id]));

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const intArg = (args: Record<string, unknown> | undefined, k: string): number | null => {
  const v = args?.[k];
  return typeof v === 'number' && Number.isInteger(v) ? v : null;
};

/**
 * A card's metadata in ctxlab's terms. Throws a ModelCardError naming the first error when the
 * metadata is missing or does not validate; warnings (unknown keys) do not stop it.
 */
export function cardMetadata(text: string): CardMetadata {
  const issues = validateModelCard(text).filter((i) => i.severity === 'error');
  const first = issues[0];
  if (first) throw new ModelCardError(`${first.path}: ${first.message}`, first.path);
  const d = cardMetadataSchema.parse(parseModelCard(text).data);
  const mi = d['model-index'] ?? [];
  const evaluations: CardEvalResult[] = [];
  for (const entry of mi) {
    for (const r of entry.results) {
      for (const m of r.metrics) {
        const taskName = r.task.name ?? null;
        evaluations.push({
          suite: (taskName && SUITE_BY_NAME.get(taskName.toLowerCase())) ?? taskName ?? r.task.type,
          taskType: r.task.type,
          taskName,
          datasetType: r.dataset.type,
          datasetName: r.dataset.name,
          datasetConfig: r.dataset.config ?? null,
          datasetSplit: r.dataset.split ?? null,
          metric: m.type,
          label: m.name ?? null,
          value: m.value,
          contextLength: intArg(r.dataset.args, 'context_length'),
          shots: intArg(r.dataset.args, 'num_few_shot'),
          sourceUrl: r.source?.url ?? null,
        });
      }
    }
  }
  return {
    license: d.license ?? null,
    licenseName: d.license_name ?? null,
    licenseLink: d.license_link ?? null,
    baseModels: list(d.base_model),
    baseModelRelation: d.base_model_relation ?? null,
    libraryName: d.library_name ?? null,
    pipelineTag: d.pipeline_tag ?? null,
    tags: d.tags ?? [],
    datasets: d.datasets ?? [],
    languages: list(d.language),
    modelName: mi[0]?.name ?? null,
    evaluations,
  };
}
