import type { JobsOptions } from 'bullmq';

/** Queue names: one queue per kind of work, so each gets its own concurrency. */
export const QUEUES = {
  health: 'ctxlab-health',
  niahEval: 'ctxlab-niah-eval',
  suiteEval: 'ctxlab-suite-eval',
  localCheck: 'ctxlab-local-check',
  gpu: 'ctxlab-gpu',
  recipeRun: 'ctxlab-recipe-run',
  datasetPrepare: 'ctxlab-dataset-prepare',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/**
 * A job kind as the queue sees it: the queue it runs on, the BullMQ job name, the payload's parser
 * (producers parse before adding, workers before running) and the queue's job options. Each kind's
 * own module (libs/jobs) defines it next to its producer and processor.
 */
export interface JobKind<P> {
  name: string;
  queue: QueueName;
  payload: { parse(data: unknown): P };
  /** On top of defaultJobOptions: attempts and backoff of the kind's queue. */
  jobOptions?: JobsOptions;
}

export type PayloadOf<K> = K extends JobKind<infer P> ? P : never;
