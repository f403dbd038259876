/**
 * The registry's seed: the published long-context work ctxlab's users build on (field notes §1).
 * Numbers come from the public model cards; where a card does not state a value the recipe needs,
 * the value is marked as assumed in the recipe's notes.
 */
import type { AdapterCreateInput, LineageKind, ModelCreateInput, RecipeSpecInput } from '@ctxlab/contracts';
import { BAAI_LLAMA3_8B_80K_QLORA, LLAMA3_70B, LLAMA3_8B, ZHINAO_360K_VLLM } from '@ctxlab/longctx';


type SeedModel = Omit<ModelCreateInput, 'tags' | 'origin'> & { tags?: string[]; origin?: 'base' | 'derived' };

export const seedModels: SeedModel[] = [
  {
    name: 'Meta-Llama-3-8B-Instruct',
    family: 'llama-3',
    origin: 'base',
    license: 'llama3',
    sourceUri: 'hf://meta-llama/Meta-Llama-3-8B-Instruct',
    description: 'Meta Llama 3 8B Instruct: 8,192-token context, RoPE base 500,000.',
    tags: ['llama-3', '8b', 'instruct'],
    config: LLAMA3_8B,
  },
  {
    name: 'Meta-Llama-3-70B-Instruct',
    family: 'llama-3',
    origin: 'base',
    license: 'llama3',
    sourceUri: 'hf://meta-llama/Meta-Llama-3-70B-Instruct',
    description: 'Meta Llama 3 70B Instruct: 8,192-token context, RoPE base 500,000.',
    tags: ['llama-3', '70b', 'instruct'],
    config: LLAMA3_70B,
  },
  {
    name: 'llama3-8B-360Zhinao-360k-Instruct',
    family: 'llama-3',
    origin: 'derived',
    license: 'llama3',
    sourceUri: 'hf://qihoo360/llama3-8B-360Zhinao-360k-Instruct',
    serving: { gpuType: 'A800-80G', ...ZHINAO_360K_VLLM, note: "360Zhinao's published vLLM launch (8×A800-80G, no chunked prefill)" },
    description: 'Llama-3-8B-Instruct extended to 360K by raising the RoPE base 500,000 → 500,000,000 and training with EasyContext. Served on 8×A800-80G with vLLM.',
    tags: ['llama-3', '8b', 'long-context', '360k'],
    config: { ...LLAMA3_8B, ropeTheta: 500_000_000, maxPositionEmbeddings: 368_640 },
  },
  {
    name: 'Llama-3-8B-Instruct-80K-QLoRA',
    family: 'llama-3',
    origin: 'derived',
    license: 'llama3',
    sourceUri: 'hf://namespace-Pt/Llama-3-8B-Instruct-80K-QLoRA',
    description: 'BAAI: Llama-3-8B-Instruct extended to 80K with QLoRA in 8 hours on 8×A800 (RoPE base 500K → 200M). NIAH 100% up to 128K.',
    tags: ['llama-3', '8b', 'long-context', '80k', 'qlora'],
    config: { ...LLAMA3_8B, ropeTheta: 200_000_000, maxPositionEmbeddings: 81_920 },
  },
  ...(
    [
      ['65k', 15_296_098, 65_536],
      ['262k', 207_112_184, 262_144],
      ['524k', 1_062_356_830, 524_288],
      ['1048k', 3_580_165_449, 1_048_576],
    ] as const
  ).map(([label, theta, maxPos]) => ({
    name: `Llama-3-70B-Instruct-Gradient-${label}`,
    family: 'llama-3',
    origin: 'derived' as const,
    license: 'llama3',
    sourceUri: label === '1048k' ? 'hf://gradientai/Llama-3-70B-Instruct-Gradient-1048k' : undefined,
    description:
      label === '1048k'
        ? 'Gradient: Llama-3-70B-Instruct extended to 1048K in four progressive stages (EasyContext ring attention on L40S).'
        : `Gradient's ${label} stage model on the way to 1048K.`,
    tags: ['llama-3', '70b', 'long-context', label, 'gradient'],
    config: { ...LLAMA3_70B, ropeTheta: theta, maxPositionEmbeddings: maxPos },
  })),
];

