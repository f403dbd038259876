import { z } from 'zod';
import { contextLength, dtypeSchema, idSchema, listInput, nameSchema, positiveInt, tagSchema, tagsSchema, text } from './common';

export const ropeScalingSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('linear'), factor: z.number().positive() }),
  z.object({ type: z.literal('dynamic'), factor: z.number().positive() }),
  z.object({
    type: z.literal('yarn'),
    factor: z.number().positive(),
    originalMaxPositionEmbeddings: contextLength,
    betaFast: z.number().positive().default(32),
    betaSlow: z.number().positive().default(1),
  }),
  z.object({
    type: z.literal('llama3'),
    factor: z.number().positive(),
    lowFreqFactor: z.number().positive(),
    highFreqFactor: z.number().positive(),
    originalMaxPositionEmbeddings: contextLength,
  }),
]);
export type RopeScaling = z.infer<typeof ropeScalingSchema>;

/** The architecture fields the planner needs, named after Hugging Face config.json. */
export const modelConfigObject = z.object({
  architecture: z.enum(['llama']).default('llama'),
  numLayers: positiveInt,
  hiddenSize: positiveInt,
  numAttentionHeads: positiveInt,
  numKeyValueHeads: positiveInt,
  headDim: positiveInt,
  intermediateSize: positiveInt,
  vocabSize: positiveInt,
  ropeTheta: z.number().positive('must be positive'),
  ropeScaling: ropeScalingSchema.nullable().default(null),
  maxPositionEmbeddings: contextLength,
  tieWordEmbeddings: z.boolean().default(false),
  tokenizer: text().trim().min(1, 'must not be empty').max(100),
  dtype: dtypeSchema.default('bf16'),
});

type ConfigLike = Partial<z.infer<typeof modelConfigObject>>;

/** Cross-field rules of the architecture; each issue names the field it is about. */
export function modelConfigIssues(c: ConfigLike): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  if (c.numKeyValueHeads && c.numAttentionHeads && c.numKeyValueHeads > c.numAttentionHeads) {
    out.push({ path: 'numKeyValueHeads', message: `numKeyValueHeads ${c.numKeyValueHeads} exceeds numAttentionHeads ${c.numAttentionHeads}` });
  } else if (c.numAttentionHeads && c.numKeyValueHeads && c.numAttentionHeads % c.numKeyValueHeads !== 0) {
    out.push({
      path: 'numKeyValueHeads',
      message: `numAttentionHeads ${c.numAttentionHeads} is not divisible by numKeyValueHeads ${c.numKeyValueHeads}`,
    });
  }
  if ((c.architecture ?? 'llama') === 'llama' && c.hiddenSize && c.numAttentionHeads && c.headDim) {
    if (c.hiddenSize !== c.numAttentionHeads * c.headDim) {
      out.push({
        path: 'hiddenSize',
        message: `hiddenSize ${c.hiddenSize} must equal numAttentionHeads × headDim = ${c.numAttentionHeads} × ${c.headDim} = ${c.numAttentionHeads * c.headDim} for a llama model`,
      });
    }
  }
  if (c.headDim !== undefined && c.headDim % 2 !== 0) {
    out.push({ path: 'headDim', message: `headDim ${c.headDim} must be even for rotary embeddings` });
  }
  return out;
}

export const modelConfigSchema = modelConfigObject.superRefine((c, ctx) => {
  for (const i of modelConfigIssues(c)) ctx.addIssue({ code: 'custom', path: [i.path], message: i.message });
});
export type ModelConfig = z.infer<typeof modelConfigSchema>;

export const modelOriginSchema = z.enum(['base', 'derived']);

export const modelCreateInput = z.object({
  name: nameSchema,
  displayName: text().trim().max(200).optional(),
  family: text().trim().max(100).optional(),
  description: text().max(10_000).optional(),
  origin: modelOriginSchema.default('base'),
  sourceUri: text().trim().max(2000).optional(),
  tags: tagsSchema,
  config: modelConfigSchema,
});
export type ModelCreateInput = z.infer<typeof modelCreateInput>;

export const modelUpdateInput = z.object({
  id: idSchema,
  patch: z
    .object({
      name: nameSchema,
      displayName: text().trim().max(200).nullable(),
      family: text().trim().max(100).nullable(),
      description: text().max(10_000).nullable(),
      sourceUri: text().trim().max(2000).nullable(),
      tags: z.array(tagSchema).max(32),
      config: modelConfigObject.partial(),
    })
    .partial(),
});

export const modelListInput = listInput(['name', 'createdAt', 'maxPositionEmbeddings', 'ropeTheta'] as const, {
  origin: modelOriginSchema.optional(),
  tag: text().max(64).optional(),
  family: text().max(100).optional(),
  minContext: contextLength.optional(),
});

export const lineageKindSchema = z.enum(['finetune', 'context-extension', 'lora-extract', 'lora-merge', 'quantize']);
export type LineageKind = z.infer<typeof lineageKindSchema>;

export const lineageCreateInput = z
  .object({
    parentId: idSchema,
    childId: idSchema,
    kind: lineageKindSchema,
    jobId: idSchema.optional(),
    note: text().max(2000).optional(),
  })
  .refine((v) => v.parentId !== v.childId, { path: ['childId'], message: 'a model cannot be its own parent' });

export const lineageQueryInput = z.object({
  modelId: idSchema,
  depth: z.number().int().min(1).max(50).default(20),
});

export type ModelPatch = z.infer<typeof modelUpdateInput>['patch'];

/** ctxlab's byte-level lab models (tools/lab-model): run by the lab tools and onnxruntime-node, not vLLM/mergekit. */
export const isLabModel = (m: { tokenizer: string; vocabSize: number }): boolean => m.tokenizer === 'byte' && m.vocabSize === 259;
