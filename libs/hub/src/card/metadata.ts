import type { LineageKind } from '@ctxlab/contracts';
import { stringify } from 'yaml';
import type { BaseModelRelation, CardDataset, CardEvaluation, CardIdentity, CardRelative } from './types';

/**
 * The card's YAML front matter, in the Hub's model-card metadata format. Field names and shapes
 * follow the Hub's annotated template (huggingface/hub-docs `modelcard.md`, the same file
 * huggingface_hub ships as its default template) and huggingface_hub's `ModelCardData` /
 * `EvalResult` (`repocard_data.py`): `model-index` results carry `task {type, name}`, `dataset
 * {type, name, config, split, args}`, `metrics [{type, value, name, verified}]` and `source {name,
 * url}`; `base_model` is a repo id or a list of them with `base_model_relation` one of adapter,
 * merge, quantized, finetune; `license: other` comes with `license_name` and `license_link`.
 */

/** Top-level keys in the order the Hub's template writes them (an unordered mapping reads worse in review). */
export const KEY_ORDER = [
  'language',
  'license',
  'license_name',
  'license_link',
  'library_name',
  'pipeline_tag',
  'base_model',
  'base_model_relation',
  'tags',
  'datasets',
  'metrics',
  'model-index',
] as const;

/** How a suite is named in a card and in `model-index` task names; read back by `cardMetadata`. */
export const SUITE_NAMES: Readonly<Record<string, string>> = {
  niah: 'Needle in a Haystack',
  ruler: 'RULER',
  longbench: 'LongBench',
  infinitebench: 'InfiniteBench',
  mmlu: 'MMLU',
  perplexity: 'Perplexity',
  'topic-retrieval': 'Topic retrieval',
};

export const suiteName = (suite: string): string => SUITE_NAMES[suite] ?? suite;

/**
 * The dataset a suite's number is measured on when the caller names none. The public benchmarks
 * are Hub datasets; NIAH and RULER are synthetic, generated per run, so their `type` is the
 * suite's id (the Hub only requires a string there).
 */
const SUITE_DATASETS: Readonly<Record<string, { type: string; name: string; config?: string; split?: string }>> = {
  niah: { type: 'niah', name: 'Needle in a Haystack (synthetic)' },
  ruler: { type: 'ruler', name: 'RULER (synthetic)' },
  longbench: { type: 'THUDM/LongBench', name: 'LongBench', split: 'test' },
  infinitebench: { type: 'xinrongzhang2022/InfiniteBench', name: 'InfiniteBench' },
  mmlu: { type: 'cais/mmlu', name: 'MMLU', config: 'all', split: 'test' },
  perplexity: { type: 'perplexity', name: 'Perplexity corpus' },
  'topic-retrieval': { type: 'topic-retrieval', name: 'Topic retrieval (synthetic)' },
};

export function evaluationDataset(e: CardEvaluation): { type: string; name: string; config?: string; split?: string } {
  return e.dataset ?? SUITE_DATASETS[e.suite] ?? { type: e.suite, name: suiteName(e.suite) };
}

/** Hub `task.type` for every ctxlab suite: each scores generated (or scored) text of a causal LM. */
const TASK_TYPE = 'text-generation';

type Scalar = string | number | boolean;
export interface ModelIndexMetric {
  type: string;
  value: number;
  name?: string;
  verified: false;
}
export interface ModelIndexResult {
  task: { type: string; name: string };
  dataset: { type: string; name: string; config?: string; split?: string; args?: Record<string, Scalar> };
  metrics: ModelIndexMetric[];
  source?: { name: string; url: string };
}

/**
 * `model-index` results from the evaluations. Numbers measured on the same task, dataset, settings
 * and source become metrics of one result, as the Hub groups them; every metric is `verified:
 * false` because only the Hub's own evaluation may claim verification.
 */
export function modelIndexResults(evals: readonly CardEvaluation[]): ModelIndexResult[] {
  const out: ModelIndexResult[] = [];
  const byKey = new Map<string, ModelIndexResult>();
  for (const e of evals) {
    const ds = evaluationDataset(e);
    const args: Record<string, Scalar> = {};
    if (e.contextLength !== undefined) args.context_length = e.contextLength;
    if (e.shots !== undefined) args.num_few_shot = e.shots;
    const dataset: ModelIndexResult['dataset'] = { type: ds.type, name: ds.name };
    // A sub-task is the benchmark's subset, which is what the Hub's dataset `config` names (LongBench's qasper, RULER's niah_multikey_1).
    const config = ds.config ?? e.task;
    if (config !== undefined) dataset.config = config;
    if (ds.split !== undefined) dataset.split = ds.split;
    if (Object.keys(args).length) dataset.args = args;
    // The Hub's source needs a URL to link to; a run id alone stays in the card's table.
    const source = e.source?.url ? { name: e.source.name ?? `ctxlab eval run ${e.source.runId}`, url: e.source.url } : undefined;
    const task = { type: TASK_TYPE, name: suiteName(e.suite) };
    const key = JSON.stringify([task, dataset, source ?? null]);
    let r = byKey.get(key);
    if (!r) {
      r = { task, dataset, metrics: [] };
      if (source) r.source = source;
      byKey.set(key, r);
      out.push(r);
    }
    r.metrics.push({ type: e.metric, value: e.value, name: e.label, verified: false });
  }
  return out;
}

