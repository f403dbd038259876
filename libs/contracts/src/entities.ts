import { z } from 'zod';
import { schedulingFields } from './scheduling';
import { contextLength, cursorSchema, dtypeSchema, idSchema, jsonObject, listInput, nameSchema, nonNegativeInt, positiveInt, tagSchema, tagsSchema, text } from './common';

/** Fields several entities have: free text, where the artifact lives, its digest and its size. */
const descriptionText = text().max(10_000);
const uriText = text().trim().max(2000);
const digestText = text().trim().max(200);
const byteCount = z.number().int().nonnegative();
/** Token counts keyed by tokenizer name, e.g. { "llama3": 2100000 }. */
const tokenCounts = z.record(text(), z.number().int().nonnegative());
/** A patch's tags replace the list (no default: tags left out stay as they are). */
const patchTags = z.array(tagSchema).max(32);

/** An update: the record's id and a patch of some of `fields` (a nullable field is cleared with null). */
function updateInput<S extends z.ZodRawShape>(fields: S) {
  return z.object({ id: idSchema, patch: z.object(fields).partial() });
}

// ---------- adapters ----------
export const adapterCreateInput = z.object({
  name: nameSchema,
  description: descriptionText.optional(),
  baseModelId: idSchema,
  /** The long-context model the adapter was extracted from, when it was extracted. */
  sourceModelId: idSchema.optional(),
  rank: positiveInt,
  alpha: z.number().positive('must be positive'),
  targetModules: z.array(text().trim().min(1).max(200)).min(1, 'must name at least one module').max(64),
  dtype: dtypeSchema.default('bf16'),
  sizeBytes: byteCount.optional(),
  uri: uriText.optional(),
  digest: digestText.optional(),
  tags: tagsSchema,
});
export const adapterUpdateInput = updateInput({
  name: nameSchema,
  description: descriptionText.nullable(),
  uri: uriText.nullable(),
  digest: digestText.nullable(),
  sizeBytes: byteCount.nullable(),
  tags: patchTags,
});
export const adapterListInput = listInput(['name', 'createdAt', 'rank'] as const, {
  baseModelId: idSchema.optional(),
  /** Adapters a model is the base of, or was extracted from. */
  modelId: idSchema.optional(),
});

// ---------- datasets ----------
export const datasetKindSchema = z.enum(['haystack', 'training-mix', 'benchmark']);
export const datasetCreateInput = z.object({
  name: nameSchema,
  /** Benchmarks come only from their files (datasets.importBenchmark). */
  kind: datasetKindSchema.exclude(['benchmark'], { error: 'benchmark datasets are imported from their files (ctxlab datasets import --format …)' }),
  description: descriptionText.optional(),
  source: text().trim().min(1, 'must say where the data comes from').max(2000),
  license: text().trim().max(200).optional(),
  language: text().trim().min(2).max(16).default('en'),
  documents: nonNegativeInt.default(0),
  bytes: byteCount.default(0),
  tokenCounts: tokenCounts.default({}),
  digest: digestText.optional(),
  uri: uriText.optional(),
  tags: tagsSchema,
});
export const datasetUpdateInput = updateInput({
  name: nameSchema,
  description: descriptionText.nullable(),
  license: text().trim().max(200).nullable(),
  tokenCounts,
  tags: patchTags,
});
export const datasetListInput = listInput(['name', 'createdAt', 'bytes'] as const, {
  kind: datasetKindSchema.optional(),
  language: text().max(16).optional(),
});

// ---------- endpoints ----------
export const endpointUrlSchema = z
  .string()
  .trim()
  .url('must be an absolute URL such as http://host:8000/v1')
  .refine((u) => {
    try {
      return /^https?:$/.test(new URL(u).protocol);
    } catch {
      return true; // .url() has already reported it
    }
  }, 'must use http or https');

export const endpointCreateInput = z.object({
  name: nameSchema,
  url: endpointUrlSchema,
  modelId: idSchema.optional(),
  /** The model name the server expects in requests (vLLM's --served-model-name). */
  servedModelName: text().trim().min(1).max(200),
  kind: z.enum(['vllm', 'openai-compatible', 'local']).default('openai-compatible'),
  maxModelLen: contextLength.optional(),
  /** GPU type id from the planner's catalog (e.g. h100-sxm-80gb) and GPUs the server occupies. */
  gpuType: text().trim().min(1).max(63).optional(),
  gpuCount: positiveInt.optional(),
  tags: tagsSchema,
  /** The server's API key (sent as Authorization: Bearer): stored encrypted, never returned. */
  apiKey: text().min(1).max(4096).optional(),
});
export const endpointUpdateInput = updateInput({
  name: nameSchema,
  url: endpointUrlSchema,
  modelId: idSchema.nullable(),
  servedModelName: text().trim().min(1).max(200),
  maxModelLen: contextLength.nullable(),
  gpuType: text().trim().min(1).max(63).nullable(),
  gpuCount: positiveInt.nullable(),
  tags: patchTags,
  /** A new API key, or null to remove it. */
  apiKey: text().min(1).max(4096).nullable(),
});
export const endpointListInput = listInput(['name', 'createdAt'] as const, { modelId: idSchema.optional() });

