import type { DataRecipe, PrepareSourceKind } from '@ctxlab/contracts';
import { type JobKind, QUEUES } from '@ctxlab/queue';
import { z } from 'zod';

/** A dataset preparation: the registry job holds what to prepare (PreparedJobSpec). */
export const datasetPreparePayload = z.object({ jobId: z.string().min(1) });
export type DatasetPreparePayload = z.infer<typeof datasetPreparePayload>;

export const datasetPrepareJob: JobKind<DatasetPreparePayload> = {
  name: 'dataset-prepare',
  queue: QUEUES.datasetPrepare,
  payload: datasetPreparePayload,
  // The job is driven from its stored spec under a lease; a failed one is retried by a person.
  jobOptions: { attempts: 1 },
};

/** One source as the job reads it: a registered dataset, from PostgreSQL (an imported corpus) or its URI. */
export interface PrepareJobSource {
  datasetId: string;
  name: string;
  /** The source dataset's language (en, zh, …). */
  language?: string | undefined;
  kind: PrepareSourceKind;
  field?: string | undefined;
  /** null: the corpus's documents are in PostgreSQL. */
  uri: string | null;
  ratio?: number | undefined;
  lengthUpsample?: { thresholdTokens: number; keepShort: number } | undefined;
}

/** What a dataset-prepare job stores as its spec: everything resolved when it was queued. */
export interface PrepareJobSpec {
  name: string;
  description?: string | undefined;
  tokenizer: string;
  seqLength: number;
  data: Omit<DataRecipe, 'sources'>;
  sources: PrepareJobSource[];
  output: string;
  maxShardBytes?: number | undefined;
  recipe?: { recipeId: string; name: string; version: number; stage: number } | undefined;
  requestedBy: string;
}
