/**
 * Capability suites on the platform — LongBench, InfiniteBench, MMLU from imported benchmark
 * files, and perplexity through an endpoint — in the shape of ./suites.ts: their data loaded once
 * per process, every cell's key, each cell's request and score, and the run's summary. Prompts and
 * metrics come from @ctxlab/capability, which follows the benchmarks' official code.
 */
import {
  badRequest,
  type BenchmarkImportInput,
  type BenchmarkSummary,
  type CapabilitySpec,
  type EndpointPerplexitySummary,
  joinFileDocuments,
  type MmluSpec,
  type PerplexitySpec,
} from '@ctxlab/contracts';
import type { Repositories } from '@ctxlab/db';
import {
  BenchmarkFormatError,
  buildInfiniteBenchPrompt,
  buildLongBenchPrompt,
  buildMmluPrompt,
  INFINITEBENCH_METRIC,
  infiniteBenchItemScore,
  isInfiniteBenchScoredTask,
  type InfiniteBenchItem,
  type InfiniteBenchTaskName,
  type LongBenchItem,
  longBenchItemScore,
  longBenchTaskScore,
  type MmluItem,
  parseInfiniteBenchJsonl,
  parseLongBenchJsonl,
  parseMmluCsv,
  perplexityWindows,
  summarizeBenchmarkFiles,
} from '@ctxlab/capability';
import { type Corpus, corpusTokenCountYielding } from '@ctxlab/niah';
import { getTokenizer, type Tokenizer } from '@ctxlab/tokenizers';
import { scoresByTaskAndLength } from './cell-scores';
import type { SuiteCellKey, SuiteCellRequest } from './suites';

/** A benchmark import's files, read by the format's own parser. */
export interface BenchmarkData {
  format: 'longbench' | 'infinitebench' | 'mmlu';
  /** LongBench dataset / InfiniteBench task → items in file order. */
  items: Map<string, (LongBenchItem | InfiniteBenchItem)[]>;
  /** MMLU subject → its dev (few-shot) and test items. */
  mmlu: Map<string, { dev: MmluItem[]; test: MmluItem[] }>;
}

/** The files of an import, parsed; a file the format refuses is a BAD_REQUEST naming file, line and field. */
export function readBenchmarkFiles(format: BenchmarkData['format'], files: readonly { name: string; text: string }[]): BenchmarkData {
  const data: BenchmarkData = { format, items: new Map(), mmlu: new Map() };
  try {
    for (const f of files) {
      if (format === 'longbench') {
        for (const item of parseLongBenchJsonl(f.name, f.text)) data.items.set(item.dataset, [...(data.items.get(item.dataset) ?? []), item]);
      } else if (format === 'infinitebench') {
        const { task, items } = parseInfiniteBenchJsonl(f.name, f.text);
        data.items.set(task, [...(data.items.get(task) ?? []), ...items]);
      } else {
        const { subject, split, items } = parseMmluCsv(f.name, f.text);
        const s = data.mmlu.get(subject) ?? { dev: [], test: [] };
        data.mmlu.set(subject, s);
        if (split === 'dev') s.dev.push(...items);
        else if (split === 'test') s.test.push(...items);
      }
    }
  } catch (e) {
    if (e instanceof BenchmarkFormatError) throw badRequest(`documents: ${e.message}`, 'documents');
    throw e;
  }
  return data;
}

/**
 * Checks a benchmark's files with the format's parser and records them as a `benchmark` dataset:
 * the files as given (so they can be read back exactly), items and sha256 per task, and one digest
 * over the task digests.
 */
export async function importBenchmark(repos: Repositories, input: BenchmarkImportInput) {
  const files = joinFileDocuments(input.documents);
  // File by file, yielding in between: a large import is checked without holding the server.
  const tasks: Record<string, { items: number; digest: string }> = {};
  const where = new Map<string, string>();
  for (const file of files) {
    let summary;
    try {
      summary = summarizeBenchmarkFiles([file]);
      if (summary.format !== input.format) throw badRequest(`format: the files are ${summary.format}, not ${input.format}`, 'format');
      readBenchmarkFiles(input.format, [file]);
    } catch (e) {
      if (e instanceof BenchmarkFormatError) throw badRequest(`documents: ${e.message}`, 'documents');
      throw e;
    }
    for (const [task, t] of Object.entries(summary.tasks)) {
      if (where.has(task)) throw badRequest(`documents: task ${task} is in both ${where.get(task)} and ${file.name}`, 'documents');
      where.set(task, file.name);
      tasks[task] = t;
    }
    await new Promise((r) => setImmediate(r));
  }
  if (Object.keys(tasks).length === 0) throw badRequest('documents: the files hold no items', 'documents');
  const digest = await sha256Hex(Object.entries(tasks).sort(([a], [b]) => (a < b ? -1 : 1)).map(([t, v]) => `${t}:${v.digest}`).join('\n'));
  const bytes = input.documents.reduce((n, d) => n + Buffer.byteLength(d.text, 'utf8'), 0);
  const items = Object.values(tasks).reduce((n, t) => n + t.items, 0);
  const record = await repos.datasets.importCorpus(
    {
      name: input.name,
      kind: 'benchmark',
      description: input.description ?? `${input.format}: ${Object.keys(tasks).length} tasks, ${items.toLocaleString('en-US')} items`,
      source: input.source,
      license: input.license,
      language: input.format === 'longbench' && Object.keys(tasks).some((t) => LONGBENCH_ZH.test(t)) ? 'en+zh' : 'en',
      documents: input.documents.length,
      bytes,
      tokenCounts: {},
      digest: `sha256:${digest}`,
      tasks,
      tags: ['imported', input.format],
    },
    input.documents,
  );
  invalidate(input.name);
  return record;
}
const LONGBENCH_ZH = /_zh$|^(dureader|vcsum|lsht)$/;