/** The lab models ctxlab trains itself (libs/inference/models, tools/lab-model): tiny byte-level Llamas. */
const lab = {
  architecture: 'llama',
  numLayers: 4,
  hiddenSize: 128,
  numAttentionHeads: 4,
  numKeyValueHeads: 2,
  headDim: 32,
  intermediateSize: 384,
  vocabSize: 259,
  ropeScaling: null,
  tieWordEmbeddings: true,
  tokenizer: 'byte',
  dtype: 'fp32',
} as const;
seedModels.push(
  {
    name: 'lab-stage1',
    family: 'ctxlab-lab',
    origin: 'base',
    sourceUri: 'file://libs/inference/models/lab-stage1.onnx',
    description: 'ctxlab lab model, stage 1: trained at 512 bytes with RoPE base 10,000. See libs/inference/models/MODEL_CARD.md.',
    tags: ['lab', 'onnx'],
    config: { ...lab, ropeTheta: 10_000, maxPositionEmbeddings: 512 },
  },
  {
    name: 'lab-stage2',
    family: 'ctxlab-lab',
    origin: 'derived',
    sourceUri: 'file://libs/inference/models/lab-stage2.onnx',
    description: 'ctxlab lab model, stage 2: RoPE base raised by dynamic NTK (α = 4) to 154,243 and trained at 2,048 bytes from stage 1.',
    tags: ['lab', 'onnx'],
    config: { ...lab, ropeTheta: 154_243, maxPositionEmbeddings: 2048 },
  },
);

export const seedLineage: { parent: string; child: string; kind: LineageKind; note?: string }[] = [
  { parent: 'Meta-Llama-3-70B-Instruct', child: 'Llama-3-70B-Instruct-Gradient-65k', kind: 'context-extension', note: 'Gradient stage 1 (65K)' },
  { parent: 'Llama-3-70B-Instruct-Gradient-65k', child: 'Llama-3-70B-Instruct-Gradient-262k', kind: 'context-extension', note: 'Gradient stage 2 (262K)' },
  { parent: 'Llama-3-70B-Instruct-Gradient-262k', child: 'Llama-3-70B-Instruct-Gradient-524k', kind: 'context-extension', note: 'Gradient stage 3 (524K)' },
  { parent: 'Llama-3-70B-Instruct-Gradient-524k', child: 'Llama-3-70B-Instruct-Gradient-1048k', kind: 'context-extension', note: 'Gradient stage 4 (1048K)' },
  { parent: 'Meta-Llama-3-8B-Instruct', child: 'llama3-8B-360Zhinao-360k-Instruct', kind: 'context-extension', note: 'RoPE base 500K → 500M, EasyContext' },
  { parent: 'Meta-Llama-3-8B-Instruct', child: 'Llama-3-8B-Instruct-80K-QLoRA', kind: 'context-extension', note: 'QLoRA, RoPE base 500K → 200M' },
  { parent: 'lab-stage1', child: 'lab-stage2', kind: 'context-extension', note: 'θ 10,000 → 154,243 (dynamic NTK, α = 4), 512 → 2,048 bytes' },
];

type SeedAdapter = Omit<AdapterCreateInput, 'baseModelId' | 'sourceModelId' | 'tags' | 'dtype'> & { base: string; source: string; tags: string[] };
const projections = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
export const seedAdapters: SeedAdapter[] = (['524k', '1048k'] as const).map((label) => ({
  name: `Llama-3-70B-Gradient-${label}-LoRA-r32`,
  description: `Rank-32 LoRA extracted (SVD of the weight deltas) from Gradient's ${label} model against Llama-3-70B-Instruct; about 800 MB. Merge it into any Llama-3-70B fine-tune and patch rope_theta and max_position_embeddings.`,
  base: 'Meta-Llama-3-70B-Instruct',
  source: `Llama-3-70B-Instruct-Gradient-${label}`,
  rank: 32,
  alpha: 32,
  targetModules: projections,
  tags: ['lora', 'long-context', label],
}));

