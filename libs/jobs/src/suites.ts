/**
 * Suite runs on the platform — RULER, topic retrieval, and the capability suites of ./benchmarks.ts
 * (LongBench, InfiniteBench, MMLU, endpoint perplexity): the check of a spec, the list of its cells,
 * each cell's request and score, the run's summary, and the estimate the portal shows before a
 * start. The suite-eval job (./suite-eval) starts runs with these and drives them.
 */
import {
  badRequest,
  type BenchmarkSummary,
  CAPABILITY_SUITES,
  type CapabilitySpec,
  type EndpointPerplexitySummary,
  QA_DOCUMENT_NAME,
  type RulerSpec,
  type RulerSummary,
  suiteSpecSchema,
  type SuiteSpec,
  type TopicSpec,
  type TopicSummary,
} from '@ctxlab/contracts';
import type { Repositories } from '@ctxlab/db';
import { type Corpus, corpusTokenCount, hashSeed, loadCorpusFromTexts, Rng } from '@ctxlab/niah';
import { DEFAULT_CORPORA, loadDefaultCorpus } from '@ctxlab/niah/node';
import {
  effectiveLength,
  generateRulerSample,
  generateTopicRetrievalSample,
  parseHotpotQA,
  parseSquad,
  type QaDataset,
  RULER_TASKS,
  rulerAverage,
  rulerTaskScore,
  type RulerTaskName,
  scoreRuler,
  scoreTopic,
  type WordLists,
} from '@ctxlab/ruler';
import { loadWordLists } from '@ctxlab/ruler/node';
import { getTokenizer, TOKENIZER_NAMES, type ChatMessage, type Tokenizer } from '@ctxlab/tokenizers';
import { buildCapabilityCell, capabilityCells, capabilityContext, type CapabilityContext, capabilitySize, capabilitySummary } from './benchmarks';
import { scoresByTaskAndLength } from './cell-scores';

// The contract's task list and the engine's must be the same 13 names in the same order.

/** The task of every topic-retrieval cell. */
export const TOPIC_TASK = 'topic_retrieval';

/** One cell's key: RULER task and length, or topic_retrieval and the number of topics as contextLength. */
export interface SuiteCellKey {
  task: string;
  contextLength: number;
  sample: number;
}
export const suiteCellId = (k: SuiteCellKey) => `${k.task}|${k.contextLength}|${k.sample}`;

/** The run's kind: the suite's name (endpoint perplexity shares `perplexity` with the lab's local check: same cells, same scorecard rows). */
export const suiteRunKind = (spec: SuiteSpec) => spec.suite;

export const isCapabilitySpec = (spec: SuiteSpec): spec is CapabilitySpec => (CAPABILITY_SUITES as readonly string[]).includes(spec.suite);

/** Every cell of a spec, length by length (short prompts first, so early progress is cheap); capability suites read theirs from the context. */
export function suiteCells(spec: SuiteSpec, ctx?: SuiteContext): SuiteCellKey[] {
  if (isCapabilitySpec(spec)) {
    if (!ctx?.capability) throw new Error(`a ${spec.suite} run's cells come from its data: load its context first`);
    return capabilityCells(spec, ctx.capability);
  }
  const out: SuiteCellKey[] = [];
  if (spec.suite === 'ruler') {
    for (const length of [...spec.lengths].sort((a, b) => a - b))
      for (const task of spec.tasks) for (let sample = 0; sample < spec.samples; sample++) out.push({ task, contextLength: length, sample });
  } else {
    for (const n of [...spec.topics].sort((a, b) => a - b)) for (let sample = 0; sample < spec.samples; sample++) out.push({ task: TOPIC_TASK, contextLength: n, sample });
  }
  return out;
}

/** Cells and prompt tokens of a RULER or topic spec, arithmetically (nothing is generated). */
export function suiteSize(spec: SuiteSpec): { cells: number; promptTokens: number; requests: number } {
  if (isCapabilitySpec(spec)) throw new Error(`a ${spec.suite} run's size comes from its data: use capabilitySize`);
  if (spec.suite === 'ruler') {
    const perLength = spec.tasks.reduce((a, t) => a + spec.lengths.reduce((b, l) => b + Math.max(0, l - RULER_TASKS[t].tokensToGenerate), 0), 0);
    const cells = spec.tasks.length * spec.lengths.length * spec.samples;
    return { cells, promptTokens: perLength * spec.samples, requests: cells };
  }
  const cells = spec.topics.length * spec.samples;
  return { cells, promptTokens: cells * spec.length, requests: cells };
}

// ---------- what generation needs, loaded once per process ----------

