import { z } from 'zod';
import { contextLength, idSchema, listInput, nameSchema, positiveInt, tagSchema, tagsSchema, text } from './common';
import { checkedDataRecipeSchema } from './dataprep';
import { suiteSpecSchema } from './suites';

export const parallelModeSchema = z.enum(['zigzag_ring_attn', 'dist_flash_attn', 'ulysses_attn', 'usp_attn', 'data_parallel']);
export type ParallelMode = z.infer<typeof parallelModeSchema>;

export const thetaRuleSchema = z.enum(['manual', 'ntk', 'dynamic-ntk', 'critical-dim', 'critical-dim-even', 'yarn', 'llama3']);
export type ThetaRule = z.infer<typeof thetaRuleSchema>;

export const recipeMethodSchema = z.enum(['full', 'lora', 'qlora']);

const gateDepth = z.number().min(0, 'a depth is a fraction from 0 to 1').max(1, 'a depth is a fraction from 0 to 1');

/**
 * What a stage must show before the next one starts. Each gate is an eval job on the stage's model:
 * NIAH and suites against an endpoint that serves it, perplexity as a local check (lab models, on
 * the worker's onnxruntime). A gate fails when its value is on the wrong side of its threshold.
 */
export const stageGatesSchema = z.object({
  /** NIAH value retrieval at `length` (default: the stage's seqLength); passes at a mean score ≥ minScore (0–100). */
  niah: z
    .object({
      minScore: z.number().min(0).max(100),
      length: contextLength.optional(),
      depths: z.array(gateDepth).min(1, 'give at least one depth').max(21).default([0, 0.25, 0.5, 0.75, 1]),
      samples: z.number().int().min(1).max(32).default(2),
    })
    .optional(),
  /** Perplexity of held-out text at each length (default: the stage's seqLength); passes when every one is ≤ max. */
  perplexity: z
    .object({
      max: z.number().positive('must be positive'),
      lengths: z.array(z.number().int().min(16).max(16_384)).min(1).max(8).optional(),
      samples: z.number().int().min(1).max(16).default(2),
    })
    .optional(),
  /**
   * Any suite against the stage's endpoint: RULER, LongBench, … pass at a suite average ≥ minScore
   * (0–100); the perplexity suite passes at a perplexity ≤ max.
   */
  suites: z
    .array(
      z
        .object({ spec: suiteSpecSchema, minScore: z.number().min(0).max(100).optional(), max: z.number().positive('must be positive').optional() })
        .superRefine((g, ctx) => {
          if (g.spec.suite === 'perplexity' && g.max === undefined) ctx.addIssue({ code: 'custom', path: ['max'], message: 'a perplexity suite gate passes at a perplexity ≤ max: give max' });
          if (g.spec.suite !== 'perplexity' && g.minScore === undefined) ctx.addIssue({ code: 'custom', path: ['minScore'], message: `a ${g.spec.suite} gate passes at an average ≥ minScore (0–100): give minScore` });
        }),
    )
    .max(8)
    .default([]),
});
export type StageGates = z.infer<typeof stageGatesSchema>;

export const recipeStageSchema = z.object({
  name: text().trim().min(1, 'must not be empty').max(100),
  /** Model name this stage starts from; omitted = the previous stage's output (or the base model for stage 1). */
  initFrom: text().trim().max(200).optional(),
  /** Training sequence length in tokens. */
  seqLength: contextLength,
  /** When the recipe states the length as 2^N, N; seqLength must then equal 2^N. */
  seqLengthLog2: z.number().int('must be an integer').min(1).max(40).optional(),
  ropeTheta: z.number().positive('must be positive'),
  batchSize: positiveInt,
  gradientAccumulation: positiveInt.default(1),
  steps: positiveInt,
  learningRate: z.number().positive('must be positive'),
  gpus: positiveInt,
  gpuType: text().trim().min(1).max(50),
  parallelMode: parallelModeSchema.default('zigzag_ring_attn'),
  /** Published total, checked against seqLength × batch × accumulation × steps. */
  declaredTotalTokens: z.number().int().positive().optional(),
  /** Published wall-clock minutes, when known (used for implied throughput). */
  wallMinutes: z.number().positive().optional(),
  /**
   * Tokens the stage really trained on (its samples' lengths summed, without padding), when known:
   * the planner then prices FLOPs, GPU-hours and implied MFU by it instead of counting every
   * sequence at the full seqLength. At most seqLength × batchSize × gradientAccumulation × steps.
   */
  trainedTokens: z.number().int('must be an integer').positive('must be positive').max(Number.MAX_SAFE_INTEGER).optional(),
  /** Checks a recipe run makes after the stage, with their thresholds; none = the stage always passes. */
  gates: stageGatesSchema.optional(),
  /** The stage's data recipe (sources, shares, packing) that `datasets.prepare` makes into its training dataset. */
  data: checkedDataRecipeSchema.optional(),
});
export type RecipeStage = z.infer<typeof recipeStageSchema>;

