import { z } from 'zod';

/** Queue names: one queue per kind of work, so each gets its own concurrency. */
export const QUEUES = {
  health: 'ctxlab-health',
  niahEval: 'ctxlab-niah-eval',
  suiteEval: 'ctxlab-suite-eval',
  gpu: 'ctxlab-gpu',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** The job catalog: one payload schema per job kind. Producers and workers both parse with it. */
export const jobCatalog = {
  health: z.object({
    requestedBy: z.string().min(1).max(200),
    /** Unique per request, so two health checks are two jobs. */
    nonce: z.string().min(1).max(100),
  }),
  /** Everything else the worker needs is in PostgreSQL, the source of truth. */
  'niah-eval': z.object({
    jobId: z.string().min(1),
    evalRunId: z.string().min(1),
  }),
  /** A RULER or topic-retrieval run: the run's config holds the spec. */
  'suite-eval': z.object({
    jobId: z.string().min(1),
    evalRunId: z.string().min(1),
  }),
  /** train, lora-extract, lora-merge and serve: the registry job holds the spec. */
  gpu: z.object({ jobId: z.string().min(1) }),
} as const;

export type JobPayload<K extends keyof typeof jobCatalog> = z.infer<(typeof jobCatalog)[K]>;

export const healthResultSchema = z.object({
  worker: z.string(),
  pid: z.number().int(),
  redisRoundTripMs: z.number(),
  checkedAt: z.string(),
});
export type HealthResult = z.infer<typeof healthResultSchema>;