// ---------- eval runs ----------
export const evalKindSchema = z.enum(['niah', 'ruler', 'topic-retrieval', 'longbench', 'infinitebench', 'mmlu', 'perplexity', 'tokenizer-roundtrip']);
export const evalStatusSchema = z.enum(['pending', 'running', 'succeeded', 'failed', 'cancelled']);
export const evalRunCreateInput = z.object({
  name: nameSchema,
  kind: evalKindSchema,
  modelId: idSchema.optional(),
  endpointId: idSchema.optional(),
  datasetId: idSchema.optional(),
  /** The full sweep spec; its schema depends on kind and is checked by the eval service. */
  config: jsonObject(),
  tags: tagsSchema,
});
export const evalRunUpdateInput = updateInput({ name: nameSchema, tags: patchTags });
export const evalRunListInput = listInput(['name', 'createdAt', 'status'] as const, {
  kind: evalKindSchema.optional(),
  status: evalStatusSchema.optional(),
  modelId: idSchema.optional(),
});
export const evalCellsInput = z.object({
  evalRunId: idSchema,
  limit: z.number().int().min(1).max(2000).default(200),
  offset: nonNegativeInt.default(0),
  /** The previous page's `nextCursor`: the cells after it, in (task, length, depth, sample) order. */
  cursor: cursorSchema.optional(),
});

// ---------- jobs ----------
export const jobKindSchema = z.enum(['health', 'niah-eval', 'suite-eval', 'local-check', 'train', 'lora-extract', 'lora-merge', 'serve', 'recipe-run', 'dataset-prepare']);
export type JobKind = z.infer<typeof jobKindSchema>;
export const jobStatusSchema = z.enum(['queued', 'running', 'retrying', 'succeeded', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof jobStatusSchema>;
/**
 * What a running job reports, on the job (and, for evals, on the run's summary): cells of a sweep,
 * or — for GPU jobs and local checks — the `unit` that `done` counts (steps, modules, checks), the
 * latest training loss and its curve ([step, loss]).
 */
export interface JobProgress {
  done?: number;
  total?: number;
  failed?: number;
  averageScore?: number | null;
  cellsPerSecond?: number;
  etaSeconds?: number | null;
  unit?: string;
  loss?: number | null;
  curve?: [number, number][];
  /** Dataset preparation: tokens and sequences written so far (done/total count source bytes). */
  tokens?: number;
  sequences?: number;
}

export const jobListInput = listInput(['createdAt', 'status', 'kind'] as const, {
  kind: jobKindSchema.optional(),
  status: jobStatusSchema.optional(),
});

export const archiveInput = z.object({ id: idSchema });
export const getInput = z.object({ id: idSchema });

export type AdapterCreateInput = z.infer<typeof adapterCreateInput>;
export type DatasetCreateInput = z.infer<typeof datasetCreateInput>;
export type DatasetKind = z.infer<typeof datasetKindSchema>;
export type EndpointCreateInput = z.infer<typeof endpointCreateInput>;
export type EvalRunCreateInput = z.infer<typeof evalRunCreateInput>;
export type AdapterPatch = z.infer<typeof adapterUpdateInput>['patch'];
export type DatasetPatch = z.infer<typeof datasetUpdateInput>['patch'];
export type EndpointPatch = z.infer<typeof endpointUpdateInput>['patch'];

/** A user's haystack corpus: plain-text documents (e.g. a folder of .txt essays). */
/**
 * One imported document: at most half a million characters, so tokenising it (which the server does
 * document by document, yielding in between) never holds a request path for long. Longer texts
 * are split at paragraph breaks into several documents (the CLI does this itself).
 */
export const MAX_CORPUS_DOCUMENT_CHARS = 500_000;
/** All documents of one import together. */
export const MAX_CORPUS_CHARS = 200_000_000;

export const corpusImportInput = z.object({
  name: nameSchema,
  language: z.enum(['en', 'zh']).default('en'),
  source: text().trim().min(1, 'must say where the texts come from').max(2000),
  license: text().trim().max(200).optional(),
  description: descriptionText.optional(),
  documents: z
    .array(
      z.object({
        name: text().trim().min(1).max(500),
        text: text()
          .min(1, 'a document must not be empty')
          .max(MAX_CORPUS_DOCUMENT_CHARS, `a document may hold at most ${MAX_CORPUS_DOCUMENT_CHARS.toLocaleString('en-US')} characters: split longer texts at paragraph breaks into several documents`),
      }),
    )
    .min(1, 'a corpus needs at least one document')
    .max(100_000)
    .refine((docs) => docs.reduce((n, d) => n + d.text.length, 0) <= MAX_CORPUS_CHARS, `the documents may hold at most ${MAX_CORPUS_CHARS.toLocaleString('en-US')} characters together`),
});
export type CorpusImportInput = z.infer<typeof corpusImportInput>;

/**
 * A benchmark's files as their authors publish them (LongBench's per-dataset JSONL, InfiniteBench's
 * per-task JSONL, MMLU's per-subject CSVs), each file in documents of at most
 * MAX_CORPUS_DOCUMENT_CHARS characters named as `fileDocuments` names them.
 */
export const benchmarkImportInput = corpusImportInput.omit({ language: true }).extend({
  format: z.enum(['longbench', 'infinitebench', 'mmlu']),
  source: text().trim().min(1, 'must say where the files come from').max(2000),
});
export type BenchmarkImportInput = z.infer<typeof benchmarkImportInput>;

/** What a finished GPU job adds to the registry. */
export const gpuOutputSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('model'), name: nameSchema, parentModelId: idSchema, lineage: z.enum(['finetune', 'context-extension', 'lora-merge']), otherParentModelId: idSchema.optional(), adapterId: idSchema.optional(), ropeTheta: z.number().positive().optional(), maxPositionEmbeddings: contextLength.optional(), note: text().max(500).optional(), tags: z.array(tagSchema).max(8).optional() }),
  z.object({ kind: z.literal('adapter'), name: nameSchema, baseModelId: idSchema, sourceModelId: idSchema.optional(), rank: positiveInt, alpha: z.number().positive().optional(), targetModules: z.array(text().min(1).max(200)).min(1).max(64) }),
  z.object({ kind: z.literal('endpoint'), name: nameSchema, modelId: idSchema.optional() }),
  z.object({ kind: z.literal('none') }),
]);
export type GpuOutput = z.infer<typeof gpuOutputSchema>;

