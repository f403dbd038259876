import { z } from 'zod';
import { schedulingFields } from './scheduling';
import { idSchema, nameSchema, text } from './common';

/**
 * A recipe run: a recipe executed from a base model, stage after stage. Stage k trains from stage
 * k−1's model with the stage's θ, length, batch, steps and data; then its gates run; a failed gate
 * (or a stage job that did not succeed) stops the run until a person retries the stage or
 * continues past it on purpose.
 *
 *   queued ──> running ──> succeeded
 *     │          │ └─────> stopped ──(retry | continue)──> queued
 *     └──────────┴───────> cancelled ──(resume)──> queued
 *
 * running → running is a run taken over by another worker (its worker died); stopped → cancelled
 * gives a stopped run up.
 */
export const recipeRunStatusSchema = z.enum(['queued', 'running', 'stopped', 'succeeded', 'cancelled']);
export type RecipeRunStatus = z.infer<typeof recipeRunStatusSchema>;

export const RECIPE_RUN_TRANSITIONS: Readonly<Record<RecipeRunStatus, readonly RecipeRunStatus[]>> = {
  queued: ['running', 'cancelled'],
  running: ['running', 'stopped', 'succeeded', 'cancelled'],
  stopped: ['queued', 'cancelled'],
  cancelled: ['queued'],
  succeeded: [],
};
export const canRecipeRunTransition = (from: RecipeRunStatus, to: RecipeRunStatus) => RECIPE_RUN_TRANSITIONS[from].includes(to);

/** A stage's own progress: pending → training → gating → passed, or failed (training or a gate). */
export const recipeStageStatusSchema = z.enum(['pending', 'training', 'gating', 'passed', 'failed']);
export type RecipeStageStatus = z.infer<typeof recipeStageStatusSchema>;

/** One gate's outcome, as stored on the stage. `value` is null while it runs or when its job failed. */
export const gateResultSchema = z.object({
  /** niah, perplexity, or the suite's id (ruler, longbench, …). */
  gate: z.string(),
  /** What was measured, for people: "NIAH @1,024 (5 depths × 2 samples)". */
  label: z.string(),
  /** ≥ for scores, ≤ for perplexity. */
  op: z.enum(['>=', '<=']),
  threshold: z.number(),
  value: z.number().nullable(),
  passed: z.boolean().nullable(),
  evalRunId: z.string().nullable(),
  jobId: z.string().nullable(),
  /** Why a gate has no value (its job failed). */
  error: z.string().nullable().default(null),
});
export type GateResult = z.infer<typeof gateResultSchema>;
export const gateResultsSchema = z.array(gateResultSchema);
/** Reads a stage's stored gates; a malformed value reads as none. */
export const readGateResults = (value: unknown): GateResult[] => {
  const r = gateResultsSchema.safeParse(value);
  return r.success ? r.data : [];
};

/** Starting a run: a recipe (by id, i.e. one version) from a registered base model. */
export const recipeRunStartInput = z.object({
  recipeId: idSchema,
  /** The model stage 1 trains from (the recipe's stages may name their own initFrom instead). */
  baseModelId: idSchema,
  /** Default: <recipe>-v<version>-<date and time>; stage models are named <run>-<stage name>. */
  name: nameSchema.optional(),
  executor: z.enum(['local', 'kubernetes']).default('local'),
  /** Lab recipes: train on the CPU or one GPU. */
  device: z.enum(['cpu', 'cuda']).default('cpu'),
  /** Where stage models are written (file:///… or s3://…); default: recipe-runs/<run> under the artifact root. */
  outputRoot: text().trim().min(1).max(2000).optional(),
  /** The team its GPU jobs are charged to, and their priority. */
  ...schedulingFields,
});
export type RecipeRunStartInput = z.infer<typeof recipeRunStartInput>;

/**
 * Resuming a stopped or cancelled run. retry: the current stage trains again (a new attempt, a new
 * model), optionally under a newer version of the same recipe whose earlier stages are unchanged;
 * continue: accept the current stage's model although a gate failed, and go on (said in the events).
 */
export const recipeRunResumeInput = z.object({
  id: idSchema,
  action: z.enum(['retry', 'continue']),
  /** retry only: a newer version of the run's recipe (changed settings make a new version). */
  recipeId: idSchema.optional(),
});
export type RecipeRunResumeInput = z.infer<typeof recipeRunResumeInput>;

export const recipeRunListInput = z.object({
  recipeName: text().trim().max(200).optional(),
  /** One run by its name. */
  name: text().trim().max(200).optional(),
  status: recipeRunStatusSchema.optional(),
  limit: z.number().int().min(1).max(200).default(50),
});