export const loraSpecSchema = z.object({
  rank: positiveInt,
  alpha: z.number().positive(),
  targetModules: z.array(text().min(1).max(200)).min(1, 'must name at least one module').max(64),
  extraTrainedParameters: z.array(text().min(1).max(200)).max(64).default([]),
  quantization: z.enum(['none', 'nf4', 'int8']).default('none'),
  gradientCheckpointing: z.boolean().default(true),
});

export const dataMixEntrySchema = z.object({
  name: text().trim().min(1).max(200),
  datasetId: idSchema.optional(),
  samples: positiveInt.optional(),
  description: text().max(2000).optional(),
});

export const recipeSpecObject = z.object({
  method: recipeMethodSchema,
  baseModel: text().trim().min(1, 'must name the base model').max(200),
  targetContext: contextLength,
  thetaRule: thetaRuleSchema.default('manual'),
  progressive: z.boolean().default(false),
  trainer: z.enum(['easycontext', 'qlora', 'lab', 'custom']).default('easycontext'),
  stages: z.array(recipeStageSchema).min(1, 'a recipe needs at least one stage').max(64),
  lora: loraSpecSchema.optional(),
  dataMix: z.array(dataMixEntrySchema).max(256).default([]),
  hardware: z
    .object({ gpuType: text().trim().min(1).max(63), gpus: positiveInt, note: text().max(500).optional() })
    .optional(),
  notes: text().max(10_000).optional(),
});

export function stageTokens(s: Pick<RecipeStage, 'seqLength' | 'batchSize' | 'gradientAccumulation' | 'steps'>): number {
  return s.seqLength * s.batchSize * s.gradientAccumulation * s.steps;
}

function fmt(n: number): string {
  return n >= 1e6 ? n.toExponential(2).replace('e+', 'e') : n.toLocaleString('en-US');
}

/** Cross-field rules: messages name the stage (1-based, as people count them) and the field. */
export function recipeIssues(spec: z.infer<typeof recipeSpecObject>): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  spec.stages.forEach((s, i) => {
    const label = `stage ${i + 1} (${s.name})`;
    if (s.seqLengthLog2 !== undefined && s.seqLength !== 2 ** s.seqLengthLog2) {
      out.push({ path: ['stages', i, 'seqLength'], message: `${label}: seqLength ${s.seqLength} is not 2^${s.seqLengthLog2} = ${2 ** s.seqLengthLog2}` });
    }
    if (spec.progressive && (s.seqLength & (s.seqLength - 1)) !== 0) {
      out.push({ path: ['stages', i, 'seqLength'], message: `${label}: seqLength ${s.seqLength} is not a power of two, which a progressive recipe requires` });
    }
    const prev = spec.stages[i - 1];
    if (prev && s.ropeTheta < prev.ropeTheta) {
      out.push({ path: ['stages', i, 'ropeTheta'], message: `${label}: ropeTheta ${fmt(s.ropeTheta)} is lower than stage ${i}'s ${fmt(prev.ropeTheta)}` });
    }
    if (prev && s.seqLength < prev.seqLength) {
      out.push({ path: ['stages', i, 'seqLength'], message: `${label}: seqLength ${s.seqLength} is shorter than stage ${i}'s ${prev.seqLength}` });
    }
    if (s.declaredTotalTokens !== undefined) {
      const t = stageTokens(s);
      if (t !== s.declaredTotalTokens) {
        out.push({
          path: ['stages', i, 'declaredTotalTokens'],
          message: `${label}: declaredTotalTokens ${s.declaredTotalTokens.toLocaleString('en-US')} does not match seqLength × batchSize × gradientAccumulation × steps = ${t.toLocaleString('en-US')}`,
        });
      }
    }
    if (s.trainedTokens !== undefined && s.trainedTokens > stageTokens(s)) {
      out.push({
        path: ['stages', i, 'trainedTokens'],
        message: `${label}: trainedTokens ${s.trainedTokens.toLocaleString('en-US')} is more than seqLength × batchSize × gradientAccumulation × steps = ${stageTokens(s).toLocaleString('en-US')}`,
      });
    }
  });
  if ((spec.method === 'lora' || spec.method === 'qlora') && !spec.lora) {
    out.push({ path: ['lora'], message: `a ${spec.method} recipe needs a lora section (rank, alpha, targetModules)` });
  }
  return out;
}

export const recipeSpecSchema = recipeSpecObject.superRefine((spec, ctx) => {
  for (const i of recipeIssues(spec)) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
});
export type RecipeSpec = z.infer<typeof recipeSpecSchema>;
export type RecipeSpecInput = z.input<typeof recipeSpecSchema>;

export const recipeCreateInput = z.object({
  name: nameSchema,
  description: text().max(10_000).optional(),
  tags: tagsSchema,
  spec: recipeSpecSchema,
});

/** Updating a recipe's spec creates a new version; name and description edit in place. */
export const recipeUpdateInput = z.object({
  id: idSchema,
  patch: z
    .object({
      description: text().max(10_000).nullable(),
      tags: z.array(tagSchema).max(32),
      spec: recipeSpecSchema,
    })
    .partial(),
});

export const recipeListInput = listInput(['name', 'createdAt', 'version'] as const, {
  method: recipeMethodSchema.optional(),
  allVersions: z.boolean().default(false),
});
