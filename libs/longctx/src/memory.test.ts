import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  kvBytesPerToken,
  kvBytesPerTokenPerGpu,
  kvHeadsPerRank,
  optimizerBytesPerParam,
  OPTIMIZER_STATE_BYTES,
  paramCount,
  tensorParallelIssue,
  trainingMemory,
  weightBytes,
  weightBytesPerGpu,
} from './memory';
import { LLAMA3_70B, LLAMA3_8B } from './presets';
import {
  H200_KV_PREFILL_LENGTHS,
  H200_LENGTHS,
  H200_MODEL,
  H200_PEAK_GIB_BF16,
  H200_PEAK_GIB_FP32_MASTER_16K,
  H200_PLANNER_BEFORE_GIB,
} from './testing/h200-calibration';

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

describe('optimizer precision, against one H200 (4-layer Llama-3-8B, batch 1, checkpointing)', () => {
  const GiB = 2 ** 30;
  const at = (precision: 'fp32-master' | 'bf16') => H200_LENGTHS.map((seqLength) => trainingMemory(H200_MODEL, { seqLength, ringGpus: 1, optimizerPrecision: precision }));
  const fp32 = at('fp32-master');
  const bf16 = at('bf16');
  const params = 1_923_125_248;

  it('bytes per parameter are the sum of what each precision holds: 16 and 8', () => {
    expect(OPTIMIZER_STATE_BYTES['fp32-master']).toEqual({ weights: 2, gradients: 2, masterWeights: 4, adamM: 4, adamV: 4 });
    expect(OPTIMIZER_STATE_BYTES.bf16).toEqual({ weights: 2, gradients: 2, masterWeights: 0, adamM: 2, adamV: 2 });
    expect(optimizerBytesPerParam('fp32-master')).toBe(16);
    expect(optimizerBytesPerParam('bf16')).toBe(8);
    expect(paramCount(H200_MODEL).total).toBe(params);
    // The default is unchanged: 16 bytes/param.
    expect(trainingMemory(H200_MODEL, { seqLength: 8192, ringGpus: 1 }).total).toBe(fp32[0]!.total);
    expect(fp32[0]!.modelStates).toBe(16 * params);
    expect(bf16[0]!.modelStates).toBe(8 * params);
    expect(bf16[0]!.bytesPerParam).toBe(8);
    expect(bf16[0]!.assumptions[1]).toBe('ZeRO-3 over 1 GPU: 8 bytes/param (bf16 weights, gradients, AdamW m and v, 2 each; no master copy)');
  });

  it('reproduces the earlier 43.0 / 54.4 / 77.2 / 122.7 GiB once the ring buffers a one-GPU ring does not have are added back', () => {
    // Before, a ring of one GPU was charged 2 × 2 × tokens × kvDim × 2 bytes of K/V blocks in flight.
    const before = fp32.map((m, i) => (m.total + 2 * 2 * H200_LENGTHS[i]! * 1024 * 2) / GiB);
    expect(before.map((g) => Number(g.toFixed(1)))).toEqual([...H200_PLANNER_BEFORE_GIB]);
    expect(fp32.every((m) => m.ringBuffers === 0)).toBe(true);
    expect(trainingMemory(H200_MODEL, { seqLength: 8192, ringGpus: 2 }).ringBuffers).toBe(2 * 2 * 4096 * 1024 * 2);
  });

  it("the planner's own figures at 8K / 16K / 32K / 64K, in bytes", () => {
    expect(fp32.map((m) => m.total)).toEqual([46_119_059_456, 58_269_958_144, 82_571_755_520, 131_175_350_272]);
    expect(bf16.map((m) => m.total)).toEqual([30_734_057_472, 42_884_956_160, 67_186_753_536, 115_790_348_288]);
    // In GiB: fp32 master 42.95 / 54.27 / 76.90 / 122.17; bf16 28.62 / 39.94 / 62.57 / 107.84.
    expect(fp32.map((m) => Number((m.total / GiB).toFixed(2)))).toEqual([42.95, 54.27, 76.9, 122.17]);
    expect(bf16.map((m) => Number((m.total / GiB).toFixed(2)))).toEqual([28.62, 39.94, 62.57, 107.84]);
  });

  it('bf16 is within 5% of the H200 at 32K and 64K; at 8K and 16K it is 24% and 13% high, and fp32 master is 14% high at 16K', () => {
    const err = bf16.map((m, i) => m.total / GiB / H200_PEAK_GIB_BF16[i]! - 1);
    expect(err.map((e) => Number((100 * e).toFixed(1)))).toEqual([23.9, 13.1, 4.6, -0.9]);
    expect(Math.abs(err[2]!)).toBeLessThan(0.05);
    expect(Math.abs(err[3]!)).toBeLessThan(0.05);
    expect(Number((100 * (fp32[1]!.total / GiB / H200_PEAK_GIB_FP32_MASTER_16K - 1)).toFixed(1))).toBe(13.8);
    // Why: the fixed part the planner counts for bf16 (8 bytes/param, a ZeRO-3 gather buffer, 2 GiB
    // overhead) is 17.31 GiB, while the measured line 32K → 64K meets zero tokens at 10.80 GiB, which
    // is 6 bytes/param: one GPU without ZeRO peaks at the loss backward, before any gradient exists.
    const fixed = (8 * params + bf16[0]!.gatheredParams + bf16[0]!.overhead) / GiB;
    expect(Number(fixed.toFixed(2))).toBe(17.31);
    const slope = ((H200_PEAK_GIB_BF16[3] - H200_PEAK_GIB_BF16[2]) * GiB) / (65536 - 32768);
    expect(Math.round(slope)).toBe(1_605_632);
    const measuredFixed = H200_PEAK_GIB_BF16[2] - (32768 * slope) / GiB;
    expect(Number(measuredFixed.toFixed(2))).toBe(10.8);
    // The 6.51 GiB gap is the gradients (2 bytes/param, 3.58 GiB), the gather buffer (0.98) and the overhead (2): 6.56.
    expect(Number((fixed - measuredFixed).toFixed(2))).toBe(6.51);
    expect(Number(((2 * params + bf16[0]!.gatheredParams + bf16[0]!.overhead) / GiB).toFixed(2))).toBe(6.56);
    // And the per-token part the planner counts (checkpoints, one layer's activations, logits) is
    // 1,483,264 bytes/token, 7.6% under the measured 1,605,632: past 64K the estimate falls short.
    const perToken = (bf16[3]!.checkpoints + bf16[3]!.layerActivations + bf16[3]!.logits) / 65536;
    expect(perToken).toBe(1_483_264);
    expect(Number((100 * (perToken / slope - 1)).toFixed(1))).toBe(-7.6);
  });

  it('KV cache at the prefill lengths the H200 measured: kvBytesPerToken × length', () => {
    expect(kvBytesPerToken(H200_MODEL)).toBe(16_384);
    expect(H200_KV_PREFILL_LENGTHS.map((l) => (kvBytesPerToken(H200_MODEL) * l) / GiB)).toEqual([0.5, 2]);
  });
});
