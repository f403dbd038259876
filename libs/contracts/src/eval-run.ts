import { z } from 'zod';
import type { evalStatusSchema, JobProgress } from './entities';

export type EvalStatus = z.infer<typeof evalStatusSchema>;

/**
 * The eval-run state machine, the twin of the job's (libs/jobs/src/statuses.ts). A run follows its
 * job; the repository moves it only along these edges, each move a conditional update with an event
 * appended in the same transaction, so a run's history says who moved it and why.
 *
 *   pending ──> running ──> succeeded
 *     │           │ └────> failed ──(retry)──> pending
 *     └───────────┴──────> cancelled ──(retry)──> pending
 *
 * running → running is a resumed sweep (a new worker took over the job); pending → failed and
 * pending → cancelled are a run whose job never started (refused, cancelled while queued).
 */
export const EVAL_RUN_TRANSITIONS: Readonly<Record<EvalStatus, readonly EvalStatus[]>> = {
  pending: ['running', 'failed', 'cancelled'],
  running: ['running', 'succeeded', 'failed', 'cancelled'],
  failed: ['pending'],
  cancelled: ['pending'],
  succeeded: [],
};

export const isFinalEvalStatus = (s: EvalStatus) => s === 'succeeded' || s === 'failed' || s === 'cancelled';
export const canEvalRunTransition = (from: EvalStatus, to: EvalStatus) => EVAL_RUN_TRANSITIONS[from].includes(to);

/**
 * What every run's stored config holds around its suite's spec: how the run sends its requests.
 * The spec itself is checked by its suite (NIAH, RULER, the benchmarks, local checks), which knows
 * its shape; here it stays opaque. Other keys are kept as they were stored.
 */
export const evalRunConfigSchema = z.looseObject({
  spec: z.unknown().optional(),
  /** Requests in flight at once against the endpoint. */
  concurrency: z.number().int().min(1).max(256).optional(),
  mode: z.enum(['chat', 'completion-ids']).optional(),
});
export type EvalRunConfig = z.infer<typeof evalRunConfigSchema>;

/** A run's summary: its progress while it runs, then its suite's figures (other keys kept as stored). */
export const evalRunSummarySchema = z.looseObject({
  done: z.number().optional(),
  total: z.number().optional(),
  failed: z.number().optional(),
  averageScore: z.number().nullable().optional(),
  /** A suite run's (RULER, topic retrieval) headline average. */
  average: z.number().nullable().optional(),
  cellsPerSecond: z.number().optional(),
  etaSeconds: z.number().nullable().optional(),
  unit: z.string().optional(),
});
export type EvalRunSummary = z.infer<typeof evalRunSummarySchema> & JobProgress;

/**
 * Reads a stored JSON column with its schema, field by field: a field that does not match (a run
 * registered through the API with a config of its own) reads as absent rather than failing the read.
 */
function readLoose<S extends z.ZodObject>(schema: S, value: unknown): z.infer<S> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {} as z.infer<S>;
  const whole = schema.safeParse(value);
  if (whole.success) return whole.data;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const issue of whole.error.issues) if (typeof issue.path[0] === 'string') delete out[issue.path[0]];
  return schema.parse(out);
}

export const readEvalRunConfig = (value: unknown): EvalRunConfig => readLoose(evalRunConfigSchema, value);
export const readEvalRunSummary = (value: unknown): EvalRunSummary => readLoose(evalRunSummarySchema, value) as EvalRunSummary;
