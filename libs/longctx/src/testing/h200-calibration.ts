import type { ModelConfig } from '@ctxlab/contracts';
import { LLAMA3_8B } from '../presets';

// Measurements from one NVIDIA H200 (PyTorch 2.11, transformers, SDPA on cuDNN, batch 1, a
// Llama-3-8B-shaped model cut to 4 layers, bf16 weights and AdamW states): implied MFU by the
// planner's own FLOPs formula was 0.58 / 0.59 / 0.63 / 0.67 at 8K / 16K / 32K / 64K with gradient
// checkpointing (0.44–0.58 counting parameters without the embedding), and 0.68–0.75 without
// checkpointing; peak memory 23.1 / 35.3 / 59.8 / 108.8 GiB where the planner predicted
// 43.0 / 54.4 / 77.2 / 122.7 GiB (its 16 bytes per parameter assume fp32 master weights; with fp32
// master weights and bf16 autocast at 16K the measurement was 47.7 GiB against 54.4). KV cache for
// prefill at 32K and 128K matched `kvBytesPerToken` exactly.

/** Llama-3-8B with num_hidden_layers = 4: 1,923,125,248 parameters, 27% of them in embed_tokens. */
export const H200_MODEL: ModelConfig = { ...LLAMA3_8B, numLayers: 4 };

/** The four training lengths, in tokens. */
export const H200_LENGTHS = [8192, 16384, 32768, 65536] as const;

/** Peak memory with bf16 weights and AdamW states, GiB, per length. */
export const H200_PEAK_GIB_BF16 = [23.1, 35.3, 59.8, 108.8] as const;

/** Peak memory with fp32 master weights and bf16 autocast, GiB, at 16K only. */
export const H200_PEAK_GIB_FP32_MASTER_16K = 47.7;

/** What the planner predicted before optimizer precision was an input (16 bytes/param), GiB, per length. */
export const H200_PLANNER_BEFORE_GIB = [43.0, 54.4, 77.2, 122.7] as const;

/** Implied MFU with gradient checkpointing, embeddings in N, per length. */
export const H200_MFU_CHECKPOINTED = [0.58, 0.59, 0.63, 0.67] as const;

/** Implied MFU with gradient checkpointing, the embedding left out of N: the range reported over 8K–64K. */
export const H200_MFU_CHECKPOINTED_WITHOUT_EMBEDDINGS = { min: 0.44, max: 0.58 } as const;

/** Implied MFU without checkpointing, embeddings in N: the range reported over the four lengths. */
export const H200_MFU_NO_CHECKPOINTING = { min: 0.68, max: 0.75 } as const;

/** Prefill lengths at which the measured KV cache equalled `kvBytesPerToken` × length. */
export const H200_KV_PREFILL_LENGTHS = [32768, 131072] as const;
