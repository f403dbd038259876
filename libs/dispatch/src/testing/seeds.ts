import { BAAI_LLAMA3_8B_80K_QLORA, GRADIENT_70B_1048K, LLAMA3_70B, LLAMA3_8B, ZHINAO_360K_VLLM } from '@ctxlab/longctx';
import { trainSpecFromRecipe, type JobSpecInput, type TrainSpecInput } from '../specs';

// Seed jobs from docs/field-notes.md §1, as ctxlab would dispatch them. Artifact locations are
// illustrative (file:///artifacts/…); the numbers are the published ones.

/** BAAI's training files as their README passes them (`[5000]`: the trainer's own sampling syntax). */
export const BAAI_TRAIN_DATA = [
  'gpt/one_detail_book.train.64K.json',
  'gpt/one_detail_paper.train.64K.json',
  'gpt/multi_detail_book.train.json',
  'gpt/multi_detail_paper_short.train.json',
  'gpt/multi_detail_paper_long.train.json',
  'gpt/bio_book.train.json',
  'longalpaca/train.json',
  'redpajama/train.json[5000]',
].map((f) => `file:///data/long-llm/${f}`);

export const GRADIENT_STAGE_OUTPUT = (name: string) => `file:///artifacts/models/gradient-llama-3-70b/${name}`;

/** Gradient's four progressive stages as train specs; each starts from the previous stage's output. */
export const GRADIENT_TRAIN_SPECS: TrainSpecInput[] = GRADIENT_70B_1048K.stages.map((stage, i) =>
  trainSpecFromRecipe(GRADIENT_70B_1048K, i, {
    model: i === 0 ? 'hf://meta-llama/Meta-Llama-3-70B-Instruct' : GRADIENT_STAGE_OUTPUT(GRADIENT_70B_1048K.stages[i - 1]!.name),
    datasets: [`file:///artifacts/datasets/slimpajama-llama3-${stage.name}`],
    output: GRADIENT_STAGE_OUTPUT(stage.name),
  }),
);

/**
 * BAAI's QLoRA run as published: 8×A800, one sequence per GPU. The trainer no longer runs on more
 * than one GPU (FlagEmbedding issue #919), so renderJob refuses this spec; BAAI_TRAIN_SPEC is the
 * form it renders.
 */
export const BAAI_PUBLISHED_TRAIN_SPEC: TrainSpecInput = trainSpecFromRecipe(BAAI_LLAMA3_8B_80K_QLORA, 0, {
  model: 'hf://meta-llama/Meta-Llama-3-8B-Instruct',
  datasets: BAAI_TRAIN_DATA,
  output: 'file:///artifacts/models/llama-3-8b-instruct-80k-qlora',
});

/** The published run on one GPU: the same 8 sequences per optimizer step, one at a time through 8 accumulation steps. */
export const BAAI_TRAIN_SPEC: TrainSpecInput = {
  ...BAAI_PUBLISHED_TRAIN_SPEC,
  stage: { ...BAAI_PUBLISHED_TRAIN_SPEC.stage, gpus: 1, batchSize: 1, gradientAccumulation: 8 },
};

/** The rank-32 adapter extracted from Gradient's 1048K 70B model (about 800 MB). */
export const GRADIENT_1048K_EXTRACT: JobSpecInput & { kind: 'lora-extract' } = {
  kind: 'lora-extract',
  finetuned: 'hf://gradientai/Llama-3-70B-Instruct-Gradient-1048k',
  base: 'hf://meta-llama/Meta-Llama-3-70B-Instruct',
  output: 'file:///artifacts/adapters/llama-3-70b-1048k-r32',
  maxRank: 32,
};

/** That adapter merged into another Llama-3-70B fine-tune, with the 1048K model's RoPE fields. */
export const GRADIENT_1048K_MERGE: JobSpecInput & { kind: 'lora-merge' } = {
  kind: 'lora-merge',
  target: 'file:///artifacts/models/llama-3-70b-finetune',
  lora: 'file:///artifacts/adapters/llama-3-70b-1048k-r32',
  output: 'file:///artifacts/models/llama-3-70b-finetune-1048k',
  ropeTheta: 3_580_165_449,
  maxPositionEmbeddings: 1_048_576,
};

/**
 * 360Zhinao's published vLLM launch (8×A800-80G). The model's config carries the trained RoPE base
 * (500,000,000) and Llama-3's max_position_embeddings, so only the long-length opt-in is added.
 */
export const ZHINAO_360K_SERVE: JobSpecInput & { kind: 'serve' } = {
  kind: 'serve',
  model: 'hf://qihoo360/Llama3-8B-Instruct-360K',
  servedName: 'llama3-8b-instruct-360k',
  modelConfig: { ...LLAMA3_8B, ropeTheta: 500_000_000 },
  gpuType: 'A800-80G',
  ...ZHINAO_360K_VLLM,
};

/** A serve spec vLLM would refuse: Gradient's 70B at its full 1048K on 4×H100 (it fits on 8). */
export const GRADIENT_1048K_ON_4_H100: JobSpecInput & { kind: 'serve' } = {
  kind: 'serve',
  model: 'hf://gradientai/Llama-3-70B-Instruct-Gradient-1048k',
  servedName: 'llama-3-70b-1048k',
  modelConfig: { ...LLAMA3_70B, ropeTheta: 3_580_165_449, maxPositionEmbeddings: 1_048_576 },
  gpuType: 'H100',
  tensorParallelSize: 4,
  maxModelLen: 1_048_576,
};
