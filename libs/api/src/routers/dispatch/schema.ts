import { z } from 'zod';

/** Any dispatch job spec (train, lora-extract, lora-merge, serve); libs/dispatch validates it. */
export const renderInput = z.object({ spec: z.record(z.string(), z.unknown()) });

/** A recipe stage as a training job: artifacts by URI (file://, s3://, hf://). */
export const renderStageInput = z.object({
  recipeId: z.string().min(1),
  /** 0-based stage index. */
  stage: z.number().int().min(0),
  model: z.string().min(1, 'the model to start from (URI)'),
  datasets: z.array(z.string().min(1)).min(1, 'at least one dataset URI'),
  output: z.string().min(1, 'where the trained model goes (URI)'),
  seed: z.number().int().min(0).optional(),
  gpusPerNode: z.number().int().min(1).max(64).optional(),
});
