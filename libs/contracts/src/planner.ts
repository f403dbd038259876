import { z } from 'zod';
import { contextLength, dtypeSchema, idSchema, positiveInt, text } from './common';
import { modelConfigSchema } from './model';
import { recipeSpecSchema, thetaRuleSchema } from './recipe';

/** A planner call names a registry model, or brings a config of its own. */
export const modelRefSchema = z.union([
  z.object({ modelId: idSchema }),
  z.object({ modelName: text().trim().min(1).max(200) }),
  z.object({ config: modelConfigSchema }),
]);
export type ModelRef = z.infer<typeof modelRefSchema>;

export const thetaPlanInput = z.object({
  model: modelRefSchema,
  targetLength: contextLength,
  rule: thetaRuleSchema.exclude(['manual']),
  /** Dynamic NTK factor α (default 4). */
  alpha: z.number().positive().optional(),
  /** Intermediate progressive lengths for a chained dynamic-NTK schedule. */
  via: z.array(contextLength).max(16).optional(),
  /** YaRN / llama3 scaling factor. */
  factor: z.number().positive().optional(),
});

/**
 * What the optimizer keeps per parameter, for the training-memory estimate:
 * - 'fp32-master' (the default): bf16 weights and gradients plus fp32 master weights and fp32 Adam
 *   moments, 2 + 2 + 4 + 4 + 4 = 16 bytes/param (the ZeRO paper's mixed-precision Adam);
 * - 'bf16': bf16 weights, gradients and AdamW moments, 2 + 2 + 2 + 2 = 8 bytes/param.
 */
export const optimizerPrecisionSchema = z.enum(['fp32-master', 'bf16']);
export type OptimizerPrecision = z.infer<typeof optimizerPrecisionSchema>;

export const memoryPlanInput = z.object({
  model: modelRefSchema,
  dtype: dtypeSchema.default('bf16'),
  tensorParallelSize: positiveInt.default(1),
  /** Training sequence length, for the ring-attention memory estimate. */
  seqLength: contextLength.optional(),
  ringGpus: positiveInt.default(8),
  optimizerPrecision: optimizerPrecisionSchema.default('fp32-master'),
});

export const servingPlanInput = z.object({
  model: modelRefSchema,
  gpuMemoryGiB: z.number().positive('must be positive'),
  tensorParallelSize: positiveInt,
  gpuMemoryUtilization: z.number().gt(0).max(1, 'must be at most 1').default(0.9),
  maxModelLen: contextLength,
  kvCacheDtype: z.enum(['auto', 'bf16', 'fp8']).default('auto'),
  maxNumSeqs: positiveInt.optional(),
  ropeTheta: z.number().positive().optional(),
  enforceEager: z.boolean().optional(),
});

export const adapterPlanInput = z.object({
  model: modelRefSchema,
  rank: positiveInt,
  targetModules: z.array(text().min(1).max(200)).min(1, 'must name at least one module').max(64),
  dtype: dtypeSchema.default('bf16'),
});

/**
 * Tokens each stage really trained on (the sum of its samples' lengths, without padding), by stage
 * index; null where the recipe does not state one. Without it a stage counts every sequence at its
 * full seqLength, which overstates FLOPs when most samples are shorter.
 */
const trainedTokensInput = z
  .array(z.number().int('must be an integer').positive('must be positive').max(Number.MAX_SAFE_INTEGER).nullable())
  .max(64)
  .optional();

export const recipePlanInput = z.union([
  z.object({ recipeId: idSchema, mfu: z.number().gt(0).max(1).default(0.4), gpu: text().max(63).optional(), trainedTokens: trainedTokensInput }),
  z.object({ spec: recipeSpecSchema, model: modelRefSchema, mfu: z.number().gt(0).max(1).default(0.4), gpu: text().max(63).optional(), trainedTokens: trainedTokensInput }),
]);
