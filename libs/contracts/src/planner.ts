import { z } from 'zod';
import { dtypeSchema, idSchema, positiveInt } from './common';
import { modelConfigSchema } from './model';
import { recipeSpecSchema, thetaRuleSchema } from './recipe';

/** A planner call names a registry model, or brings a config of its own. */
export const modelRefSchema = z.union([
  z.object({ modelId: idSchema }),
  z.object({ modelName: z.string().trim().min(1) }),
  z.object({ config: modelConfigSchema }),
]);
export type ModelRef = z.infer<typeof modelRefSchema>;

export const thetaPlanInput = z.object({
  model: modelRefSchema,
  targetLength: positiveInt,
  rule: thetaRuleSchema.exclude(['manual']),
  /** Dynamic NTK factor α (default 4). */
  alpha: z.number().positive().optional(),
  /** Intermediate progressive lengths for a chained dynamic-NTK schedule. */
  via: z.array(positiveInt).max(16).optional(),
  /** YaRN / llama3 scaling factor. */
  factor: z.number().positive().optional(),
});

export const memoryPlanInput = z.object({
  model: modelRefSchema,
  dtype: dtypeSchema.default('bf16'),
  tensorParallelSize: positiveInt.default(1),
  /** Training sequence length, for the ring-attention memory estimate. */
  seqLength: positiveInt.optional(),
  ringGpus: positiveInt.default(8),
});

export const servingPlanInput = z.object({
  model: modelRefSchema,
  gpuMemoryGiB: z.number().positive('must be positive'),
  tensorParallelSize: positiveInt,
  gpuMemoryUtilization: z.number().gt(0).max(1, 'must be at most 1').default(0.9),
  maxModelLen: positiveInt,
  kvCacheDtype: z.enum(['auto', 'bf16', 'fp8']).default('auto'),
  maxNumSeqs: positiveInt.optional(),
  ropeTheta: z.number().positive().optional(),
  enforceEager: z.boolean().optional(),
});

export const adapterPlanInput = z.object({
  model: modelRefSchema,
  rank: positiveInt,
  targetModules: z.array(z.string().min(1)).min(1, 'must name at least one module'),
  dtype: dtypeSchema.default('bf16'),
});

export const recipePlanInput = z.union([
  z.object({ recipeId: idSchema, mfu: z.number().gt(0).max(1).default(0.4), gpu: z.string().optional() }),
  z.object({ spec: recipeSpecSchema, model: modelRefSchema, mfu: z.number().gt(0).max(1).default(0.4), gpu: z.string().optional() }),
]);
