import { type JobKind, QUEUES } from '@ctxlab/queue';
import { z } from 'zod';

/** A recipe run's orchestrating job: the registry job; the run, its stages and its recipe are in PostgreSQL. */
export const recipeRunPayload = z.object({ jobId: z.string().min(1) });
export type RecipeRunPayload = z.infer<typeof recipeRunPayload>;

export const recipeRunJob: JobKind<RecipeRunPayload> = {
  name: 'recipe-run',
  queue: QUEUES.recipeRun,
  payload: recipeRunPayload,
  // A run is driven from PostgreSQL's state: a dead worker's run is taken over under its lease, not retried blindly.
  jobOptions: { attempts: 1 },
};
