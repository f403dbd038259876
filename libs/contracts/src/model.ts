import { z } from 'zod';
import { licenseSchema, modelServingSchema } from './hub';
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

/**
 * Decoder families the planner's arithmetic covers (Hugging Face `model_type`): RoPE decoders with
 * grouped-query attention and a gated MLP of three matrices, which differ only in the traits below.
 */
export const MODEL_FAMILIES = ['llama', 'mistral', 'qwen2', 'gemma2'] as const;
export const modelFamilySchema = z.enum(MODEL_FAMILIES);
export type ModelFamily = z.infer<typeof modelFamilySchema>;

/** What sets one family's parameter count and KV cache apart from Llama's. */
export interface ModelFamilyTraits {
  /**
   * hiddenSize = numAttentionHeads × headDim is a rule of the family's modelling code. Gemma2 sets
   * head_dim on its own (9B: 16 × 256 ≠ 3584), and so may Mistral (Mistral-Nemo: 32 × 128 ≠ 5120).
   */
  headDimFromHidden: boolean;
  /** Whether q/k/v carry biases when the config does not say: Qwen2's are hard-wired on, the rest follow `attention_bias` (default off). */
  qkvBiasByDefault: boolean;
  /** Whether `attentionBias` can turn biases on or off at all (Mistral's and Qwen2's modelling code ignores `attention_bias`). */
  attentionBiasConfigurable: boolean;
  /** Whether o_proj gets a bias along with q/k/v (Llama's and Gemma2's `attention_bias` covers all four; Qwen2's o_proj has none). */
  oBiasWithQkv: boolean;
  /** RMSNorm weight vectors per decoder layer: input and post-attention; Gemma2 adds pre- and post-feedforward. */
  normsPerLayer: number;
  /** lm_head shares embed_tokens when the config does not say (transformers' config defaults). */
  tiedEmbeddingsByDefault: boolean;
  /** Which layers use `slidingWindow` when one is set: every layer, or every other one starting at layer 0 (Gemma2). */
  slidingLayers: 'all' | 'alternate' | 'none';
}

export const MODEL_FAMILY_TRAITS: Readonly<Record<ModelFamily, ModelFamilyTraits>> = {
  llama: { headDimFromHidden: true, qkvBiasByDefault: false, attentionBiasConfigurable: true, oBiasWithQkv: true, normsPerLayer: 2, tiedEmbeddingsByDefault: false, slidingLayers: 'none' },
  mistral: { headDimFromHidden: false, qkvBiasByDefault: false, attentionBiasConfigurable: false, oBiasWithQkv: false, normsPerLayer: 2, tiedEmbeddingsByDefault: false, slidingLayers: 'all' },
  // Qwen2 with use_sliding_window applies the window from max_window_layers on; ctxlab records the
  // window only as a note (see kvBytesPerToken in libs/longctx), so 'all' is close enough.
  qwen2: { headDimFromHidden: true, qkvBiasByDefault: true, attentionBiasConfigurable: false, oBiasWithQkv: false, normsPerLayer: 2, tiedEmbeddingsByDefault: false, slidingLayers: 'all' },
  gemma2: { headDimFromHidden: false, qkvBiasByDefault: false, attentionBiasConfigurable: true, oBiasWithQkv: true, normsPerLayer: 4, tiedEmbeddingsByDefault: true, slidingLayers: 'alternate' },
};

/** Biases the attention projections of a config carry: q/k/v and o. */
export function attentionBiases(c: { architecture?: ModelFamily | undefined; attentionBias?: boolean | undefined }): { qkv: boolean; o: boolean } {
  const t = MODEL_FAMILY_TRAITS[c.architecture ?? 'llama'];
  const qkv = t.attentionBiasConfigurable ? (c.attentionBias ?? t.qkvBiasByDefault) : t.qkvBiasByDefault;
  return { qkv, o: qkv && t.oBiasWithQkv };
}

/** Decoder layers that attend within `slidingWindow` only (0 without a window). */
export function slidingWindowLayerCount(c: { architecture?: ModelFamily | undefined; numLayers: number; slidingWindow?: number | null | undefined }): number {
  if (!c.slidingWindow) return 0;
  const s = MODEL_FAMILY_TRAITS[c.architecture ?? 'llama'].slidingLayers;
  // Gemma2: layer i is local when i is even (transformers' Gemma2DecoderLayer.is_sliding).
  return s === 'all' ? c.numLayers : s === 'alternate' ? Math.ceil(c.numLayers / 2) : 0;
}

/** The architecture fields the planner needs, named after Hugging Face config.json. */
export const modelConfigObject = z.object({
  architecture: modelFamilySchema.default('llama'),
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
  // A registered name (llama3, byte, llama2, qwen2.5) or hf:/abs/dir of an imported tokenizer.json.
  tokenizer: text().trim().min(1, 'must not be empty').max(2000),
  dtype: dtypeSchema.default('bf16'),
  // Optional without a default, so configs and stored rows without them parse to what they did.
  /** q/k/v (and, for Llama and Gemma2, o) projection biases (HF `attention_bias`); absent: the family's own (Qwen2 on, the rest off). */
  attentionBias: z.boolean().optional(),
  /** Width of sliding-window attention on the family's local layers; null or absent when every layer attends globally. */
  slidingWindow: positiveInt.nullable().optional(),
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
  const family = c.architecture ?? 'llama';
  const traits = MODEL_FAMILY_TRAITS[family];
  if (traits.headDimFromHidden && c.hiddenSize && c.numAttentionHeads && c.headDim) {
    if (c.hiddenSize !== c.numAttentionHeads * c.headDim) {
      out.push({
        path: 'hiddenSize',
        message: `hiddenSize ${c.hiddenSize} must equal numAttentionHeads × headDim = ${c.numAttentionHeads} × ${c.headDim} = ${c.numAttentionHeads * c.headDim} for a ${family} model`,
      });
    }
  }
  if (c.attentionBias !== undefined && !traits.attentionBiasConfigurable && c.attentionBias !== traits.qkvBiasByDefault) {
    out.push({
      path: 'attentionBias',
      message: `attentionBias ${c.attentionBias} is not possible for a ${family} model: its q/k/v projections ${traits.qkvBiasByDefault ? 'always' : 'never'} have biases`,
    });
  }
  // The planner counts lm_head separately unless tied; a Gemma2 checkpoint stores no lm_head.
  if (family === 'gemma2' && c.tieWordEmbeddings === false) {
    out.push({ path: 'tieWordEmbeddings', message: 'tieWordEmbeddings must be true for a gemma2 model: Gemma2 ties lm_head to embed_tokens' });
  }
  if (c.slidingWindow && traits.slidingLayers === 'none') {
    out.push({ path: 'slidingWindow', message: `slidingWindow ${c.slidingWindow} is not possible for a ${family} model: it has no sliding-window attention` });
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
  license: licenseSchema.optional(),
  /** How the publisher serves it (e.g. 360Zhinao's vLLM launch); the card's serving section starts from it. */
  serving: modelServingSchema.optional(),
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
      license: licenseSchema.nullable(),
      serving: modelServingSchema.nullable(),
      config: modelConfigObject.partial(),
    })
    .partial(),
});

export const modelListInput = listInput(['name', 'createdAt', 'maxPositionEmbeddings', 'ropeTheta'] as const, {
  origin: modelOriginSchema.optional(),
  tag: text().max(64).optional(),
  family: text().max(100).optional(),
  minContext: contextLength.optional(),
  /** Models the jobs of this team (its id) produced. */
  teamId: idSchema.optional(),
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