/** Everything a suite's prompts are built from; loaded once per process and kept. */
export interface SuiteContext {
  tokenizer: Tokenizer;
  corpus: Corpus | undefined;
  words: WordLists | undefined;
  qa: { squad?: QaDataset; hotpotqa?: QaDataset };
  /** LongBench, InfiniteBench, MMLU, perplexity: the parsed import or the held-out windows. */
  capability?: CapabilityContext;
  /** MMLU: how this run reads answers (decided by the worker when the spec says auto). */
  mmluScoring?: 'logprobs' | 'generate';
}


const corpora = new Map<string, Promise<Corpus>>();
/** A shipped corpus from its package, or one imported into the registry (keyed by its digest: a re-import is a new corpus). */
/**
 * Loads, once per process, what eval requests read: every built-in tokenizer (each takes 0.5–1.4 s
 * to build here: Llama-3's and Qwen2.5's vocabularies are 128K and 151K entries), the word lists,
 * and the shipped corpora with their token indexes (a NIAH estimate reads them; tokenising the
 * English corpus with Llama-3 takes about a second). A server calls it as it starts, so that no
 * request holds the event loop for a first load.
 */
export function warmSuiteResources(): void {
  for (const name of TOKENIZER_NAMES) getTokenizer(name);
  loadWordLists();
  for (const name of Object.values(DEFAULT_CORPORA)) {
    const corpus = loadDefaultCorpus(name);
    if (!corpora.has(`${name}|`)) corpora.set(`${name}|`, Promise.resolve(corpus));
    // Indexed ahead with the tokenizers of the fast path only: the generic Hugging Face encoder
    // takes tens of seconds over both corpora, so an estimate with Llama-2 or Qwen2.5 indexes on demand.
    for (const t of ['llama3', 'byte'] as const) corpusTokenCount(corpus, getTokenizer(t));
  }
}

export async function corpusByName(repos: Repositories, name: string): Promise<Corpus> {
  const builtin = (Object.values(DEFAULT_CORPORA) as string[]).includes(name);
  const dataset = builtin ? null : await repos.datasets.getByName(name);
  if (!builtin && !dataset) throw badRequest(`corpus ${name} is neither a shipped corpus nor an imported dataset`, 'spec.corpus');
  const key = `${name}|${dataset?.digest ?? ''}`;
  let c = corpora.get(key);
  if (!c) {
    c = dataset ? repos.datasets.documents(dataset.id).then((docs) => loadCorpusFromTexts(dataset.name, docs, { language: dataset.language })) : Promise.resolve(loadDefaultCorpus(name));
    // A failed load is not kept: the next run tries again.
    c.catch(() => corpora.delete(key));
    corpora.set(key, c);
  }
  return c;
}

const qaSets = new Map<string, Promise<SuiteContext['qa']>>();
/** An imported QA dataset (`ctxlab datasets import-qa`): its SQuAD and/or HotpotQA file, read with RULER's parsers. */
export async function qaDatasetByName(repos: Repositories, name: string): Promise<SuiteContext['qa']> {
  const dataset = await repos.datasets.getByName(name);
  if (!dataset) throw badRequest(`spec.qaDataset: no dataset is named ${name}; import one with \`ctxlab datasets import-qa\``, 'spec.qaDataset');
  const key = `${name}|${dataset.digest}`;
  let q = qaSets.get(key);
  if (!q) {
    q = repos.datasets.documents(dataset.id).then((docs) => readQaDocuments(name, docs));
    q.catch(() => qaSets.delete(key));
    qaSets.set(key, q);
  }
  return q;
}

/** Parts of each file in order, joined, parsed by the format's own parser. */
export function readQaDocuments(name: string, docs: readonly { name: string; text: string }[]): SuiteContext['qa'] {
  const parts: Record<'squad' | 'hotpotqa', string[]> = { squad: [], hotpotqa: [] };
  for (const d of docs) {
    const m = QA_DOCUMENT_NAME.exec(d.name);
    if (m) parts[m[1] as 'squad' | 'hotpotqa'][m[2] ? Number(m[2]) - 1 : 0] = d.text;
  }
  const read = (format: 'squad' | 'hotpotqa') => {
    const text = parts[format].join('');
    return format === 'squad' ? parseSquad(JSON.parse(text)) : parseHotpotQA(JSON.parse(text));
  };
  const out: SuiteContext['qa'] = {};
  if (parts.squad.length) out.squad = read('squad');
  if (parts.hotpotqa.length) out.hotpotqa = read('hotpotqa');
  if (!out.squad && !out.hotpotqa) throw badRequest(`spec.qaDataset: dataset ${name} holds no SQuAD or HotpotQA file (import it with \`ctxlab datasets import-qa\`)`, 'spec.qaDataset');
  return out;
}

