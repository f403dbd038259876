import { describe, expect, it } from 'vitest';
import { loraSize, moduleShape, resolveTargetModules } from './adapter';
import { LLAMA3_70B, LLAMA3_8B } from './presets';

const ALL7 = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

describe('LoRA adapter size', () => {
  it('rank 32 on all 7 projections of Llama-3-70B: 414,187,520 params, 828,375,040 bytes in bf16', () => {
    // By hand, per layer, r·(in + out) with r = 32:
    //   q 32·(8192+8192) = 524,288    k 32·(8192+1024) = 294,912    v 294,912    o 524,288
    //   gate, up, down 32·(8192+28672) = 1,179,648 each
    //   = 5,177,344 per layer × 80 layers = 414,187,520.
    // In bf16 that is 828,375,040 bytes ≈ 828 MB (790 MiB): the field notes' "about 800 MB"
    // for Gradient's extracted rank-32 70B adapters.
    const s = loraSize(LLAMA3_70B, { rank: 32, targetModules: ALL7, dtype: 'bf16' });
    expect(s.params).toBe(414_187_520);
    expect(s.bytes).toBe(828_375_040);
    expect(s.modules.find((m) => m.module === 'k_proj')?.paramsEach).toBe(294_912);
    expect(loraSize(LLAMA3_70B, { rank: 32, targetModules: ['all-linear'] }).params).toBe(414_187_520);
  });

  it('BAAI 8B recipe: rank 32 on q,k,v,o', () => {
    // Per layer 32·(4096+4096)·2 + 32·(4096+1024)·2 = 524,288 + 327,680 = 851,968; × 32 layers.
    const s = loraSize(LLAMA3_8B, { rank: 32, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] });
    expect(s.params).toBe(27_262_976);
    expect(s.bytes).toBe(54_525_952);
  });

  it('embed_tokens and lm_head count once, with vocab on one side', () => {
    expect(moduleShape(LLAMA3_8B, 'embed_tokens')).toEqual({ module: 'embed_tokens', inFeatures: 128256, outFeatures: 4096, count: 1 });
    expect(loraSize(LLAMA3_8B, { rank: 8, targetModules: ['lm_head'], dtype: 'fp32' }).bytes).toBe(8 * (4096 + 128256) * 4);
  });

  it('rejects unknown module names, naming the valid ones', () => {
    expect(() => resolveTargetModules(['qkv_proj'])).toThrow(/unknown LoRA target module "qkv_proj"/);
    expect(resolveTargetModules(['q_proj', 'q_proj'])).toEqual(['q_proj']);
    expect(() => loraSize(LLAMA3_8B, { rank: 0, targetModules: ['q_proj'] })).toThrow(/rank/);
  });
});
