import { heatmapMatrix, type HeatmapCellScores } from '@ctxlab/contracts';
import { LLAMA3_70B, LLAMA3_8B, ZHINAO_360K_VLLM } from '@ctxlab/longctx';
import type { AdapterCardInput, ModelCardInput } from './types';

// Card inputs shaped after published models: Gradient's Llama-3-70B-Instruct-Gradient-1048k (its
// four-stage table), 360Zhinao's Llama3-8B-Instruct-360K (its vLLM launch) and BAAI's 80K QLoRA
// adapter. Numbers are the cards' own where they publish them; scores are made up for the tests.

const LENGTHS = [65_536, 262_144, 524_288, 1_048_576];
const DEPTHS = [0, 0.25, 0.5, 0.75, 1];

function niahRows(): HeatmapCellScores[] {
  const rows: HeatmapCellScores[] = [];
  for (const length of LENGTHS) {
    for (const depth of DEPTHS) {
      // One unscored cell, to show the card does not draw it as zero.
      if (length === 1_048_576 && depth === 0.5) rows.push({ length, depth, sum: 0, n: 0, failed: 2 });
      else rows.push({ length, depth, sum: 2 * (100 - (length === 1_048_576 ? 10 * depth : 0)), n: 2 });
    }
  }
  return rows;
}

export const GRADIENT_CARD: ModelCardInput = {
  name: 'llama-3-70b-instruct-gradient-1048k',
  displayName: 'Llama-3 70B Instruct Gradient 1048K',
  description: "Llama-3 70B Instruct with its context extended from 8K to 1048K tokens by raising RoPE's base in four progressive stages.",
  family: 'llama3',
  license: 'llama3',
  hfName: 'gradientai/Llama-3-70B-Instruct-Gradient-1048k',
  tags: ['long-context', 'rope-scaling'],
  languages: ['en'],
  createdAt: new Date('2024-05-06T12:00:00Z'),
  config: { ...LLAMA3_70B, ropeTheta: 3_580_165_449, maxPositionEmbeddings: 1_048_576 },
  parents: [{ name: 'llama-3-70b-instruct', hfName: 'meta-llama/Meta-Llama-3-70B-Instruct', relation: 'context-extension', note: 'progressive RoPE θ schedule' }],
  adapters: [
    { name: 'gradient-1048k-lora-r64', rank: 64, alpha: 128, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], base: 'meta-llama/Meta-Llama-3-70B-Instruct', direction: 'extracted-from' },
  ],
  recipe: {
    name: 'gradient-70b-1048k',
    version: 2,
    method: 'full',
    trainer: 'easycontext',
    stages: [
      { name: '65K', seqLength: 65_536, ropeTheta: 15_296_098, steps: 20, batchTokens: 4_194_304, totalTokens: 83_886_080, learningRate: 2e-5, gpuType: 'L40S', gpus: 512, wallMinutes: 100, result: { label: 'NIAH', value: 100, unit: '%' } },
      { name: '262K', seqLength: 262_144, ropeTheta: 207_112_184, steps: 25, batchTokens: 4_194_304, totalTokens: 104_857_600, learningRate: 2e-5, gpuType: 'L40S', gpus: 512, wallMinutes: 170 },
      { name: '524K', seqLength: 524_288, ropeTheta: 1_062_356_830, steps: 25, batchTokens: 8_388_608, totalTokens: 209_715_200, learningRate: 2e-5, gpuType: 'L40S', gpus: 512, wallMinutes: 284 },
      { name: '1048K', seqLength: 1_048_576, ropeTheta: 3_580_165_449, steps: 8, batchTokens: 4_194_304, totalTokens: 33_554_432, learningRate: 2e-5, gpuType: 'L40S', gpus: 128, wallMinutes: 516, result: { label: 'NIAH', value: 94.37, unit: '%' } },
    ],
  },
  trainingData: [
    { name: 'SlimPajama long documents', uri: 'hf://datasets/cerebras/SlimPajama-627B', tokens: 390_000_000 },
    { name: 'UltraChat long-context chat', uri: 's3://ctxlab-data/ultrachat-long.jsonl', tokens: 37_819_008, note: 'augmented with long context' },
  ],
  evaluations: [
    { suite: 'niah', label: 'NIAH average, 65K–1048K', metric: 'niah_score', value: 98.5, unit: '%', contextLength: 1_048_576, evaluatedAt: '2024-05-10T08:00:00Z', source: { runId: 'run_niah_01' } },
    { suite: 'ruler', label: 'RULER average at 128K', metric: 'ruler_score', value: 83.12, unit: '%', contextLength: 131_072, source: { runId: 'run_ruler_01' } },
    { suite: 'ruler', label: 'RULER niah_multikey_1 at 128K', task: 'niah_multikey_1', metric: 'ruler_score', value: 91.4, unit: '%', contextLength: 131_072, source: { runId: 'run_ruler_01' } },
    {
      suite: 'mmlu',
      label: 'MMLU 5-shot',
      metric: 'accuracy',
      value: 76.4,
      unit: '%',
      shots: 5,
      evaluatedAt: '2024-05-11',
      source: { runId: 'run_mmlu_01', url: 'https://ctxlab.example/evals/run_mmlu_01' },
    },
  ],
  heatmaps: [{ title: 'NIAH 65K–1048K', data: heatmapMatrix(niahRows()) }],
  scorecard: {
    against: 'llama-3-70b-instruct',
    method: '95% bootstrap interval, 2,000 resamples',
    rows: [
      { label: 'MMLU accuracy, 5-shot', model: 76.4, parent: 80.1, difference: -3.7, interval: { low: -4.6, high: -2.8 }, verdict: 'worse', flag: 'short-context regression: 3.70 points below the comparison model (threshold 2)' },
      { label: 'RULER average over tasks', model: 83.12, parent: 41.5, difference: 41.62, interval: { low: 39.9, high: 43.3 }, verdict: 'better', flag: null },
    ],
  },
};

