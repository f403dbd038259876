import { modelConfigSchema } from '@ctxlab/contracts';
import { describe, expect, it } from 'vitest';
import { moduleShape, loraSize } from './adapter';
import { flopsPerToken } from './budget';
import { kvBytesPerToken, layerParams, paramCount, tiedEmbeddings, trainingMemory, weightBytes, weightBytesPerGpu, windowedKvBytes } from './memory';
import { GEMMA2_9B, LLAMA3_8B, MISTRAL_7B_V02, QWEN2_7B } from './presets';
import { planServing } from './serving';

describe('parameter counts per family, exact', () => {
  it('Mistral-7B-v0.2 is Llama maths: 7,241,732,096', () => {
    expect(paramCount(MISTRAL_7B_V02).total).toBe(7_241_732_096);
    expect(paramCount({ ...MISTRAL_7B_V02, architecture: 'llama' }).total).toBe(7_241_732_096);
  });

  it('Qwen2-7B adds q/k/v biases (o_proj has none): 7,615,616,512', () => {
    const l = layerParams(QWEN2_7B);
    expect(l.qProj).toBe(3584 * 3584 + 3584);
    expect(l.kProj).toBe(3584 * 512 + 512);
    expect(l.vProj).toBe(3584 * 512 + 512);
    expect(l.oProj).toBe(3584 * 3584);
    expect(paramCount(QWEN2_7B).total).toBe(7_615_616_512);
    // The biases are the family's: attentionBias cannot take them away.
    expect(paramCount({ ...QWEN2_7B, attentionBias: undefined }).total).toBe(7_615_616_512);
  });

  it('Gemma-2-9B: tied embeddings, 4 RMSNorms per layer and a final norm, q/o 3584 ↔ 16 × 256: 9,241,705,984', () => {
    const p = paramCount(GEMMA2_9B);
    expect(p.lmHead).toBe(0);
    expect(p.perLayer.norms).toBe(4 * 3584);
    expect(p.perLayer.qProj).toBe(3584 * 4096);
    expect(p.finalNorm).toBe(3584);
    expect(p.total).toBe(9_241_705_984);
    // Tied by the family's default when the shape does not say.
    const { tieWordEmbeddings: _, ...untold } = GEMMA2_9B;
    expect(tiedEmbeddings(untold)).toBe(true);
    expect(paramCount(untold).total).toBe(9_241_705_984);
    expect(weightBytes(GEMMA2_9B)).toBe(4 * 9_241_705_984);
  });

  it('Llama with attention_bias counts q/k/v and o biases; the published Llama numbers do not move', () => {
    expect(paramCount(LLAMA3_8B).total).toBe(8_030_261_248);
    expect(paramCount({ ...LLAMA3_8B, attentionBias: true }).total).toBe(8_030_261_248 + 32 * (4096 + 1024 + 1024 + 4096));
  });
});

describe('KV cache per token, and what sliding windows would save', () => {
  it('counts every layer at full length, sliding ones too (vLLM allocates it so)', () => {
    expect(kvBytesPerToken(MISTRAL_7B_V02)).toBe(131_072);
    expect(kvBytesPerToken(QWEN2_7B)).toBe(2 * 28 * 4 * 128 * 2);
    expect(kvBytesPerToken(GEMMA2_9B)).toBe(2 * 42 * 8 * 256 * 2);
  });

  it('windowedKvBytes: Gemma-2-9B at 8K keeps 21 local layers at 4,096 tokens', () => {
    const perLayerToken = 2 * 8 * 256 * 2;
    expect(windowedKvBytes(GEMMA2_9B, 8192)).toBe(perLayerToken * (21 * 8192 + 21 * 4096));
    expect(windowedKvBytes(GEMMA2_9B, 1000)).toBe(kvBytesPerToken(GEMMA2_9B) * 1000);
    expect(windowedKvBytes(LLAMA3_8B, 8192)).toBe(kvBytesPerToken(LLAMA3_8B) * 8192);
    expect(windowedKvBytes({ ...MISTRAL_7B_V02, slidingWindow: 4096 }, 32768)).toBe(kvBytesPerToken(MISTRAL_7B_V02) * 4096);
  });
});

