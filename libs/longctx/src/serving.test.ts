import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findGpu } from './budget';
import { LLAMA3_70B, LLAMA3_8B } from './presets';
import { planServing, smallestTensorParallelSize, tensorParallelCandidates, vllmCommand } from './serving';
import { ZHINAO_360K_SERVING as ZHINAO } from './testing/serving';

const GiB = 2 ** 30;

describe('360Zhinao launch line (field notes §1)', () => {
  it('fits: Llama-3-8B, 8×A800-80G, TP 8, util 0.6, max-model-len 365000', () => {
    const p = planServing(ZHINAO);
    expect(p.fits).toBe(true);
    expect(p.problems).toEqual([]);
    // One KV head per rank at TP 8: 2 × 32 layers × 1 × 128 × 2 bytes.
    expect(p.perGpu.kvBytesPerToken).toBe(16_384);
    expect(p.perGpu.kvHeads).toBe(1);
    expect(p.perGpu.usableBytes).toBe(0.6 * 80 * GiB);
    expect(p.kvCacheTokens).toBeGreaterThanOrEqual(365000);
    expect(p.concurrentFullLengthSequences).toBeGreaterThanOrEqual(1);
    expect(p.maxModelLenThatFits).toBeGreaterThanOrEqual(365000);
  });

  it('emits the published flags and env, plus the RoPE override and long-length opt-in', () => {
    const { args, env, shell } = planServing(ZHINAO).command;
    const flag = (name: string) => args[args.indexOf(name) + 1];
    expect(args.slice(0, 3)).toEqual(['vllm', 'serve', 'qihoo360/Llama3-8B-Instruct-360K']);
    expect(flag('--tensor-parallel-size')).toBe('8');
    expect(flag('--gpu-memory-utilization')).toBe('0.6');
    expect(flag('--max-model-len')).toBe('365000');
    expect(flag('--max-num-batched-tokens')).toBe('365000');
    expect(flag('--max-num-seqs')).toBe('32');
    expect(args).toContain('--enforce-eager');
    expect(args).toContain('--trust-remote-code');
    expect(args).not.toContain('--enable-chunked-prefill');
    expect(args).not.toContain('--kv-cache-dtype');
    expect(JSON.parse(flag('--hf-overrides')!)).toEqual({ rope_theta: 500_000_000, max_position_embeddings: 365000 });
    expect(env).toEqual({ PYTORCH_CUDA_ALLOC_CONF: 'max_split_size_mb:256', VLLM_ALLOW_LONG_MAX_MODEL_LEN: '1' });
    expect(shell).toBe(
      "PYTORCH_CUDA_ALLOC_CONF=max_split_size_mb:256 VLLM_ALLOW_LONG_MAX_MODEL_LEN=1 vllm serve qihoo360/Llama3-8B-Instruct-360K " +
        '--tensor-parallel-size 8 --max-model-len 365000 --gpu-memory-utilization 0.6 --max-num-batched-tokens 365000 --max-num-seqs 32 ' +
        `--enforce-eager --trust-remote-code --hf-overrides '{"rope_theta":500000000,"max_position_embeddings":365000}'`,
    );
  });

  it('no --hf-overrides when the config already has the serving theta', () => {
    const cmd = vllmCommand({ ...ZHINAO, model: { ...LLAMA3_8B, ropeTheta: 500_000_000 } });
    expect(cmd.args).not.toContain('--hf-overrides');
    expect(cmd.env.VLLM_ALLOW_LONG_MAX_MODEL_LEN).toBe('1');
  });
});