export const ZHINAO_CARD: ModelCardInput = {
  name: 'llama3-8b-instruct-360k',
  displayName: '360Zhinao Llama3-8B-Instruct-360K',
  license: 'other',
  licenseName: 'llama3',
  licenseLink: 'https://llama.meta.com/llama3/license/',
  hfName: 'qihoo360/Llama3-8B-Instruct-360K',
  languages: ['en', 'zh'],
  config: { ...LLAMA3_8B, ropeTheta: 500_000_000, maxPositionEmbeddings: 8192 },
  parents: [{ name: 'llama-3-8b-instruct', hfName: 'meta-llama/Meta-Llama-3-8B-Instruct', relation: 'context-extension' }],
  serving: {
    ...ZHINAO_360K_VLLM,
    maxModelLen: 365_000,
    maxNumBatchedTokens: 365_000,
    gpuType: 'A800-80G',
    notes: ['Chunked prefill is left off: the whole 360K prompt is prefilled in one batch, as 360Zhinao ran it.'],
  },
};

export const BAAI_ADAPTER: AdapterCardInput = {
  name: 'llama-3-8b-instruct-80k-qlora',
  hfName: 'namespace-Pt/Llama-3-8B-Instruct-80K-QLoRA',
  license: 'llama3',
  description: 'QLoRA adapter that extends Llama-3-8B-Instruct to 80K tokens.',
  base: { name: 'llama-3-8b-instruct', hfName: 'meta-llama/Meta-Llama-3-8B-Instruct' },
  rank: 32,
  alpha: 16,
  targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'],
  dropout: 0.05,
  modulesToSave: ['embed_tokens'],
  baseOverrides: { ropeTheta: 200_000_000, maxPositionEmbeddings: 81_920 },
  trainingData: [
    { name: 'LongAlpaca', hfId: 'Yukang/LongAlpaca-12k', samples: 12_000 },
    { name: 'RedPajama', samples: 5000 },
  ],
  evaluations: [{ suite: 'longbench', label: 'LongBench average', metric: 'score', value: 43.1, contextLength: 81_920 }],
};
