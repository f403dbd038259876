import {
  MODEL_FAMILIES,
  MODEL_FAMILY_TRAITS,
  attentionBiases,
  modelConfigIssues,
  modelConfigObject,
  ropeScalingSchema,
  slidingWindowLayerCount,
  type Dtype,
  type ModelConfig,
  type ModelFamily,
  type RopeScaling,
} from '@ctxlab/contracts';
import type { IssueLog } from './issues';
import { Fields, describe, isObject, type JsonObject } from './json';

export const CONFIG_FILE = 'config.json';

/** The ctxlab model config of an import; `tokenizer` is the caller's (ctxlab registers tokenizers by its own names). */
export type HubModelConfig = Omit<ModelConfig, 'tokenizer'>;

/** What a family sets beyond the planner's fields, as the config states it. */
export interface HubFamilyExtras {
  family: ModelFamily;
  /** architectures[0], e.g. "LlamaForCausalLM"; null when config.json lists none. */
  architectureClass: string | null;
  /** Biases the attention projections carry. */
  attentionBias: { qkv: boolean; o: boolean };
  /** Sliding-window width in effect (Gemma2 4096; Qwen2 only with use_sliding_window), else null. */
  slidingWindow: number | null;
  /** Decoder layers that use it (Gemma2: every other one). */
  slidingWindowLayers: number;
  /** Gemma2: attention scores are scaled by query_pre_attn_scalar^-0.5 instead of head_dim^-0.5. */
  queryPreAttnScalar: number | null;
  /** Gemma2: tanh soft-capping of attention scores and of the final logits (null: off). */
  attnLogitSoftcapping: number | null;
  finalLogitSoftcapping: number | null;
  hiddenAct: string | null;
  rmsNormEps: number | null;
  /** quantization_config.quant_method, when the checkpoint is quantised. */
  quantization: string | null;
}

export interface ParsedConfig {
  config: HubModelConfig;
  family: HubFamilyExtras;
  /** `_name_or_path` as written (a Hub id or the path it was saved from). */
  nameOrPath: string | null;
  /** False when config.json gives no torch_dtype: the caller infers it from the weights. */
  dtypeStated: boolean;
}

/** Transformers' class for each family; a config may name the family by either. */
const CAUSAL_LM_CLASS: Record<ModelFamily, string> = {
  llama: 'LlamaForCausalLM',
  mistral: 'MistralForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  gemma2: 'Gemma2ForCausalLM',
};

const TORCH_DTYPES: Record<string, Dtype> = { bfloat16: 'bf16', float16: 'fp16', float32: 'fp32' };

/** ctxlab field → config.json field, to put ctxlab's cross-field messages in the file's terms. */
const HF_NAME: Record<string, string> = {
  architecture: 'model_type',
  numLayers: 'num_hidden_layers',
  hiddenSize: 'hidden_size',
  numAttentionHeads: 'num_attention_heads',
  numKeyValueHeads: 'num_key_value_heads',
  headDim: 'head_dim',
  intermediateSize: 'intermediate_size',
  vocabSize: 'vocab_size',
  ropeTheta: 'rope_theta',
  ropeScaling: 'rope_scaling',
  maxPositionEmbeddings: 'max_position_embeddings',
  tieWordEmbeddings: 'tie_word_embeddings',
  dtype: 'torch_dtype',
  attentionBias: 'attention_bias',
  slidingWindow: 'sliding_window',
};
const toHf = (s: string) => s.replace(/\b(numLayers|hiddenSize|numAttentionHeads|numKeyValueHeads|headDim|intermediateSize|vocabSize|ropeTheta|maxPositionEmbeddings|tieWordEmbeddings|attentionBias|slidingWindow)\b/g, (m) => HF_NAME[m] ?? m);

const familyList = MODEL_FAMILIES.join(', ');
const isFamily = (s: string): s is ModelFamily => (MODEL_FAMILIES as readonly string[]).includes(s);