async function sha256Hex(text: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(text).digest('hex');
}

const loaded = new Map<string, Promise<BenchmarkData>>();
const invalidate = (name: string) => {
  for (const k of loaded.keys()) if (k.startsWith(`${name}|`)) loaded.delete(k);
};

/** An imported benchmark by name, parsed once per process (keyed by its digest: a re-import is new data). */
export async function benchmarkByName(repos: Repositories, name: string, format: BenchmarkData['format']): Promise<BenchmarkData> {
  const dataset = await repos.datasets.getByName(name);
  if (!dataset || dataset.archivedAt) throw badRequest(`spec.dataset: no benchmark dataset is named ${name}; import one with \`ctxlab datasets import --format ${format} PATH\``, 'spec.dataset');
  const imported = dataset.tags.find((t) => t === 'longbench' || t === 'infinitebench' || t === 'mmlu');
  if (dataset.kind !== 'benchmark' || imported !== format) {
    throw badRequest(`spec.dataset: dataset ${name} is ${dataset.kind === 'benchmark' ? `a ${imported} import` : `a ${dataset.kind} dataset`}, not ${format}`, 'spec.dataset');
  }
  const key = `${name}|${dataset.digest}`;
  let p = loaded.get(key);
  if (!p) {
    p = repos.datasets.documents(dataset.id).then((docs) => readBenchmarkFiles(format, joinFileDocuments(docs)));
    p.catch(() => loaded.delete(key));
    loaded.set(key, p);
  }
  return p;
}

// ---------- cells ----------

/** What a capability spec's cells are built from. */
export interface CapabilityContext {
  tokenizer: Tokenizer;
  data: BenchmarkData | undefined;
  /** perplexity: the held-out text's token windows of a length, built on first use (the worker builds them; a start only checks they fit). */
  windows: ((length: number) => Uint32Array[]) | undefined;
}

/** The tasks a spec runs, checked against the import. */
function tasksOf(spec: Exclude<CapabilitySpec, PerplexitySpec>, data: BenchmarkData): string[] {
  const have = spec.suite === 'mmlu' ? [...data.mmlu].filter(([, s]) => s.test.length).map(([k]) => k) : [...data.items.keys()];
  // InfiniteBench: the tasks ctxlab scores as InfiniteBench does (its other tasks are refused by name, not scored wrongly).
  const scorable = spec.suite === 'infinitebench' ? have.filter(isInfiniteBenchScoredTask) : have;
  const asked = (spec.suite === 'mmlu' ? spec.subjects : spec.tasks) ?? [...scorable].sort();
  const field = spec.suite === 'mmlu' ? 'spec.subjects' : 'spec.tasks';
  const missing = asked.filter((t) => !have.includes(t));
  if (missing.length) throw badRequest(`${field}: dataset ${spec.dataset} has no ${missing.join(', ')} (it has ${have.sort().join(', ') || 'nothing'})`, field);
  const unscored = asked.filter((t) => !scorable.includes(t));
  if (unscored.length) throw badRequest(`${field}: ctxlab does not score InfiniteBench's ${unscored.join(', ')} yet (it scores ${Object.keys(INFINITEBENCH_METRIC).join(', ')})`, field);
  if (asked.length === 0) throw badRequest(`${field}: dataset ${spec.dataset} has no task ctxlab can run`, field);
  if (spec.suite === 'mmlu') {
    const most = Math.max(...spec.shots);
    const short = asked.filter((s) => data.mmlu.get(s)!.dev.length < most);
    if (short.length) throw badRequest(`spec.shots: ${most}-shot needs ${most} dev examples; ${short.join(', ')} ${short.length === 1 ? 'has' : 'have'} fewer (import the dev CSVs too)`, 'spec.shots');
  }
  return asked;
}