describe('serving plans', () => {
  const h100 = findGpu('H100')!.memoryGiB;

  it('Llama-3-70B at 1,048,576 tokens fits 8×H100 at TP 8, and TP 8 is the smallest that does', () => {
    const p = planServing({ model: LLAMA3_70B, modelName: 'gradientai/Llama-3-70B-Instruct-Gradient-1048k', gpuMemoryGiB: h100, tensorParallelSize: 8, maxModelLen: 1_048_576 });
    expect(p.fits).toBe(true);
    expect(p.perGpu.kvBytesPerToken).toBe(327_680 / 8);
    expect(p.smallestFittingTensorParallelSize).toBe(8);
    expect(p.maxNumBatchedTokens).toBe(8192);
    expect(p.command.args).toContain('--enable-chunked-prefill');
    expect(p.command.args[p.command.args.indexOf('--max-num-batched-tokens') + 1]).toBe('8192');
    expect(p.command.env).toEqual({ VLLM_ALLOW_LONG_MAX_MODEL_LEN: '1' });
  });

  it('reports what vLLM would refuse, and the longest length that would fit', () => {
    const p = planServing({ model: LLAMA3_70B, modelName: 'm', gpuMemoryGiB: h100, tensorParallelSize: 4, maxModelLen: 1_048_576 });
    expect(p.fits).toBe(false);
    expect(p.problems[0]).toMatch(/vLLM will refuse to start/);
    expect(p.maxModelLenThatFits).toBeLessThan(1_048_576);
    expect(p.maxModelLenThatFits).toBeGreaterThan(0);
    expect(planServing({ model: LLAMA3_70B, modelName: 'm', gpuMemoryGiB: h100, tensorParallelSize: 4, maxModelLen: p.maxModelLenThatFits }).fits).toBe(true);
    expect(planServing({ model: LLAMA3_70B, modelName: 'm', gpuMemoryGiB: h100, tensorParallelSize: 4, maxModelLen: p.maxModelLenThatFits + 1 }).fits).toBe(false);
  });

  it('weights that do not fit at all leave no KV cache', () => {
    const p = planServing({ model: LLAMA3_70B, modelName: 'm', gpuMemoryGiB: 80, tensorParallelSize: 1, maxModelLen: 8192 });
    expect(p.fits).toBe(false);
    expect(p.perGpu.kvCacheBytes).toBeLessThan(0);
    expect(p.maxModelLenThatFits).toBe(0);
    expect(p.concurrentFullLengthSequences).toBe(0);
    expect(p.problems[0]).toMatch(/no memory left for the KV cache/);
  });

  it('fp8 KV cache halves bytes per token and adds --kv-cache-dtype fp8', () => {
    const base = { model: LLAMA3_8B, modelName: 'm', gpuMemoryGiB: h100, tensorParallelSize: 1, maxModelLen: 262144 };
    const a = planServing(base);
    const b = planServing({ ...base, kvCacheDtype: 'fp8' });
    expect(b.perGpu.kvBytesPerToken).toBe(a.perGpu.kvBytesPerToken / 2);
    expect(b.command.args).toContain('--kv-cache-dtype');
    expect(b.maxModelLenThatFits).toBeGreaterThan(a.maxModelLenThatFits);
  });

  it('without chunked prefill, batched tokens follow max-model-len and a smaller value is flagged', () => {
    const base = { model: LLAMA3_8B, modelName: 'm', gpuMemoryGiB: h100, tensorParallelSize: 1, maxModelLen: 65536, enableChunkedPrefill: false };
    expect(planServing(base).maxNumBatchedTokens).toBe(65536);
    expect(planServing({ ...base, maxNumBatchedTokens: 8192 }).problems.join(' ')).toMatch(/requires max-num-batched-tokens/);
  });

  it('TP candidates are powers of two vLLM accepts', () => {
    expect(tensorParallelCandidates(LLAMA3_8B)).toEqual([1, 2, 4, 8, 16, 32]);
    expect(tensorParallelCandidates({ numAttentionHeads: 40, numKeyValueHeads: 40 })).toEqual([1, 2, 4, 8]);
    expect(smallestTensorParallelSize({ model: LLAMA3_70B, modelName: 'm', gpuMemoryGiB: h100, maxModelLen: 1_048_576 }, 4)).toBeNull();
    expect(() => planServing({ model: LLAMA3_8B, modelName: 'm', gpuMemoryGiB: 80, tensorParallelSize: 3, maxModelLen: 8192 })).toThrow(/not divisible/);
  });

  it('an fp32 checkpoint is served in fp16 (vLLM --dtype auto)', () => {
    const p = planServing({ model: { ...LLAMA3_8B, dtype: 'fp32' }, modelName: 'm', gpuMemoryGiB: h100, tensorParallelSize: 1, maxModelLen: 8192 });
    expect(p.weightDtype).toBe('fp16');
    expect(p.perGpu.weightBytes).toBe(2 * 8_030_261_248);
  });

  it('property: a plan that fits at length L fits at every shorter length', () => {
    const input = fc.record({
      model: fc.constantFrom(LLAMA3_8B, LLAMA3_70B),
      gpuMemoryGiB: fc.constantFrom(24, 44.99, 80, 140.4),
      tensorParallelSize: fc.constantFrom(1, 2, 4, 8, 16),
      gpuMemoryUtilization: fc.double({ min: 0.3, max: 0.98, noNaN: true }),
      kvCacheDtype: fc.constantFrom('auto', 'bf16', 'fp8') as fc.Arbitrary<'auto' | 'bf16' | 'fp8'>,
      enableChunkedPrefill: fc.boolean(),
    });
    fc.assert(
      fc.property(input, fc.integer({ min: 1, max: 4_000_000 }), fc.integer({ min: 1, max: 4_000_000 }), (i, a, b) => {
        const [shorter, longer] = a < b ? [a, b] : [b, a];
        const at = (len: number) => planServing({ ...i, modelName: 'm', maxModelLen: len });
        const p = at(longer);
        if (p.fits) expect(at(shorter).fits).toBe(true);
        // The longest length that fits is consistent with `fits`.
        if (p.maxModelLenThatFits > 0) expect(at(p.maxModelLenThatFits).fits).toBe(true);
        expect(at(p.maxModelLenThatFits + 1).fits).toBe(false);
      }),
      { numRuns: 60 },
    );
  });
});