const QA_FORMAT: Partial<Record<RulerTaskName, 'squad' | 'hotpotqa'>> = { qa_1: 'squad', qa_2: 'hotpotqa' };
const needsWords = (t: RulerTaskName) => RULER_TASKS[t].family === 'common_words_extraction' || RULER_TASKS[t].family === 'niah';
const isEssay = (t: RulerTaskName) => (RULER_TASKS[t].args as { type_haystack?: string }).type_haystack === 'essay';
const needsCorpus = (spec: RulerSpec) => spec.tasks.some(isEssay);

/** What a spec's prompts need: the tokenizer, and the corpus, word lists and QA files its tasks read. */
export async function suiteContext(repos: Repositories, spec: SuiteSpec): Promise<SuiteContext> {
  // The tokenizer loads last: a spec naming data that is not there is refused before a first load.
  if (isCapabilitySpec(spec)) {
    const capability = await capabilityContext(repos, spec, (name) => corpusByName(repos, name));
    return { tokenizer: getTokenizer(spec.tokenizer), corpus: undefined, words: undefined, qa: {}, capability };
  }
  if (spec.suite === 'topic-retrieval') {
    const corpus = await corpusByName(repos, spec.corpus);
    return { tokenizer: getTokenizer(spec.tokenizer), corpus, words: undefined, qa: {} };
  }
  const qaTasks = spec.tasks.filter((t) => QA_FORMAT[t]);
  if (qaTasks.length && !spec.qaDataset) throw badRequest(`spec.qaDataset: tasks ${qaTasks.join(', ')} need an imported QA dataset (\`ctxlab datasets import-qa\`)`, 'spec.qaDataset');
  const qa = qaTasks.length && spec.qaDataset ? await qaDatasetByName(repos, spec.qaDataset) : {};
  for (const t of qaTasks) {
    const f = QA_FORMAT[t]!;
    if (!qa[f]) throw badRequest(`spec.qaDataset: task ${t} reads a ${f === 'squad' ? 'SQuAD' : 'HotpotQA'} file, and dataset ${spec.qaDataset} has none`, 'spec.qaDataset');
  }
  const corpus = needsCorpus(spec) || spec.corpus ? await corpusByName(repos, spec.corpus ?? DEFAULT_CORPORA.en) : undefined;
  return { tokenizer: getTokenizer(spec.tokenizer), corpus, words: spec.tasks.some(needsWords) ? loadWordLists() : undefined, qa };
}

// ---------- one cell ----------

/** A cell ready to send: the chat messages or the exact prompt ids, and how its answer is scored. */
export interface SuiteCellRequest extends SuiteCellKey {
  depth: number;
  messages: ChatMessage[];
  promptIds: Uint32Array;
  promptTokens: number;
  maxTokens: number;
  expected: string[];
  /**
   * How the cell is asked: generate (chat in chat mode, the prompt ids otherwise; the default),
   * complete (the prompt ids through /v1/completions whatever the mode: a task prompted without the
   * chat template), letter-logprobs (one token, the answer letter read from its top logprobs), or
   * prompt-logprobs (no generation: the prompt's own logprobs, scored as perplexity).
   */
  ask?: 'generate' | 'complete' | 'letter-logprobs' | 'prompt-logprobs';
  /** The score reads the answer letter (A–D) the reply holds rather than the reply itself. */
  letter?: boolean;
  /** 0–100 for the model's answer. */
  score: (response: string) => number;
}

/** Builds one cell's prompt (deterministic in the spec's seed, the task, length and sample). */
export function buildSuiteCell(spec: SuiteSpec, ctx: SuiteContext, key: SuiteCellKey): SuiteCellRequest {
  if (isCapabilitySpec(spec)) return buildCapabilityCell(spec, ctx.capability!, key, ctx.mmluScoring ?? 'generate');
  if (spec.suite === 'ruler') {
    const task = key.task as RulerTaskName;
    const qaFormat = QA_FORMAT[task];
    const s = generateRulerSample({
      task,
      length: key.contextLength,
      seed: spec.seed,
      index: key.sample,
      tokenizer: ctx.tokenizer,
      chatTemplate: spec.chatTemplate,
      corpus: ctx.corpus,
      words: ctx.words,
      qaDataset: qaFormat ? ctx.qa[qaFormat] : undefined,
    });
    // NIAH tasks report their first needle's depth (a fraction of the haystack); the others have none.
    const depth = typeof s.meta.depth === 'number' ? Math.round(s.meta.depth * 1e6) / 1e6 : 0;
    return { ...key, depth, messages: s.messages, promptIds: s.promptIds, promptTokens: s.inputTokens, maxTokens: s.maxNewTokens, expected: s.answers, score: (r) => scoreRuler(task, r, s.answers) };
  }
  const t = generateTopicRetrievalSample({
    length: spec.length,
    topics: key.contextLength,
    ask: topicAsked(spec, key),
    seed: spec.seed,
    index: key.sample,
    tokenizer: ctx.tokenizer,
    chatTemplate: spec.chatTemplate,
    corpus: ctx.corpus!,
  });
  return { ...key, depth: 0, messages: t.messages, promptIds: t.promptIds, promptTokens: t.inputTokens, maxTokens: t.maxNewTokens, expected: [t.answer], score: (r) => scoreTopic(r, t.answer) };
}