const itemsOf = (spec: Exclude<CapabilitySpec, PerplexitySpec>, data: BenchmarkData, task: string): number => {
  const n = spec.suite === 'mmlu' ? data.mmlu.get(task)!.test.length : data.items.get(task)!.length;
  return Math.min(n, spec.limit ?? n);
};

export async function capabilityContext(repos: Repositories, spec: CapabilitySpec, corpusByName: (name: string) => Promise<Corpus>): Promise<CapabilityContext> {
  const tokenizer = getTokenizer(spec.tokenizer);
  if (spec.suite === 'perplexity') {
    const corpus = await corpusByName(spec.corpus);
    // Whether the text holds the windows, from its token count (counted once per process, yielding): nothing is tokenized here.
    const available = await corpusTokenCountYielding(corpus, tokenizer);
    const longest = Math.max(...spec.lengths);
    if (spec.samples * (longest - 1) > available) {
      const fmt = (n: number) => n.toLocaleString('en-US');
      throw badRequest(`spec.lengths: corpus ${spec.corpus} holds about ${fmt(available)} ${spec.tokenizer} tokens, fewer than ${fmt(spec.samples)} windows of ${fmt(longest)} tokens need`, 'spec.lengths');
    }
    return { tokenizer, data: undefined, windows: windowsFor(spec, corpus, tokenizer) };
  }
  const data = await benchmarkByName(repos, spec.dataset, spec.suite);
  tasksOf(spec, data);
  return { tokenizer, data, windows: undefined };
}

/** Held-out windows: `samples` windows per length, one after another from the start of the text; built once per length, when first asked for. */
function windowsFor(spec: PerplexitySpec, corpus: Corpus, tokenizer: Tokenizer): (length: number) => Uint32Array[] {
  const built = new Map<number, Uint32Array[]>();
  return (length) => {
    let w = built.get(length);
    if (!w) {
      w = perplexityWindows(corpus.text, tokenizer, length, spec.samples);
      built.set(length, w);
    }
    return w;
  };
}

/** Every cell: task by task, item by item (MMLU: per shot count; perplexity: per length and window). */
export function capabilityCells(spec: CapabilitySpec, ctx: CapabilityContext): SuiteCellKey[] {
  const out: SuiteCellKey[] = [];
  if (spec.suite === 'perplexity') {
    for (const L of [...spec.lengths].sort((a, b) => a - b)) for (let sample = 0; sample < spec.samples; sample++) out.push({ task: PERPLEXITY_TASK, contextLength: L, sample });
    return out;
  }
  const data = ctx.data!;
  const settings = spec.suite === 'mmlu' ? [...spec.shots].sort((a, b) => a - b) : [spec.maxLength];
  for (const setting of settings) for (const task of tasksOf(spec, data)) for (let sample = 0; sample < itemsOf(spec, data, task); sample++) out.push({ task, contextLength: setting, sample });
  return out;
}
export const PERPLEXITY_TASK = 'perplexity';

/** Cells and (for benchmarks, approximate: 4 characters a token, capped at the max length) prompt tokens. */
export function capabilitySize(spec: CapabilitySpec, ctx: CapabilityContext): { cells: number; promptTokens: number; approximate: boolean } {
  const cells = capabilityCells(spec, ctx);
  if (spec.suite === 'perplexity') return { cells: cells.length, promptTokens: spec.lengths.reduce((a, L) => a + L, 0) * spec.samples, approximate: false };
  let tokens = 0;
  for (const k of cells) {
    const chars = spec.suite === 'mmlu' ? mmluChars(ctx.data!.mmlu.get(k.task)!, k) : itemChars(ctx.data!.items.get(k.task)![k.sample]!);
    tokens += spec.suite === 'mmlu' ? Math.ceil(chars / 4) : Math.min(spec.maxLength, Math.ceil(chars / 4));
  }
  return { cells: cells.length, promptTokens: tokens, approximate: true };
}
const itemChars = (item: LongBenchItem | InfiniteBenchItem) => item.context.length + item.input.length;
const mmluChars = (s: { dev: MmluItem[]; test: MmluItem[] }, k: SuiteCellKey) =>
  [s.test[k.sample]!, ...s.dev.slice(0, k.contextLength)].reduce((n, i) => n + i.question.length + i.choices.join('').length + 20, 0);

