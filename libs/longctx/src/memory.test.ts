import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  kvBytesPerToken,
  kvBytesPerTokenPerGpu,
  kvHeadsPerRank,
  paramCount,
  tensorParallelIssue,
  trainingMemory,
  weightBytes,
  weightBytesPerGpu,
} from './memory';
import { LLAMA3_70B, LLAMA3_8B } from './presets';

describe('field notes §3: parameters and KV bytes, reproduced exactly', () => {
  it('Llama-3-8B has 8,030,261,248 parameters', () => {
    expect(paramCount(LLAMA3_8B).total).toBe(8_030_261_248);
  });

  it('Llama-3-70B has 70,553,706,496 parameters', () => {
    expect(paramCount(LLAMA3_70B).total).toBe(70_553_706_496);
  });

  it('breakdown for 8B: embeddings, untied lm_head, 32 layers, final norm', () => {
    const p = paramCount(LLAMA3_8B);
    expect(p.embedTokens).toBe(128256 * 4096);
    expect(p.lmHead).toBe(128256 * 4096);
    // q 4096², k/v 4096×1024 (8 KV heads × 128), o 4096², MLP 3 × 4096 × 14336, 2 norms.
    expect(p.perLayer.total).toBe(2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 14336 + 2 * 4096);
    expect(p.finalNorm).toBe(4096);
    expect(paramCount({ ...LLAMA3_8B, tieWordEmbeddings: true }).total).toBe(8_030_261_248 - 128256 * 4096);
  });

  it('KV cache bytes per token: 131,072 (8B) and 327,680 (70B) in bf16; fp8 is half', () => {
    expect(kvBytesPerToken(LLAMA3_8B, 'bf16')).toBe(131_072);
    expect(kvBytesPerToken(LLAMA3_70B, 'bf16')).toBe(327_680);
    expect(kvBytesPerToken(LLAMA3_8B, 'fp8')).toBe(65_536);
    expect(kvBytesPerToken(LLAMA3_70B, 'fp8')).toBe(163_840);
  });

  it('weight bytes by dtype', () => {
    expect(weightBytes(LLAMA3_8B)).toBe(2 * 8_030_261_248);
    expect(weightBytes(LLAMA3_70B, 'fp8')).toBe(70_553_706_496);
    expect(weightBytes(LLAMA3_70B, 'int4')).toBe(70_553_706_496 / 2);
  });
});

