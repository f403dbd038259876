import { z } from 'zod';
import { contextLength, idSchema, text } from './common';
import { niahTokenizerSchema } from './niah';

/**
 * Suites beyond NIAH that run on the platform: RULER's 13 synthetic tasks and LongChat's topic
 * retrieval. The prompts and metrics live in @ctxlab/ruler; these are the specs a run stores in
 * EvalRun.config.spec.
 */

/** RULER's 13 tasks (NVIDIA/RULER scripts/synthetic.yaml), in its order; @ctxlab/ruler builds them. */
export const RULER_TASK_IDS = [
  'niah_single_1',
  'niah_single_2',
  'niah_single_3',
  'niah_multikey_1',
  'niah_multikey_2',
  'niah_multikey_3',
  'niah_multivalue',
  'niah_multiquery',
  'vt',
  'cwe',
  'fwe',
  'qa_1',
  'qa_2',
] as const;
export const rulerTaskSchema = z.enum(RULER_TASK_IDS);
export type RulerTask = z.infer<typeof rulerTaskSchema>;

/** A suite's axis of lengths (or topic counts): at most this many values. */
export const SUITE_MAX_AXIS = 32;

const seedSchema = z.number().int().min(0).max(2 ** 32 - 1).default(0);
const samplesSchema = z.number().int('must be an integer').min(1, 'must be at least 1').max(1000, 'must be at most 1000');
const corpusSchema = text().trim().min(1).max(200);

export const rulerSpecSchema = z.object({
  suite: z.literal('ruler'),
  tasks: z
    .array(rulerTaskSchema)
    .min(1, 'name at least one task')
    .max(RULER_TASK_IDS.length)
    .refine((xs) => new Set(xs).size === xs.length, 'tasks must not repeat a task'),
  /** RULER's max_seq_length: prompt plus the task's tokens to generate. */
  lengths: z
    .array(contextLength)
    .min(1, 'name at least one length')
    .max(SUITE_MAX_AXIS, `at most ${SUITE_MAX_AXIS} lengths`)
    .refine((xs) => new Set(xs).size === xs.length, 'lengths must not repeat a value'),
  samples: samplesSchema.default(10),
  seed: seedSchema,
  tokenizer: niahTokenizerSchema.default('llama3'),
  /** Wrap prompts in the tokenizer's chat template (false: RULER's `base` template). */
  chatTemplate: z.boolean().default(true),
  /** RULER's bar for the effective length: the average must be strictly above it. */
  threshold: z.number().min(0).max(100).default(85.6),
  /** The essay tasks' haystack: a shipped corpus or an imported dataset (default sotu-en). */
  corpus: corpusSchema.optional(),
  /** An imported SQuAD (qa_1) or HotpotQA (qa_2) dataset (`ctxlab datasets import-qa`). */
  qaDataset: corpusSchema.optional(),
});
export type RulerSpec = z.infer<typeof rulerSpecSchema>;

export const topicSpecSchema = z.object({
  suite: z.literal('topic-retrieval'),
  /** Conversation sizes N (number of topics); each is a cell's contextLength. */
  topics: z
    .array(z.number().int('must be an integer').min(1, 'must be at least 1').max(1000, 'must be at most 1000'))
    .min(1, 'name at least one topic count')
    .max(SUITE_MAX_AXIS, `at most ${SUITE_MAX_AXIS} topic counts`)
    .refine((xs) => new Set(xs).size === xs.length, 'topics must not repeat a value'),
  /** Exact prompt tokens of every sample (the passages share what the headers leave). */
  length: contextLength.default(4096),
  samples: samplesSchema.default(10),
  seed: seedSchema,
  tokenizer: niahTokenizerSchema.default('llama3'),
  chatTemplate: z.boolean().default(true),
  /** Documents with titles: each document's name is a topic (default sotu-en). */
  corpus: corpusSchema.default('sotu-en'),
  /** first: LongChat's question; kth: a seeded topic of the record per sample. */
  question: z.enum(['first', 'kth']).default('first'),
});
export type TopicSpec = z.infer<typeof topicSpecSchema>;

// ---------- capability benchmarks (@ctxlab/capability) ----------

/** An imported benchmark dataset (`ctxlab datasets import --format longbench|infinitebench|mmlu`). */
const benchmarkDatasetSchema = text().trim().min(1, 'name the imported benchmark dataset').max(200);
const taskNamesSchema = z
  .array(text().trim().min(1).max(100))
  .min(1, 'name at least one task, or leave the list out for every task')
  .max(100)
  .refine((xs) => new Set(xs).size === xs.length, 'tasks must not repeat a task');