/** Builds one cell's request; `mmluScoring` is how the run reads MMLU answers. */
export function buildCapabilityCell(spec: CapabilitySpec, ctx: CapabilityContext, key: SuiteCellKey, mmluScoring: 'logprobs' | 'generate'): SuiteCellRequest {
  if (spec.suite === 'perplexity') {
    const ids = ctx.windows!(key.contextLength)[key.sample];
    if (!ids) throw new Error(`the held-out text ends before window ${key.sample + 1} of ${key.contextLength.toLocaleString('en-US')} tokens`);
    return { ...key, depth: 0, messages: [], promptIds: ids, promptTokens: ids.length, maxTokens: 0, expected: [], ask: 'prompt-logprobs', score: () => 0 };
  }
  if (spec.suite === 'mmlu') return mmluCell(spec, ctx, key, mmluScoring);
  const item = ctx.data!.items.get(key.task)![key.sample]!;
  if (spec.suite === 'longbench') {
    const p = buildLongBenchPrompt(item as LongBenchItem, { tokenizer: ctx.tokenizer, maxLength: spec.maxLength, chatTemplate: spec.chatTemplate });
    const lb = item as LongBenchItem;
    return {
      ...key, depth: 0, messages: p.messages, promptIds: p.promptIds, promptTokens: p.promptTokens, maxTokens: p.maxNewTokens, expected: lb.answers,
      // Tasks LongBench prompts without the chat template go to /v1/completions as they are.
      ask: p.useChat ? 'generate' : 'complete',
      score: (r) => longBenchItemScore(key.task, r, lb.answers, lb.all_classes),
    };
  }
  const ib = item as InfiniteBenchItem;
  const p = buildInfiniteBenchPrompt(ib, key.task as InfiniteBenchTaskName, { tokenizer: ctx.tokenizer, maxLength: spec.maxLength, chatTemplate: spec.chatTemplate });
  return {
    ...key, depth: 0, messages: p.messages, promptIds: p.promptIds, promptTokens: p.promptTokens, maxTokens: p.maxNewTokens, expected: ib.answer,
    ask: p.useChat ? 'generate' : 'complete',
    score: (r) => infiniteBenchItemScore(key.task, r, ib.answer, ib.options),
  };
}

function mmluCell(spec: MmluSpec, ctx: CapabilityContext, key: SuiteCellKey, scoring: 'logprobs' | 'generate'): SuiteCellRequest {
  const s = ctx.data!.mmlu.get(key.task)!;
  const item = s.test[key.sample]!;
  const p = buildMmluPrompt(item, s.dev, key.contextLength, { tokenizer: ctx.tokenizer, chatTemplate: spec.chatTemplate });
  return {
    ...key, depth: 0, messages: p.messages, promptIds: p.promptIds, promptTokens: p.promptTokens, maxTokens: p.maxNewTokens, expected: [item.answer],
    ask: scoring === 'logprobs' ? 'letter-logprobs' : p.useChat ? 'generate' : 'complete',
    letter: true,
    score: (letter) => (letter === item.answer ? 100 : 0),
  };
}

// ---------- summary ----------

const round2 = (x: number) => Math.round(x * 100) / 100;

/** The run's summary: the official score per task and setting, failed cells left out and counted. */
export function capabilitySummary(
  spec: CapabilitySpec,
  cells: readonly { task: string; contextLength: number; score: number | null }[],
  mmluScoring?: 'logprobs' | 'generate',
): BenchmarkSummary | EndpointPerplexitySummary {
  const { failed, by } = scoresByTaskAndLength(cells);
  if (spec.suite === 'perplexity') {
    const perLength: Record<string, number> = {};
    for (const [L, v] of [...(by.get(PERPLEXITY_TASK) ?? [])].sort(([a], [b]) => a - b)) perLength[L] = Math.exp(v.reduce((a, x) => a + Math.log(x), 0) / v.length);
    return { suite: 'perplexity', perLength, failed };
  }
  const perTask: Record<string, Record<string, number>> = {};
  const perSettingScores = new Map<number, number[]>();
  for (const [task, settings] of [...by].sort(([a], [b]) => (a < b ? -1 : 1))) {
    for (const [setting, scores] of settings) {
      // LongBench: round(100 × mean, 2) as eval.py; InfiniteBench and MMLU: the mean, to two decimals.
      const score = spec.suite === 'longbench' ? longBenchTaskScore(scores) : round2(scores.reduce((a, x) => a + x, 0) / scores.length);
      (perTask[task] ??= {})[setting] = score;
      // MMLU's overall accuracy counts every question; the others average their tasks.
      perSettingScores.set(setting, [...(perSettingScores.get(setting) ?? []), ...(spec.suite === 'mmlu' ? scores : [score])]);
    }
  }
  const perSetting: Record<string, number> = {};
  for (const [setting, v] of [...perSettingScores].sort(([a], [b]) => a - b)) perSetting[setting] = round2(v.reduce((a, x) => a + x, 0) / v.length);
  const values = Object.values(perSetting);
  return {
    suite: spec.suite,
    perTask,
    perSetting,
    average: values.length ? round2(values.reduce((a, x) => a + x, 0) / values.length) : null,
    ...(spec.suite === 'mmlu' && mmluScoring ? { scoring: mmluScoring } : {}),
    items: cells.length - failed,
    failed,
  };
}