/** Where GPU work runs. */
const executorSchema = z.enum(['local', 'kubernetes']).default('local');
/** A caller-chosen key: the same key never queues a second job. */
const requestKeySchema = text().trim().min(1).max(200).optional();
const gpuTypeSchema = text().trim().min(1).max(63).optional();

/** Dispatching GPU work: a dispatch job spec (validated and rendered by libs/dispatch), where it runs, and what it registers. */
export const gpuJobStartInput = z.object({
  spec: jsonObject(),
  executor: executorSchema,
  output: gpuOutputSchema.default({ kind: 'none' }),
  requestKey: requestKeySchema,
  ...schedulingFields,
});
export type GpuJobStartInput = z.infer<typeof gpuJobStartInput>;

/** An artifact URI the job writes (checked again by the dispatch spec). */
const outputUri = text().trim().min(1, 'must name where the output goes (file:///… or s3://…)').max(2000);

/** Serve a registered model from its sourceUri: vLLM, or the lab model server for byte-level lab models. */
export const gpuServeModelInput = z.object({
  modelId: idSchema,
  /** Default: lab for byte-level lab models, vllm otherwise. */
  engine: z.enum(['vllm', 'lab']).optional(),
  executor: executorSchema,
  /** The endpoint it registers (default `<model>-serve`). */
  endpointName: nameSchema.optional(),
  /** Default: the model's max positions. */
  maxModelLen: contextLength.optional(),
  gpuType: gpuTypeSchema,
  tensorParallelSize: positiveInt.optional(),
  gpuMemoryUtilization: z.number().gt(0).lte(1).optional(),
  kvCacheDtype: z.enum(['auto', 'bf16', 'fp8']).optional(),
  port: z.number().int().min(1024).max(65535).optional(),
  requestKey: requestKeySchema,
  ...schedulingFields,
});
export type GpuServeModelInput = z.infer<typeof gpuServeModelInput>;

/** What every registry-driven LoRA job names: the registered result, where it is written, and where it runs. */
const loraJobFields = {
  name: nameSchema,
  output: outputUri,
  /** Default: lab for lab models, mergekit otherwise. */
  tool: z.enum(['mergekit', 'lab']).optional(),
  executor: executorSchema,
  gpuType: gpuTypeSchema,
  requestKey: requestKeySchema,
  ...schedulingFields,
};

/** Extract what a fine-tune changed relative to its base as a LoRA adapter, and register it. */
export const gpuExtractAdapterInput = z.object({ finetunedModelId: idSchema, baseModelId: idSchema, maxRank: positiveInt, ...loraJobFields });
export type GpuExtractAdapterInput = z.infer<typeof gpuExtractAdapterInput>;

/** Merge a registered adapter into a target model, with the adapter's source model's RoPE fields, and register the result. */
export const gpuMergeAdapterInput = z.object({ adapterId: idSchema, targetModelId: idSchema, ...loraJobFields });
export type GpuMergeAdapterInput = z.infer<typeof gpuMergeAdapterInput>;