/** Items per task: the first N of each file (all when left out). */
const itemLimitSchema = z.number().int('must be an integer').min(1, 'must be at least 1').max(100_000, 'must be at most 100000');

/** LongBench and InfiniteBench take the same spec: tasks of an import, cut to a max length in tokens. */
const longInputBenchmark = <S extends 'longbench' | 'infinitebench'>(suite: S, maxLength: number, tasks: string, cut: string) =>
  z.object({
    suite: z.literal(suite),
    dataset: benchmarkDatasetSchema,
    /** Task names (one per file); every one the import holds when left out. */
    tasks: taskNamesSchema.optional().describe(tasks),
    /** Prompts longer than this many tokens keep their first and last halves. */
    maxLength: contextLength.default(maxLength).describe(cut),
    limit: itemLimitSchema.optional(),
    tokenizer: niahTokenizerSchema.default('llama3'),
    /** Wrap the tasks the benchmark chats with in the tokenizer's chat template. */
    chatTemplate: z.boolean().default(true),
  });

export const longbenchSpecSchema = longInputBenchmark('longbench', 31_500, 'LongBench dataset names (narrativeqa, qasper, …)', "pred.py's max_length");
export type LongBenchSpec = z.infer<typeof longbenchSpecSchema>;

export const infinitebenchSpecSchema = longInputBenchmark('infinitebench', 128_000, 'InfiniteBench tasks (longbook_qa_eng, longbook_sum_eng, …)', "InfiniteBench's truncate_input length");
export type InfiniteBenchSpec = z.infer<typeof infinitebenchSpecSchema>;

export const mmluSpecSchema = z.object({
  suite: z.literal('mmlu'),
  dataset: benchmarkDatasetSchema,
  /** MMLU subjects (abstract_algebra, anatomy, …); every subject with a test file when left out. */
  subjects: taskNamesSchema.optional(),
  /** Few-shot settings, each a cell axis: 0-shot and 5-shot by default (examples from the subject's dev file). */
  shots: z
    .array(z.number().int('must be an integer').min(0, 'must be at least 0').max(5, 'must be at most 5'))
    .min(1, 'name at least one shot count')
    .max(6)
    .refine((xs) => new Set(xs).size === xs.length, 'shots must not repeat a value')
    .default([0, 5]),
  limit: itemLimitSchema.optional(),
  tokenizer: niahTokenizerSchema.default('llama3'),
  chatTemplate: z.boolean().default(true),
  /** logprobs: the answer letter with the highest log-probability; generate: the letter the model writes; auto: logprobs when the endpoint returns them. */
  scoring: z.enum(['auto', 'logprobs', 'generate']).default('auto'),
});
export type MmluSpec = z.infer<typeof mmluSpecSchema>;

export const perplexitySpecSchema = z.object({
  suite: z.literal('perplexity'),
  /** Held-out text: a shipped corpus or an imported haystack dataset (default sotu-en). */
  corpus: corpusSchema.default('sotu-en'),
  /** Window lengths in tokens; each is a cell's contextLength. */
  lengths: z
    .array(contextLength.min(2, 'a window needs at least 2 tokens (the first is not scored)'))
    .min(1, 'name at least one length')
    .max(SUITE_MAX_AXIS, `at most ${SUITE_MAX_AXIS} lengths`)
    .refine((xs) => new Set(xs).size === xs.length, 'lengths must not repeat a value'),
  /** Windows per length, taken one after another from the start of the text. */
  samples: samplesSchema.default(4),
  tokenizer: niahTokenizerSchema.default('llama3'),
});
export type PerplexitySpec = z.infer<typeof perplexitySpecSchema>;

export const CAPABILITY_SUITES = ['longbench', 'infinitebench', 'mmlu', 'perplexity'] as const;
export type CapabilitySpec = LongBenchSpec | InfiniteBenchSpec | MmluSpec | PerplexitySpec;

export const suiteSpecSchema = z.discriminatedUnion('suite', [rulerSpecSchema, topicSpecSchema, longbenchSpecSchema, infinitebenchSpecSchema, mmluSpecSchema, perplexitySpecSchema]);
export type SuiteSpec = z.infer<typeof suiteSpecSchema>;
export type SuiteSpecInput = z.input<typeof suiteSpecSchema>;