describe('the planners take the families through', () => {
  it('weights per GPU shard the biases with their matrices and keep o_proj biases whole', () => {
    expect(weightBytesPerGpu(QWEN2_7B, 1)).toBe(weightBytes(QWEN2_7B));
    expect(weightBytesPerGpu(GEMMA2_9B, 1)).toBe(weightBytes(GEMMA2_9B));
    const biased = { ...LLAMA3_8B, attentionBias: true };
    expect(weightBytesPerGpu(biased, 1)).toBe(weightBytes(biased));
    // At TP 2 the only difference the o_proj bias makes is that it is not split.
    expect(weightBytesPerGpu(biased, 2) - weightBytesPerGpu(LLAMA3_8B, 2)).toBe(2 * 32 * ((4096 + 1024 + 1024) / 2 + 4096));
  });

  it('plans vLLM serving for Gemma2 and Qwen2', () => {
    const g = planServing({ model: GEMMA2_9B, modelName: 'google/gemma-2-9b', gpuMemoryGiB: 80, tensorParallelSize: 1, maxModelLen: 8192 });
    expect(g.weightDtype).toBe('fp16');
    expect(g.perGpu.weightBytes).toBe(2 * 9_241_705_984);
    expect(g.perGpu.kvBytesPerToken).toBe(344_064);
    expect(g.fits).toBe(true);
    const q = planServing({ model: QWEN2_7B, modelName: 'Qwen/Qwen2-7B-Instruct', gpuMemoryGiB: 80, tensorParallelSize: 4, maxModelLen: 32768 });
    expect(q.perGpu.kvHeads).toBe(1);
  });

  it('LoRA shapes follow heads × headDim (Gemma2) and training memory counts Gemma2’s extra norms', () => {
    expect(moduleShape(GEMMA2_9B, 'q_proj')).toEqual({ module: 'q_proj', inFeatures: 3584, outFeatures: 4096, count: 42 });
    expect(moduleShape(GEMMA2_9B, 'o_proj')).toEqual({ module: 'o_proj', inFeatures: 4096, outFeatures: 3584, count: 42 });
    expect(loraSize(QWEN2_7B, { rank: 8, targetModules: ['q_proj'] }).params).toBe(8 * (3584 + 3584) * 28);
    const g = trainingMemory(GEMMA2_9B, { seqLength: 8192, ringGpus: 1, activationCheckpointing: false });
    const asLlama = trainingMemory({ ...GEMMA2_9B, architecture: 'llama', tieWordEmbeddings: true }, { seqLength: 8192, ringGpus: 1, activationCheckpointing: false });
    expect(g.layerActivations - asLlama.layerActivations).toBe(8192 * 2 * 3584 * 2 * 42);
  });

  it('FLOPs: the attention term uses heads × headDim, which is 4096 for Gemma-2-9B', () => {
    expect(flopsPerToken(GEMMA2_9B, 8192).attention).toBe(12 * 42 * 4096 * 8192);
    // Tied: no separate lookup matrix to take out.
    const f = flopsPerToken(GEMMA2_9B, 8192);
    expect(f.withoutEmbeddings).toBe(f.total);
  });
});

describe('contracts: the family rules of modelConfigSchema', () => {
  it('accepts every preset', () => {
    for (const c of [LLAMA3_8B, MISTRAL_7B_V02, QWEN2_7B, GEMMA2_9B]) expect(modelConfigSchema.safeParse(c).error?.issues ?? []).toEqual([]);
  });

  it('stored configs without the new fields parse to what they did', () => {
    const { attentionBias: _a, slidingWindow: _s, ...old } = modelConfigSchema.parse(LLAMA3_8B);
    expect(modelConfigSchema.parse(old)).toEqual(old);
    expect('attentionBias' in modelConfigSchema.parse(old)).toBe(false);
  });

  it('hidden = heads × headDim holds for llama and qwen2, not for gemma2 or mistral (Mistral-Nemo: 32 × 128 ≠ 5120)', () => {
    expect(modelConfigSchema.safeParse({ ...QWEN2_7B, headDim: 64 }).error?.issues[0]?.message).toBe(
      'hiddenSize 3584 must equal numAttentionHeads × headDim = 28 × 64 = 1792 for a qwen2 model',
    );
    expect(modelConfigSchema.safeParse({ ...MISTRAL_7B_V02, hiddenSize: 5120, numLayers: 40, vocabSize: 131072 }).success).toBe(true);
  });

  it('refuses what a family cannot be, naming the field', () => {
    const issue = (c: object) => modelConfigSchema.safeParse(c).error?.issues.map((i) => [i.path[0], i.message]);
    expect(issue({ ...GEMMA2_9B, tieWordEmbeddings: false })).toEqual([['tieWordEmbeddings', 'tieWordEmbeddings must be true for a gemma2 model: Gemma2 ties lm_head to embed_tokens']]);
    expect(issue({ ...QWEN2_7B, attentionBias: false })).toEqual([['attentionBias', 'attentionBias false is not possible for a qwen2 model: its q/k/v projections always have biases']]);
    expect(issue({ ...MISTRAL_7B_V02, attentionBias: true })).toEqual([['attentionBias', 'attentionBias true is not possible for a mistral model: its q/k/v projections never have biases']]);
    expect(issue({ ...LLAMA3_8B, slidingWindow: 4096 })).toEqual([['slidingWindow', 'slidingWindow 4096 is not possible for a llama model: it has no sliding-window attention']]);
    expect(issue({ ...LLAMA3_8B, architecture: 'mamba' })?.[0]?.[0]).toBe('architecture');
  });
});