/** The family from model_type and architectures[0]; refuses any other family by name. */
function resolveFamily(log: IssueLog, f: Fields): { family: ModelFamily; cls: string | null } | null {
  const file = f.file;
  const modelType = f.string('model_type', 'the model family');
  const archs = f.strings('architectures', 'the transformers class');
  const cls = archs?.[0] ?? null;
  const fromClass = cls ? (Object.entries(CAUSAL_LM_CLASS).find(([, c]) => c === cls)?.[0] as ModelFamily | undefined) : undefined;
  if (modelType !== undefined) {
    if (!isFamily(modelType)) return log.fail(file, 'model_type', `model_type ${JSON.stringify(modelType)} is not supported; supported families: ${familyList}`);
    if (cls && fromClass !== modelType) {
      const stem = CAUSAL_LM_CLASS[modelType].replace('ForCausalLM', '');
      if (cls.startsWith(stem)) log.error(file, 'architectures', `architectures[0] ${JSON.stringify(cls)} is not a causal language model; ctxlab plans ${CAUSAL_LM_CLASS[modelType]}`);
      else log.error(file, 'architectures', `architectures[0] ${JSON.stringify(cls)} disagrees with model_type ${JSON.stringify(modelType)} (expected ${CAUSAL_LM_CLASS[modelType]})`);
    }
    return { family: modelType, cls };
  }
  if (fromClass) return { family: fromClass, cls };
  if (cls) return log.fail(file, 'architectures', `architectures[0] ${JSON.stringify(cls)} is not supported; supported families: ${familyList} (${Object.values(CAUSAL_LM_CLASS).join(', ')})`);
  return log.fail(file, 'model_type', `model_type is missing and architectures names no class: cannot tell the model family (supported: ${familyList})`);
}

/** rope_scaling in the shape of ropeScalingSchema; HF writes the kind as `rope_type` (newer) or `type`. */
function parseRopeScaling(log: IssueLog, f: Fields, maxPositionEmbeddings: number | undefined): RopeScaling | null | undefined {
  const file = f.file;
  const rs = f.obj.rope_scaling;
  if (rs === undefined || rs === null) return null;
  if (!isObject(rs)) return log.error(file, 'rope_scaling', `rope_scaling must be an object or null, got ${describe(rs)}`), undefined;
  const kind = rs.rope_type ?? rs.type;
  if (typeof kind !== 'string') return log.error(file, 'rope_scaling.rope_type', `rope_scaling has no rope_type (or type) naming its kind, got ${describe(kind)}`), undefined;
  const field = (k: string) => `rope_scaling.${k}`;
  const sub = new Fields(log, file, rs);
  const num = (k: string, what: string, required = true) => sub.positiveNumber(k, what, required);
  const before = log.issues.length;
  let out: RopeScaling | null | undefined;
  switch (kind) {
    case 'default':
      out = null;
      break;
    case 'linear':
    case 'dynamic': {
      const factor = num('factor', 'the scaling factor');
      out = factor === undefined ? undefined : { type: kind, factor };
      break;
    }
    case 'yarn': {
      const factor = num('factor', 'the scaling factor');
      let original = sub.positiveInt('original_max_position_embeddings', 'the pre-training context', false);
      if (original === undefined && !sub.has('original_max_position_embeddings') && maxPositionEmbeddings !== undefined) {
        // transformers falls back to max_position_embeddings; so does the planner, and says so.
        original = maxPositionEmbeddings;
        log.warn(file, field('original_max_position_embeddings'), `rope_scaling (yarn) gives no original_max_position_embeddings; max_position_embeddings ${maxPositionEmbeddings} is taken, as transformers does`);
      }
      const betaFast = num('beta_fast', 'YaRN β fast', false) ?? 32;
      const betaSlow = num('beta_slow', 'YaRN β slow', false) ?? 1;
      for (const k of ['attention_factor', 'mscale', 'mscale_all_dim', 'truncate']) {
        if (rs[k] !== undefined && rs[k] !== null) log.warn(file, field(k), `rope_scaling.${k} is not modelled by the planner and is ignored`);
      }
      out = factor === undefined || original === undefined ? undefined : { type: 'yarn', factor, originalMaxPositionEmbeddings: original, betaFast, betaSlow };
      break;
    }
    case 'llama3': {
      const factor = num('factor', 'the scaling factor');
      const lowFreqFactor = num('low_freq_factor', 'the low-frequency factor');
      const highFreqFactor = num('high_freq_factor', 'the high-frequency factor');
      const original = sub.positiveInt('original_max_position_embeddings', 'the pre-training context');
      out =
        factor === undefined || lowFreqFactor === undefined || highFreqFactor === undefined || original === undefined
          ? undefined
          : { type: 'llama3', factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: original };
      break;
    }
    case 'longrope':
    case 'su':
      log.error(file, 'rope_scaling.rope_type', `rope_scaling type ${JSON.stringify(kind)} (per-dimension long/short factors) is not supported by the planner; supported: linear, dynamic, yarn, llama3`);
      return undefined;
    default:
      log.error(file, 'rope_scaling.rope_type', `rope_scaling type ${JSON.stringify(kind)} is not known to the planner; supported: linear, dynamic, yarn, llama3`);
      return undefined;
  }
  // Sub-field issues were logged against the bare key: name them rope_scaling.<key>.
  for (const i of log.issues.slice(before)) {
    if (!i.field.startsWith('rope_scaling')) {
      i.message = i.message.replace(`${file}: ${i.field}`, `${file}: rope_scaling.${i.field}`);
      i.field = field(i.field);
    }
  }
  if (out) {
    const r = ropeScalingSchema.safeParse(out);
    if (!r.success) {
      for (const i of r.error.issues) log.error(file, 'rope_scaling', `rope_scaling: ${toHf(String(i.path[0] ?? ''))} ${i.message}`);
      return undefined;
    }
    return r.data;
  }
  return out;
}