/** Which topic a sample asks for: LongChat's first, or a seeded one of the N. */
const topicAsked = (spec: TopicSpec, key: SuiteCellKey) =>
  spec.question === 'first' ? 1 : 1 + new Rng(hashSeed(spec.seed, 'topic-ask', key.contextLength, key.sample)).int(0, key.contextLength - 1);

// ---------- summary ----------

/** The run's summary from its cells (failed cells, score null, are counted and left out of every mean). */
export function suiteSummary(
  spec: SuiteSpec,
  cells: readonly { task: string; contextLength: number; score: number | null }[],
  mmluScoring?: 'logprobs' | 'generate',
): RulerSummary | TopicSummary | BenchmarkSummary | EndpointPerplexitySummary {
  if (isCapabilitySpec(spec)) return capabilitySummary(spec, cells, mmluScoring);
  const { failed, by } = scoresByTaskAndLength(cells);
  if (spec.suite === 'topic-retrieval') {
    const perTopics: Record<string, number> = {};
    for (const [n, scores] of by.get(TOPIC_TASK) ?? []) perTopics[n] = rulerTaskScore(scores);
    const values = Object.values(perTopics);
    return { perTopics, average: values.length ? rulerAverageOf(values) : null, failed };
  }
  const perTask: Record<string, Record<string, number>> = {};
  const byLength = new Map<number, Partial<Record<RulerTaskName, number>>>();
  for (const [task, lengths] of by) {
    for (const [length, scores] of lengths) {
      const score = rulerTaskScore(scores);
      (perTask[task] ??= {})[length] = score;
      byLength.set(length, { ...byLength.get(length), [task]: score });
    }
  }
  const perLength: Record<string, number> = {};
  for (const [length, scores] of [...byLength].sort(([a], [b]) => a - b)) perLength[length] = rulerAverage(scores);
  const lengths = Object.values(perLength);
  return {
    perTask,
    perLength,
    average: lengths.length ? rulerAverageOf(lengths) : null,
    effectiveLength: effectiveLength(Object.fromEntries(Object.entries(perLength).map(([l, v]) => [Number(l), v])), spec.threshold) ?? null,
    threshold: spec.threshold,
    failed,
  };
}
const rulerAverageOf = (values: number[]) => rulerTaskScore(values);

// ---------- starting a run ----------

/** Samples per task built at the shortest length before a start, when it is at most FIT_CHECK_MAX_LENGTH. */
const FIT_CHECK_SAMPLES = 3;
const FIT_CHECK_MAX_LENGTH = 16_384;

export interface SuiteLimits {
  maxCells: number;
  maxPromptTokens: number;
}

/**
 * Everything a start refuses, before anything is created: a spec beyond the grid limits, a QA
 * task without its dataset, a corpus that does not exist, and a length a task cannot fit (each
 * task's first samples are built at its shortest length — a task that fits there fits at every
 * longer one). A sample that still does not fit (a later draw, an essay task, a topic record whose
 * headers outgrow the length, a QA dataset too small for a long prompt) is recorded by the worker
 * as a failed cell, with the reason, and never scored.
 */
