import { DTYPE_BYTES, type Dtype } from '@ctxlab/contracts';
import { LongctxError, requirePositiveInt } from './errors';
import type { LlamaShape } from './memory';

/** Module names LoRA can target in a model of the supported families (Hugging Face / PEFT names; Llama, Mistral, Qwen2 and Gemma2 share them). */
export const LORA_TARGET_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'embed_tokens', 'lm_head'] as const;
export type LoraTargetModule = (typeof LORA_TARGET_MODULES)[number];

/** PEFT's "all-linear": every linear layer in the decoder, lm_head excluded. */
const ALL_LINEAR: readonly LoraTargetModule[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

/** Input and output width of a target module, and how many copies the model has. */
export interface ModuleShape {
  module: LoraTargetModule;
  inFeatures: number;
  outFeatures: number;
  /** numLayers for decoder projections, 1 for embed_tokens and lm_head. */
  count: number;
}

/**
 * Shape of one LoRA target module (embed_tokens: vocab → hidden, as PEFT's embedding LoRA sees it).
 * q/o use heads × headDim, not hiddenSize: the two differ for Gemma2 (16 × 256 = 4096 against 3584).
 * LoRA adapts the weight only, so Qwen2's q/k/v biases do not change these shapes.
 */
export function moduleShape(c: LlamaShape, module: LoraTargetModule): ModuleShape {
  const h = c.hiddenSize;
  const q = c.numAttentionHeads * c.headDim;
  const kv = c.numKeyValueHeads * c.headDim;
  const I = c.intermediateSize;
  const L = c.numLayers;
  const shapes: Record<LoraTargetModule, [number, number, number]> = {
    q_proj: [h, q, L],
    k_proj: [h, kv, L],
    v_proj: [h, kv, L],
    o_proj: [q, h, L],
    gate_proj: [h, I, L],
    up_proj: [h, I, L],
    down_proj: [I, h, L],
    embed_tokens: [c.vocabSize, h, 1],
    lm_head: [h, c.vocabSize, 1],
  };
  const [inFeatures, outFeatures, count] = shapes[module];
  return { module, inFeatures, outFeatures, count };
}

/** Normalises target module names: accepts the names above and PEFT's "all-linear"; rejects the rest. */
export function resolveTargetModules(names: readonly string[]): LoraTargetModule[] {
  const out = new Set<LoraTargetModule>();
  for (const n of names) {
    if (n === 'all-linear') ALL_LINEAR.forEach((m) => out.add(m));
    else if ((LORA_TARGET_MODULES as readonly string[]).includes(n)) out.add(n as LoraTargetModule);
    else throw new LongctxError('UNKNOWN_MODULE', `unknown LoRA target module "${n}"; expected one of ${LORA_TARGET_MODULES.join(', ')} or all-linear`, 'targetModules');
  }
  return [...out];
}

/** LoRA size by module. */
export interface LoraSize {
  rank: number;
  dtype: Dtype;
  modules: (ModuleShape & { paramsEach: number; params: number })[];
  params: number;
  bytes: number;
}

/**
 * LoRA adapter size: each targeted matrix W (out × in) gets A (r × in) and B (out × r), so
 * r·(in + out) parameters per matrix per layer (Hu et al. 2021, arXiv:2106.09685); bytes in `dtype`.
 */
export function loraSize(c: LlamaShape, o: { rank: number; targetModules: readonly string[]; dtype?: Dtype }): LoraSize {
  requirePositiveInt(o.rank, 'rank', 'INVALID_LENGTH');
  const dtype = o.dtype ?? 'bf16';
  const modules = resolveTargetModules(o.targetModules).map((m) => {
    const s = moduleShape(c, m);
    const paramsEach = o.rank * (s.inFeatures + s.outFeatures);
    return { ...s, paramsEach, params: paramsEach * s.count };
  });
  const params = modules.reduce((a, m) => a + m.params, 0);
  return { rank: o.rank, dtype, modules, params, bytes: params * DTYPE_BYTES[dtype] };
}