/** Reads config.json into the planner's config and the family's extras; errors are logged, and null returned when the config cannot be built. */
export function parseConfig(log: IssueLog, obj: JsonObject): ParsedConfig | null {
  const f = new Fields(log, CONFIG_FILE, obj);
  const fam = resolveFamily(log, f);
  if (!fam) return null;
  const { family } = fam;
  const traits = MODEL_FAMILY_TRAITS[family];

  const numLayers = f.positiveInt('num_hidden_layers', 'the number of decoder layers');
  const hiddenSize = f.positiveInt('hidden_size', 'the model width');
  const numAttentionHeads = f.positiveInt('num_attention_heads', 'the number of query heads');
  // Defaults are transformers' own: no num_key_value_heads means multi-head attention.
  const numKeyValueHeads = f.positiveInt('num_key_value_heads', '', false) ?? numAttentionHeads;
  let headDim = f.positiveInt('head_dim', '', false);
  if (headDim === undefined && !f.has('head_dim') && hiddenSize !== undefined && numAttentionHeads !== undefined) {
    if (hiddenSize % numAttentionHeads === 0) headDim = hiddenSize / numAttentionHeads;
    else log.error(CONFIG_FILE, 'num_attention_heads', `hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numAttentionHeads}, and there is no head_dim to say the head width`);
  }
  const intermediateSize = f.positiveInt('intermediate_size', 'the MLP width');
  const vocabSize = f.positiveInt('vocab_size', 'the vocabulary size');
  const maxPositionEmbeddings = f.positiveInt('max_position_embeddings', 'the context length');
  let ropeTheta = f.positiveNumber('rope_theta', '', false);
  if (ropeTheta === undefined && !f.has('rope_theta')) {
    ropeTheta = 10000;
    log.warn(CONFIG_FILE, 'rope_theta', 'rope_theta is missing; transformers\' default 10000 is taken');
  }
  const ropeScaling = parseRopeScaling(log, f, maxPositionEmbeddings);
  const tieWordEmbeddings = f.boolean('tie_word_embeddings', '') ?? traits.tiedEmbeddingsByDefault;

  const dtypeField = f.has('torch_dtype') ? 'torch_dtype' : 'dtype';
  const dtypeName = f.string(dtypeField, '');
  let dtype: Dtype | undefined;
  if (dtypeName !== undefined) {
    dtype = TORCH_DTYPES[dtypeName];
    if (!dtype) log.error(CONFIG_FILE, dtypeField, `${dtypeField} ${JSON.stringify(dtypeName)} is not supported; expected ${Object.keys(TORCH_DTYPES).join(', ')}`);
  }

  // Attention biases: Llama and Gemma2 read attention_bias; Mistral's and Qwen2's code ignores it.
  const attentionBiasRaw = f.boolean('attention_bias', '');
  if (attentionBiasRaw !== undefined && !traits.attentionBiasConfigurable && attentionBiasRaw !== traits.qkvBiasByDefault) {
    log.warn(CONFIG_FILE, 'attention_bias', `attention_bias ${attentionBiasRaw} is ignored by ${CAUSAL_LM_CLASS[family]}: its q/k/v projections ${traits.qkvBiasByDefault ? 'always' : 'never'} have biases`);
  }
  const attentionBias = traits.attentionBiasConfigurable ? (attentionBiasRaw ?? traits.qkvBiasByDefault) : traits.qkvBiasByDefault;
  if (family === 'llama' && f.boolean('mlp_bias', '') === true) {
    log.error(CONFIG_FILE, 'mlp_bias', 'mlp_bias true (biases on gate/up/down_proj) is not supported by the planner, whose parameter counts would be short');
  }

  let slidingWindow: number | null = null;
  if (family === 'mistral' || family === 'gemma2') {
    slidingWindow = f.positiveInt('sliding_window', '', false) ?? (family === 'gemma2' && !f.has('sliding_window') ? 4096 : null);
  } else if (family === 'qwen2' && f.boolean('use_sliding_window', '') === true) {
    slidingWindow = f.positiveInt('sliding_window', 'the window width when use_sliding_window is true') ?? null;
    log.warn(CONFIG_FILE, 'use_sliding_window', `Qwen2 applies sliding_window ${slidingWindow} from layer max_window_layers on; the planner sizes the KV cache for every layer at full length regardless`);
  }

  // Gemma2's extras: absent takes transformers' default, null turns soft-capping off.
  const extra = (k: string, dflt: number): number | null => (obj[k] === undefined ? dflt : obj[k] === null ? null : (f.positiveNumber(k, '') ?? null));
  const qc = obj.quantization_config;
  const quant = qc === undefined || qc === null ? null : isObject(qc) && typeof qc.quant_method === 'string' ? qc.quant_method : 'unknown';
  const family_: HubFamilyExtras = {
    family,
    architectureClass: fam.cls,
    attentionBias: attentionBiases({ architecture: family, attentionBias }),
    slidingWindow,
    slidingWindowLayers: numLayers ? slidingWindowLayerCount({ architecture: family, numLayers, slidingWindow }) : 0,
    queryPreAttnScalar: family === 'gemma2' ? extra('query_pre_attn_scalar', 256) : null,
    attnLogitSoftcapping: family === 'gemma2' ? extra('attn_logit_softcapping', 50) : null,
    finalLogitSoftcapping: family === 'gemma2' ? extra('final_logit_softcapping', 30) : null,
    hiddenAct: f.string('hidden_activation', '') ?? f.string('hidden_act', '') ?? null,
    rmsNormEps: f.has('rms_norm_eps') ? (f.positiveNumber('rms_norm_eps', '') ?? null) : null,
    quantization: quant,
  };
  if (quant) log.warn(CONFIG_FILE, 'quantization_config', `the checkpoint is quantised (${quant}): the planner counts parameters from the architecture, and its weight dtype must be set by hand`);

  const nameOrPath = f.string('_name_or_path', '') ?? null;
  if (
    numLayers === undefined ||
    hiddenSize === undefined ||
    numAttentionHeads === undefined ||
    numKeyValueHeads === undefined ||
    headDim === undefined ||
    intermediateSize === undefined ||
    vocabSize === undefined ||
    maxPositionEmbeddings === undefined ||
    ropeTheta === undefined ||
    ropeScaling === undefined
  ) {
    return null;
  }
  const config: HubModelConfig = {
    architecture: family,
    numLayers,
    hiddenSize,
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    intermediateSize,
    vocabSize,
    ropeTheta,
    ropeScaling,
    maxPositionEmbeddings,
    tieWordEmbeddings,
    dtype: dtype ?? 'bf16',
    // Only what differs from the family's default is written, so a config round-trips through
    // stores that know the base fields alone.
    ...(attentionBias !== traits.qkvBiasByDefault ? { attentionBias } : {}),
    ...(slidingWindow !== null ? { slidingWindow } : {}),
  };
  const parsed = modelConfigObject.omit({ tokenizer: true }).safeParse(config);
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      const key = String(i.path[0] ?? '');
      const hf = HF_NAME[key] ?? key;
      log.error(CONFIG_FILE, hf, `${hf} ${JSON.stringify((config as Record<string, unknown>)[key])}: ${i.message}`);
    }
  }
  for (const i of modelConfigIssues(config)) log.error(CONFIG_FILE, HF_NAME[i.path] ?? i.path, toHf(i.message));
  return { config, family: family_, nameOrPath, dtypeStated: dtype !== undefined };
}