describe('tensor parallelism', () => {
  it('splits KV heads across ranks, and replicates them once tp > kvHeads', () => {
    expect(kvBytesPerTokenPerGpu(LLAMA3_8B, 1)).toBe(131_072);
    expect(kvBytesPerTokenPerGpu(LLAMA3_8B, 2)).toBe(65_536);
    expect(kvBytesPerTokenPerGpu(LLAMA3_8B, 8)).toBe(16_384);
    // TP 16 or 32: each rank still holds one whole KV head (replicated on tp/8 ranks).
    expect(kvHeadsPerRank(8, 16)).toBe(1);
    expect(kvBytesPerTokenPerGpu(LLAMA3_70B, 16)).toBe(kvBytesPerTokenPerGpu(LLAMA3_70B, 8));
  });

  it('names the TP sizes vLLM rejects', () => {
    expect(tensorParallelIssue(LLAMA3_8B, 8)).toBeNull();
    expect(tensorParallelIssue(LLAMA3_8B, 16)).toBeNull();
    expect(tensorParallelIssue(LLAMA3_8B, 3)).toMatch(/numAttentionHeads 32 is not divisible/);
    expect(tensorParallelIssue({ numAttentionHeads: 48, numKeyValueHeads: 8 }, 12)).toMatch(/neither split nor replicated/);
  });

  it('shards weights: vocab-parallel embeddings, replicated norms and (past kvHeads) k/v', () => {
    const total = weightBytes(LLAMA3_8B);
    expect(weightBytesPerGpu(LLAMA3_8B, 1)).toBe(total);
    const tp8 = weightBytesPerGpu(LLAMA3_8B, 8);
    expect(tp8).toBeGreaterThan(total / 8);
    expect(tp8).toBeLessThan(total / 8 + 2 * 32 * 2 * 4096 + 2 * 4096);
    expect(() => weightBytesPerGpu(LLAMA3_8B, 3)).toThrow(/not divisible/);
  });

  it('property: more GPUs never give more KV (or weights) per GPU', () => {
    const cfg = fc
      .record({
        numLayers: fc.integer({ min: 1, max: 128 }),
        kvLog2: fc.integer({ min: 0, max: 4 }),
        groupLog2: fc.integer({ min: 0, max: 3 }),
        headDim: fc.constantFrom(64, 128),
        intermediateSize: fc.integer({ min: 256, max: 65536 }),
        vocabSize: fc.integer({ min: 1000, max: 256000 }),
      })
      .map((r) => {
        const kv = 2 ** r.kvLog2;
        const heads = kv * 2 ** r.groupLog2;
        return { ...r, numKeyValueHeads: kv, numAttentionHeads: heads, hiddenSize: heads * r.headDim };
      });
    fc.assert(
      fc.property(cfg, fc.constantFrom('bf16', 'fp8', 'fp32') as fc.Arbitrary<'bf16' | 'fp8' | 'fp32'>, (c, dtype) => {
        let prevKv = Infinity;
        let prevW = Infinity;
        for (let tp = 1; tp <= 64; tp *= 2) {
          const kv = kvBytesPerTokenPerGpu(c, tp, dtype);
          expect(kv).toBeLessThanOrEqual(prevKv);
          prevKv = kv;
          if (tensorParallelIssue(c, tp) === null) {
            const w = weightBytesPerGpu(c, tp, dtype);
            expect(w).toBeLessThanOrEqual(prevW);
            prevW = w;
          }
        }
        // Any integer TP, not just powers of two.
        for (let tp = 1; tp < 40; tp++) expect(kvBytesPerTokenPerGpu(c, tp + 1, dtype)).toBeLessThanOrEqual(kvBytesPerTokenPerGpu(c, tp, dtype));
      }),
      { numRuns: 100 },
    );
  });
});

describe('training memory under ring attention', () => {
  it('Gradient 1048K stage: 70B, 2^20 tokens over 128 GPUs, ZeRO-3', () => {
    const m = trainingMemory(LLAMA3_70B, { seqLength: 2 ** 20, ringGpus: 128 });
    expect(m.tokensPerGpu).toBe(8192);
    expect(m.modelStates).toBe((16 * 70_553_706_496) / 128);
    expect(m.checkpoints).toBe(8192 * 80 * 8192 * 2);
    expect(m.logits).toBe(8192 * 128256 * 10);
    expect(m.total).toBe(m.modelStates + m.gatheredParams + m.checkpoints + m.layerActivations + m.ringBuffers + m.logits + m.overhead);
    // About 36 GiB per GPU: inside an L40S's 48 GB, which is what Gradient trained on.
    expect(m.total / 2 ** 30).toBeGreaterThan(30);
    expect(m.total / 2 ** 30).toBeLessThan(44);
    expect(m.assumptions.length).toBeGreaterThan(3);
  });

  it('without checkpointing every layer keeps its activations', () => {
    const a = trainingMemory(LLAMA3_8B, { seqLength: 65536, ringGpus: 8 });
    const b = trainingMemory(LLAMA3_8B, { seqLength: 65536, ringGpus: 8, activationCheckpointing: false });
    expect(b.checkpoints).toBe(0);
    expect(b.layerActivations).toBe(a.layerActivations * 32);
  });

  it('property: more ring GPUs never need more memory per GPU; longer sequences never need less', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 256 }), fc.integer({ min: 1, max: 2 ** 21 }), (g, len) => {
        const a = trainingMemory(LLAMA3_8B, { seqLength: len, ringGpus: g });
        expect(trainingMemory(LLAMA3_8B, { seqLength: len, ringGpus: g + 1 }).total).toBeLessThanOrEqual(a.total);
        expect(trainingMemory(LLAMA3_8B, { seqLength: len + 1, ringGpus: g }).total).toBeGreaterThanOrEqual(a.total);
      }),
      { numRuns: 100 },
    );
  });
});