/** Starting a suite run (RULER, topic retrieval, a capability benchmark, perplexity) against a registered endpoint. */
export const suiteStartInput = z.object({
  name: text().trim().min(1, 'must not be empty').max(200),
  endpointId: idSchema,
  spec: suiteSpecSchema,
  concurrency: z.number().int().min(1).max(256).default(4),
  mode: z.enum(['chat', 'completion-ids']).default('chat'),
  /** A caller-chosen key: the same key never starts a second run. */
  requestKey: text().trim().min(1).max(200).optional(),
  /** A fresh run even when one of the same spec exists. */
  rerun: z.boolean().optional(),
});
export type SuiteStartInput = z.infer<typeof suiteStartInput>;

/** EvalRun.summary of a finished RULER run. */
export interface RulerSummary {
  perTask: Record<string, Record<string, number>>;
  perLength: Record<string, number>;
  average: number | null;
  effectiveLength: number | null;
  threshold: number;
  failed: number;
}
/** EvalRun.summary of a finished LongBench, InfiniteBench or MMLU run: the official score per task. */
export interface BenchmarkSummary {
  suite: 'longbench' | 'infinitebench' | 'mmlu';
  /** Task (LongBench dataset, InfiniteBench task, MMLU subject) → setting (max length or shots) → score 0–100. */
  perTask: Record<string, Record<string, number>>;
  /** Setting → the suite's average (LongBench, InfiniteBench: mean of task scores; MMLU: accuracy over every question). */
  perSetting: Record<string, number>;
  average: number | null;
  /** MMLU: how answers were read (logprobs of the answer letters, or the letter generated). */
  scoring?: 'logprobs' | 'generate';
  /** LongBench-E: score per length bucket (0-4k, 4-8k, 8k+) per task, when the items carry lengths. */
  byLengthBucket?: Record<string, Record<string, number>>;
  items: number;
  failed: number;
}
/** EvalRun.summary of a finished endpoint perplexity run. */
export interface EndpointPerplexitySummary {
  suite: 'perplexity';
  /** Window length → perplexity (geometric mean over its windows). */
  perLength: Record<string, number>;
  failed: number;
}
/** EvalRun.summary of a finished topic-retrieval run. */
export interface TopicSummary {
  perTopics: Record<string, number>;
  average: number | null;
  failed: number;
}

/**
 * An imported QA dataset (`ctxlab datasets import-qa`) keeps each file's JSON text as it was
 * given, in documents named `squad.json` / `hotpotqa.json` — and `squad.json#2`, #3 … for the
 * parts of a file longer than one document may be — so RULER's own parsers read it back.
 */
export const qaDocumentName = (format: 'squad' | 'hotpotqa', part: number) => (part === 0 ? `${format}.json` : `${format}.json#${part + 1}`);
export const QA_DOCUMENT_NAME = /^(squad|hotpotqa)\.json(?:#(\d+))?$/;

/** Splits a file's text into parts of at most `max` characters, never inside a surrogate pair. */
export function qaDocuments(format: 'squad' | 'hotpotqa', text: string, max: number): { name: string; text: string }[] {
  return fileDocuments(`${format}.json`, text, max);
}

/**
 * A file kept as it was given, in documents of at most `max` characters: `NAME`, then `NAME#2`,
 * `NAME#3` … (never cut inside a surrogate pair). `joinFileDocuments` puts the files back together.
 */
export function fileDocuments(name: string, text: string, max: number): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  for (let at = 0; at < text.length; ) {
    let end = Math.min(text.length, at + max);
    if (end < text.length && /[\uDC00-\uDFFF]/.test(text[end]!)) end--;
    out.push({ name: out.length === 0 ? name : `${name}#${out.length + 1}`, text: text.slice(at, end) });
    at = end;
  }
  return out;
}

/** The files that fileDocuments split, whole again, in the order they first appear. */
export function joinFileDocuments(docs: readonly { name: string; text: string }[]): { name: string; text: string }[] {
  const files = new Map<string, string[]>();
  for (const d of docs) {
    const m = /^(.*?)(?:#(\d+))?$/.exec(d.name)!;
    const parts = files.get(m[1]!) ?? [];
    files.set(m[1]!, parts);
    parts[m[2] ? Number(m[2]) - 1 : 0] = d.text;
  }
  return [...files].map(([name, parts]) => ({ name, text: parts.join('') }));
}