export async function checkSuiteSpec(repos: Repositories, specInput: unknown, limits: SuiteLimits): Promise<{ spec: SuiteSpec; cells: number; promptTokens: number; approximate?: boolean }> {
  const parsed = suiteSpecSchema.safeParse(specInput);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = ['spec', ...issue.path.map(String)].join('.');
    throw badRequest(`${field}: ${issue.message}`, field);
  }
  const spec = parsed.data;
  const fmt = (n: number) => n.toLocaleString('en-US');
  if (isCapabilitySpec(spec)) {
    // The data decides the size: the import is read (and checked against the spec) first.
    const ctx = await suiteContext(repos, spec);
    const size = capabilitySize(spec, ctx.capability!);
    if (size.cells === 0) throw badRequest('spec: the run has no cells', 'spec');
    withinLimits(size, limits, fmt);
    return { spec, ...size };
  }
  const size = suiteSize(spec);
  withinLimits(size, limits, fmt);
  const ctx = await suiteContext(repos, spec);
  if (spec.suite === 'topic-retrieval') {
    const most = Math.max(...spec.topics);
    const documents = ctx.corpus?.documents.length ?? 0;
    if (most > documents) throw badRequest(`spec.topics: corpus ${spec.corpus} has ${fmt(documents)} documents (topics), fewer than the ${fmt(most)} asked`, 'spec.topics');
    return { spec, cells: size.cells, promptTokens: size.promptTokens };
  }
  // Whether a sample fits can depend on its draws (cwe's words near its minimum): the first few are
  // built, in the API process — so only short prompts, and only the tasks with a fixed minimum: the
  // essay haystacks stretch to any length, and indexing an essay corpus with Llama-3's tokenizer
  // takes seconds the first time.
  const shortest = Math.min(...spec.lengths);
  if (shortest > FIT_CHECK_MAX_LENGTH) return { spec, cells: size.cells, promptTokens: size.promptTokens };
  for (const task of spec.tasks.filter((t) => !isEssay(t))) {
    try {
      for (let sample = 0; sample < Math.min(spec.samples, FIT_CHECK_SAMPLES); sample++) {
        buildSuiteCell(spec, ctx, { task, contextLength: shortest, sample });
        // A prompt takes up to a few tens of milliseconds: other requests get their turn in between.
        await new Promise((r) => setTimeout(r, 0));
      }
    } catch (e) {
      throw badRequest(`spec.lengths: task ${task} cannot fit in ${fmt(shortest)} ${spec.tokenizer} tokens: ${(e as Error).message}`, 'spec.lengths');
    }
  }
  return { spec, cells: size.cells, promptTokens: size.promptTokens };
}

function withinLimits(size: { cells: number; promptTokens: number }, limits: SuiteLimits, fmt: (n: number) => string) {
  if (size.cells > limits.maxCells) throw badRequest(`spec: the run has ${fmt(size.cells)} cells; the limit is ${fmt(limits.maxCells)} (NIAH_MAX_CELLS)`, 'spec');
  if (size.promptTokens > limits.maxPromptTokens) {
    throw badRequest(`spec: the run's prompts add up to ${fmt(size.promptTokens)} tokens; the limit is ${fmt(limits.maxPromptTokens)} (NIAH_MAX_PROMPT_TOKENS)`, 'spec');
  }
}

/**
 * What a run will cost before it starts: cells, prompt tokens, requests, and — when the endpoint
 * has answered recent requests — an ETA from their mean latency at the run's concurrency.
 */
export async function suiteEstimate(repos: Repositories, input: { spec: unknown; endpointId?: string | undefined; concurrency?: number | undefined }, limits: SuiteLimits) {
  const { spec, cells, promptTokens, approximate } = await checkSuiteSpec(repos, input.spec, limits);
  let etaSeconds: number | null = null;
  const warnings: string[] = [];
  if (approximate) warnings.push('prompt tokens are estimated at 4 characters a token (capped at the max length); the run records the exact count of every prompt');
  if (input.endpointId) {
    const ep = await repos.endpoints.find(input.endpointId);
    if (!ep) throw badRequest(`endpointId: endpoint ${input.endpointId} does not exist`, 'endpointId');
    const maxLength = longestSequence(spec);
    if (ep.maxModelLen && maxLength !== null && maxLength > ep.maxModelLen) warnings.push(`the longest sequence (${maxLength.toLocaleString('en-US')} tokens) is beyond ${ep.name}'s max model length ${ep.maxModelLen.toLocaleString('en-US')}: those cells will fail`);
    const latency = await repos.evals.recentLatency(ep.id);
    if (latency) etaSeconds = (cells * latency.meanMs) / 1000 / Math.max(1, input.concurrency ?? 4);
  }
  return { suite: spec.suite, cells, promptTokens, requests: cells, etaSeconds, warnings };
}

/** The longest sequence a spec sends (prompt and generation), where the spec bounds it (MMLU's prompts are short and not bounded). */
function longestSequence(spec: SuiteSpec): number | null {
  switch (spec.suite) {
    case 'ruler':
    case 'perplexity':
      return Math.max(...spec.lengths);
    case 'topic-retrieval':
      return spec.length;
    case 'longbench':
    case 'infinitebench':
      return spec.maxLength;
    case 'mmlu':
      return null;
  }
}
