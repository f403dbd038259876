import type { ModelConfig, RecipeSpec } from '@ctxlab/contracts';
import type { ServingInput } from './serving';

// Seed data from docs/field-notes.md §1 and §3 (Meta's config.json for Llama-3 8B/70B).

/** Llama-3-8B(-Instruct) architecture: 32 layers, hidden 4096, 32 heads, 8 KV heads, RoPE 500,000, 8,192 context. */
export const LLAMA3_8B: ModelConfig = {
  architecture: 'llama',
  numLayers: 32,
  hiddenSize: 4096,
  numAttentionHeads: 32,
  numKeyValueHeads: 8,
  headDim: 128,
  intermediateSize: 14336,
  vocabSize: 128256,
  ropeTheta: 500000,
  ropeScaling: null,
  maxPositionEmbeddings: 8192,
  tieWordEmbeddings: false,
  tokenizer: 'llama3', // the name libs/tokenizers registers it under
  dtype: 'bf16',
};

/** Llama-3-70B(-Instruct) architecture: 80 layers, hidden 8192, 64 heads, 8 KV heads, RoPE 500,000, 8,192 context. */
export const LLAMA3_70B: ModelConfig = {
  ...LLAMA3_8B,
  numLayers: 80,
  hiddenSize: 8192,
  numAttentionHeads: 64,
  intermediateSize: 28672,
};

// The other families, from their publishers' config.json (libs/hub/src/import/fixtures/README.md
// names the repos). `tokenizer` is the Hub repo: ctxlab registers no tokenizer for them.

/** Mistral-7B-Instruct-v0.2: Llama's maths; 32K context, RoPE 1,000,000, no sliding window (v0.1 had 4,096). */
export const MISTRAL_7B_V02: ModelConfig = {
  architecture: 'mistral',
  numLayers: 32,
  hiddenSize: 4096,
  numAttentionHeads: 32,
  numKeyValueHeads: 8,
  headDim: 128,
  intermediateSize: 14336,
  vocabSize: 32000,
  ropeTheta: 1_000_000,
  ropeScaling: null,
  maxPositionEmbeddings: 32768,
  tieWordEmbeddings: false,
  tokenizer: 'mistralai/Mistral-7B-Instruct-v0.2',
  dtype: 'bf16',
};

/** Qwen2-7B(-Instruct): q/k/v biases, 28 heads over 4 KV heads, 32K context; sliding window off (use_sliding_window false). */
export const QWEN2_7B: ModelConfig = {
  architecture: 'qwen2',
  numLayers: 28,
  hiddenSize: 3584,
  numAttentionHeads: 28,
  numKeyValueHeads: 4,
  headDim: 128,
  intermediateSize: 18944,
  vocabSize: 152064,
  ropeTheta: 1_000_000,
  ropeScaling: null,
  maxPositionEmbeddings: 32768,
  tieWordEmbeddings: false,
  tokenizer: 'Qwen/Qwen2-7B-Instruct',
  dtype: 'bf16',
};

/** Gemma-2-9B: head_dim 256 with 16 heads (≠ hidden 3584), tied embeddings, 4 norms per layer, local layers with window 4,096. */
export const GEMMA2_9B: ModelConfig = {
  architecture: 'gemma2',
  numLayers: 42,
  hiddenSize: 3584,
  numAttentionHeads: 16,
  numKeyValueHeads: 8,
  headDim: 256,
  intermediateSize: 14336,
  vocabSize: 256000,
  ropeTheta: 10000,
  ropeScaling: null,
  maxPositionEmbeddings: 8192,
  tieWordEmbeddings: true,
  tokenizer: 'google/gemma-2-9b',
  dtype: 'fp32',
  slidingWindow: 4096,
};

const gradientStage = {
  // The field notes give no learning rate; Gradient's 8B card lists 2.00E-05 for every stage.
  // Used here as a stand-in so the spec is complete — it does not enter any computation.
  learningRate: 2e-5,
  gpuType: 'L40S',
  parallelMode: 'zigzag_ring_attn',
} as const;

