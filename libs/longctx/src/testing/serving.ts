import { findGpu } from '../budget';
import { LLAMA3_8B, ZHINAO_360K_VLLM } from '../presets';
import type { ServingInput } from '../serving';

/** 360Zhinao's published launch (field notes §1): Llama3-8B-Instruct-360K on 8×A800-80G, TP 8, util 0.6, max-model-len 365000. */
export const ZHINAO_360K_SERVING: ServingInput = {
  ...ZHINAO_360K_VLLM,
  model: LLAMA3_8B,
  modelName: 'qihoo360/Llama3-8B-Instruct-360K',
  gpuMemoryGiB: findGpu('A800-80G')!.memoryGiB,
  ropeTheta: 500_000_000,
};