/**
 * `base_model_relation` from the direct parents' lineage kinds: one quantisation is `quantized`;
 * several parents combined (a merge of models, or a LoRA merged onto a model other than the one it
 * came from) are a `merge`; a single fine-tune, context extension or LoRA folded back into its own
 * base is a `finetune`, which is how the Hub files full-weight descendants.
 */
export function baseModelRelation(parents: readonly Pick<CardRelative, 'relation'>[]): BaseModelRelation | undefined {
  if (!parents.length) return undefined;
  const kinds = new Set<LineageKind>(parents.map((p) => p.relation));
  if (parents.length > 1) return kinds.has('quantize') && kinds.size === 1 ? 'quantized' : 'merge';
  const only = parents[0]!.relation;
  if (only === 'quantize') return 'quantized';
  if (only === 'lora-extract') return 'adapter';
  return 'finetune';
}

/** The name a relative goes by in `base_model`: its Hub repo, else its Hub ancestor's, else its registry name. */
export const hubName = (r: { name: string; hfName?: string | undefined; hubAncestor?: string | undefined }): string => r.hfName ?? r.hubAncestor ?? r.name;

const HUB_DATASET_URI = /^(?:hf:\/\/datasets\/|https?:\/\/huggingface\.co\/datasets\/)([A-Za-z0-9][\w.-]*(?:\/[A-Za-z0-9][\w.-]*)?)\/?$/;

/** A dataset's Hub id, from `hfId` or a Hub dataset URI; undefined for data that is not on the Hub. */
export function datasetHubId(d: CardDataset): string | undefined {
  if (d.hfId) return d.hfId;
  return d.uri ? HUB_DATASET_URI.exec(d.uri)?.[1] : undefined;
}

const unique = (xs: readonly string[]): string[] => [...new Set(xs.map((x) => x.trim()).filter(Boolean))];

export interface FrontMatterInput extends CardIdentity {
  baseModels: string[];
  relation?: BaseModelRelation | undefined;
  extraTags?: string[];
  datasets?: CardDataset[] | undefined;
  evaluations?: CardEvaluation[] | undefined;
  defaultLibrary: string;
}

/** The metadata mapping, with only the keys that have values, in the template's order. */
export function frontMatterData(i: FrontMatterInput): Record<string, unknown> {
  const d: Record<string, unknown> = {};
  const languages = unique(i.languages ?? []);
  if (languages.length) d.language = languages;
  if (i.license) {
    d.license = i.license;
    // license_name / license_link only mean something next to `other` (the Hub ignores them otherwise).
    if (i.license === 'other') {
      if (i.licenseName) d.license_name = i.licenseName;
      if (i.licenseLink) d.license_link = i.licenseLink;
    }
  }
  d.library_name = i.libraryName ?? i.defaultLibrary;
  d.pipeline_tag = i.pipelineTag ?? 'text-generation';
  const bases = unique(i.baseModels);
  if (bases.length) {
    d.base_model = bases.length === 1 ? bases[0] : bases;
    if (i.relation) d.base_model_relation = i.relation;
  }
  const tags = unique([...(i.tags ?? []), ...(i.extraTags ?? [])]);
  if (tags.length) d.tags = tags;
  const datasets = unique((i.datasets ?? []).map(datasetHubId).filter((x): x is string => x !== undefined));
  if (datasets.length) d.datasets = datasets;
  const results = modelIndexResults(i.evaluations ?? []);
  if (results.length) d['model-index'] = [{ name: i.hfName ?? i.name, results }];
  return d;
}

/** The front matter block, `---` lines included. */
export function frontMatter(data: Record<string, unknown>): string {
  const ordered: Record<string, unknown> = {};
  for (const k of KEY_ORDER) if (data[k] !== undefined) ordered[k] = data[k];
  for (const [k, v] of Object.entries(data)) if (!(k in ordered) && v !== undefined) ordered[k] = v;
  // YAML 1.1 quoting because huggingface_hub reads cards with PyYAML, for which a bare `yes`, `on`
  // or `2024-05-01` is not a string. lineWidth 0: no folding, so long names and URLs stay whole.
  return `---\n${stringify(ordered, { lineWidth: 0, version: '1.1' })}---\n`;
}