/** Gradient's Llama-3-70B-Instruct → 1048K progressive recipe (field notes §1), parsed form. */
export const GRADIENT_70B_1048K: RecipeSpec = {
  method: 'full',
  baseModel: 'meta-llama/Meta-Llama-3-70B-Instruct',
  targetContext: 2 ** 20,
  // Stages 1–3 are dynamic NTK (α = 4) chained; stage 4 is the critical-dimension rule.
  thetaRule: 'manual',
  progressive: true,
  trainer: 'easycontext',
  stages: [
    { ...gradientStage, name: '65K', seqLength: 2 ** 16, seqLengthLog2: 16, ropeTheta: 15_296_098, batchSize: 64, gradientAccumulation: 1, steps: 20, gpus: 512, declaredTotalTokens: 83_886_080, wallMinutes: 100 },
    { ...gradientStage, name: '262K', seqLength: 2 ** 18, seqLengthLog2: 18, ropeTheta: 207_112_184, batchSize: 16, gradientAccumulation: 1, steps: 25, gpus: 512, declaredTotalTokens: 104_857_600, wallMinutes: 170 },
    { ...gradientStage, name: '524K', seqLength: 2 ** 19, seqLengthLog2: 19, ropeTheta: 1_062_356_830, batchSize: 8, gradientAccumulation: 2, steps: 25, gpus: 512, declaredTotalTokens: 209_715_200, wallMinutes: 284 },
    { ...gradientStage, name: '1048K', seqLength: 2 ** 20, seqLengthLog2: 20, ropeTheta: 3_580_165_449, batchSize: 1, gradientAccumulation: 4, steps: 8, gpus: 128, declaredTotalTokens: 33_554_432, wallMinutes: 516 },
  ],
  dataMix: [],
  hardware: { gpuType: 'L40S', gpus: 512, note: 'Crusoe L40S cluster; EasyContext ring attention' },
};

/** BAAI Llama-3-8B-Instruct → 80K by QLoRA (field notes §1; FlagEmbedding Long_LLM/longllm_qlora), parsed form. */
export const BAAI_LLAMA3_8B_80K_QLORA: RecipeSpec = {
  method: 'qlora',
  baseModel: 'meta-llama/Meta-Llama-3-8B-Instruct',
  targetContext: 81920,
  thetaRule: 'manual',
  progressive: false,
  trainer: 'qlora',
  stages: [
    {
      name: '80K',
      // BAAI's --max_length 81920; RoPE base 500K → 200M.
      seqLength: 81920,
      ropeTheta: 200_000_000,
      // Batch 8 on 8×A800 (1 per GPU); 20K samples, one epoch → 2,500 steps. seqLength × batch ×
      // steps = 1,638,400,000 counts every sample at the 81,920-token maximum, but each GPU takes
      // one sample per step (the trainer's per_device_train_batch_size defaults to 1) and most
      // samples are shorter: with the published 480 minutes that count implies MFU 4.03 on the
      // A800s, and planRecipe warns. At MFU ≤ 1 the stage trained on at most 406M tokens (about
      // 20K per sample). Neither the paper (arXiv 2404.19553) nor the FlagEmbedding
      // Long_LLM/longllm_qlora README states the tokens trained on, so none is given here.
      batchSize: 8,
      gradientAccumulation: 1,
      steps: 2500,
      learningRate: 5e-5,
      gpus: 8,
      gpuType: 'A800-80G',
      parallelMode: 'data_parallel',
      wallMinutes: 480,
    },
  ],
  lora: {
    rank: 32,
    alpha: 16,
    targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'],
    extraTrainedParameters: ['embed_tokens'],
    quantization: 'nf4',
    gradientCheckpointing: true,
  },
  dataMix: [
    { name: 'GPT-4 synthesised long-context QA and summaries', samples: 3500 },
    { name: 'RedPajama', samples: 5000 },
    { name: 'LongAlpaca', samples: 12000 },
  ],
  hardware: { gpuType: 'A800-80G', gpus: 8 },
};

/**
 * 360Zhinao's published vLLM launch of Llama3-8B-Instruct-360K on 8×A800-80G (field notes §1):
 * `--tensor-parallel-size 8 --gpu-memory-utilization 0.6 --max-model-len 365000
 * --max-num-batched-tokens 365000 --max-num-seqs 32 --enforce-eager --trust-remote-code`, no chunked
 * prefill, under PYTORCH_CUDA_ALLOC_CONF=max_split_size_mb:256. The model, its RoPE base (500,000,000)
 * and the GPU's memory come from the caller: a `ServingInput` or a serve job spec.
 */
export const ZHINAO_360K_VLLM = {
  tensorParallelSize: 8,
  gpuMemoryUtilization: 0.6,
  maxModelLen: 365000,
  maxNumBatchedTokens: 365000,
  maxNumSeqs: 32,
  enableChunkedPrefill: false,
  enforceEager: true,
  trustRemoteCode: true,
  env: { PYTORCH_CUDA_ALLOC_CONF: 'max_split_size_mb:256' },
} satisfies Partial<ServingInput>;