const gradientStages = [
  { name: '65K', init: 'Meta-Llama-3-70B-Instruct', n: 16, theta: 15_296_098, batch: 64, accum: 1, steps: 20, tokens: 83_886_080, gpus: 512, minutes: 100 },
  { name: '262K', init: undefined, n: 18, theta: 207_112_184, batch: 16, accum: 1, steps: 25, tokens: 104_857_600, gpus: 512, minutes: 170 },
  { name: '524K', init: undefined, n: 19, theta: 1_062_356_830, batch: 8, accum: 2, steps: 25, tokens: 209_715_200, gpus: 512, minutes: 284 },
  { name: '1048K', init: undefined, n: 20, theta: 3_580_165_449, batch: 1, accum: 4, steps: 8, tokens: 33_554_432, gpus: 128, minutes: 516 },
];

export const seedRecipes: { name: string; description: string; tags: string[]; spec: RecipeSpecInput }[] = [
  {
    name: 'gradient-llama3-70b-1048k',
    description: "Gradient's progressive extension of Llama-3-70B-Instruct to 1048K: four stages, each initialised from the last, thetas by dynamic NTK (α = 4) then the critical-dimension rule.",
    tags: ['progressive', 'ring-attention', '70b'],
    spec: {
      method: 'full',
      baseModel: 'Meta-Llama-3-70B-Instruct',
      targetContext: 1_048_576,
      thetaRule: 'dynamic-ntk',
      progressive: true,
      trainer: 'easycontext',
      stages: gradientStages.map((s) => ({
        name: s.name,
        initFrom: s.init,
        seqLength: 2 ** s.n,
        seqLengthLog2: s.n,
        ropeTheta: s.theta,
        batchSize: s.batch,
        gradientAccumulation: s.accum,
        steps: s.steps,
        learningRate: 2e-5,
        gpus: s.gpus,
        gpuType: 'L40S',
        parallelMode: 'zigzag_ring_attn',
        declaredTotalTokens: s.tokens,
        wallMinutes: s.minutes,
      })),
      hardware: { gpuType: 'L40S', gpus: 512 },
      notes: 'Stage table as published by Gradient. The learning rate (2e-5) is assumed: the stage table does not state it.',
    },
  },
  {
    name: '360zhinao-llama3-8b-360k',
    description: '360Zhinao: Llama-3-8B-Instruct to 360K by raising the RoPE base 500,000 → 500,000,000 directly, trained with EasyContext (pre-training loss beat SFT-only).',
    tags: ['ring-attention', '8b'],
    spec: {
      method: 'full',
      baseModel: 'Meta-Llama-3-8B-Instruct',
      targetContext: 368_640,
      thetaRule: 'manual',
      progressive: false,
      trainer: 'easycontext',
      stages: [
        {
          name: '360K',
          initFrom: 'Meta-Llama-3-8B-Instruct',
          seqLength: 368_640,
          ropeTheta: 500_000_000,
          batchSize: 1,
          gradientAccumulation: 1,
          steps: 100,
          learningRate: 2e-5,
          gpus: 8,
          gpuType: 'A800-80G',
          parallelMode: 'zigzag_ring_attn',
        },
      ],
      hardware: { gpuType: 'A800-80G', gpus: 8, note: 'served with vLLM: TP 8, gpu-memory-utilization 0.6, max-model-len 365000' },
      notes: 'Published: theta 500K → 500M in one step, EasyContext, pre-training loss. Assumed (not published): sequence length, batch, steps, learning rate and GPU count for training.',
    },
  },
  {
    name: 'baai-llama3-8b-80k-qlora',
    description: 'BAAI: Llama-3-8B-Instruct to 80K by QLoRA in 8 hours on 8×A800; 20K samples (3.5K GPT-4 synthesised long QA/summaries, 5K RedPajama, 12K LongAlpaca).',
    tags: ['qlora', '8b'],
    spec: {
      ...BAAI_LLAMA3_8B_80K_QLORA,
      // The registry's model names, not the Hub's.
      baseModel: 'Meta-Llama-3-8B-Instruct',
      stages: BAAI_LLAMA3_8B_80K_QLORA.stages.map((stage) => ({ ...stage, initFrom: 'Meta-Llama-3-8B-Instruct' })),
      dataMix: [
        { name: 'GPT-4 synthesised long-context QA', samples: 3_500, description: 'single-detail QA, multi-detail QA, biography summarisation' },
        { name: 'RedPajama', samples: 5_000 },
        { name: 'LongAlpaca', samples: 12_000 },
      ],
      notes: 'Published: rank 32, alpha 16, q/k/v/o plus the embedding layer, lr 5e-5 linear decay, batch 8, gradient checkpointing, 8 hours. Assumed: one epoch over the 20K samples (2,500 steps), every sample counted at the full 80K length.',
    },
  },
  {
    name: 'lab-progressive',
    description: 'The lab model extended progressively on a CPU, as a recipe run: 512 → 1,024 → 2,048 bytes from lab-stage1, each stage gated by NIAH and perplexity.',
    tags: ['lab', 'progressive'],
    spec: {
      method: 'full',
      trainer: 'lab',
      baseModel: 'lab-stage1',
      targetContext: 2048,
      thetaRule: 'dynamic-ntk',
      progressive: true,
      stages: [
        { name: 'lab-512', seqLength: 512, ropeTheta: 10_000, batchSize: 1, steps: 4, learningRate: 1e-3, gpus: 1, gpuType: 'cpu', gates: { niah: { minScore: 50, depths: [0, 0.5, 1], samples: 2 }, perplexity: { max: 15 } } },
        { name: 'lab-1k', seqLength: 1024, ropeTheta: 40_000, batchSize: 1, steps: 3, learningRate: 1e-3, gpus: 1, gpuType: 'cpu', gates: { niah: { minScore: 10, depths: [0, 0.5, 1], samples: 2 }, perplexity: { max: 15 } } },
        { name: 'lab-2k', seqLength: 2048, ropeTheta: 154_243, batchSize: 1, steps: 2, learningRate: 1e-3, gpus: 1, gpuType: 'cpu', gates: { niah: { minScore: 30, depths: [0, 0.5, 1], samples: 2 }, perplexity: { max: 15 } } },
      ],
      notes: 'A demonstration of recipe runs in about a minute of CPU training, not a real extension: 4 / 3 / 2 steps of batch 1. Measured on a 2-core machine: NIAH 100 / 17 / 67 over 3 depths × 2 samples and perplexity 8.7 / 10.0 / 10.8 at the stage lengths; the thresholds sit below those. Stage 3 uses the dynamic-NTK θ of the shipped lab-stage2, which trained 300 steps at 2,048 to reach 90%.',
    },
  },
];

/**
 * The price of the lab's device. Lab jobs hold no GPU and are charged as one "cpu" device-hour per
 * hour. Its peak is what `npm run bench -- inference` measured as onnxruntime's fp32 1024³ matrix
 * multiply on one thread of a 2-core machine (86.6 GFLOP/s) — the lab trainer runs on one thread —
 * so the planner can estimate lab training beside what it really took. GPU prices are left to
 * admins: what a GPU-hour costs depends on the contract.
 */
export const seedPrices = [
  { gpuType: 'cpu', pricePerHour: 0.05, currency: 'USD', peakFlops: 86.6e9, note: 'example rate for the lab device; peak measured by the inference bench (1-thread fp32 matmul)' },
];
