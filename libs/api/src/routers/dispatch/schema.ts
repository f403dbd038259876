import { idSchema, jsonObject, nonNegativeInt, text } from '@ctxlab/contracts';
import { z } from 'zod';

/** Any dispatch job spec (train, lora-extract, lora-merge, serve); libs/dispatch validates it. */
export const renderInput = z.object({ spec: jsonObject() });

/** A recipe stage as a training job: artifacts by URI (file://, s3://, hf://). */
export const renderStageInput = z.object({
  recipeId: idSchema,
  /** 0-based stage index. */
  stage: z.number().int().min(0).max(63),
  model: text().min(1, 'the model to start from (URI)').max(2000),
  /** Absent: the dataset prepared from the stage's data recipe (datasets.prepare). */
  datasets: z.array(text().min(1).max(2000)).min(1, 'at least one dataset URI').max(64).optional(),
  output: text().min(1, 'where the trained model goes (URI)').max(2000),
  seed: nonNegativeInt.optional(),
  gpusPerNode: z.number().int().min(1).max(64).optional(),
});
