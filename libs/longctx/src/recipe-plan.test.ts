import { recipeSpecSchema } from '@ctxlab/contracts';
import { describe, expect, it } from 'vitest';
import { BAAI_LLAMA3_8B_80K_QLORA, GRADIENT_70B_1048K, LLAMA3_70B, LLAMA3_8B } from './presets';
import { planRecipe } from './recipe-plan';

describe('planRecipe on Gradient 70B → 1048K', () => {
  const plan = planRecipe(GRADIENT_70B_1048K, LLAMA3_70B, { mfu: 0.4 });

  it('the preset is a valid recipe spec', () => {
    expect(recipeSpecSchema.safeParse(GRADIENT_70B_1048K).success).toBe(true);
  });

  it('stage tokens match the field notes exactly; no contract errors', () => {
    expect(plan.stages.map((s) => s.tokens)).toEqual([83_886_080, 104_857_600, 209_715_200, 33_554_432]);
    expect(plan.totals.tokens).toBe(432_013_312);
    expect(plan.params).toBe(70_553_706_496);
    expect(plan.errors).toEqual([]);
  });

  it('costs each stage on its L40S: FLOPs, GPU-hours, wall time', () => {
    const s = plan.stages[0]!;
    expect(s.gpu?.id).toBe('l40s-48gb');
    expect(s.flopsPerToken).toBe(6 * 70_553_706_496 + 12 * 80 * 8192 * 65536);
    expect(s.totalFlops).toBe(83_886_080 * s.flopsPerToken);
    expect(s.wallHours).toBeCloseTo(s.totalFlops / (512 * 362e12 * 0.4 * 3600), 9);
    expect(s.gpuHours).toBeCloseTo(s.wallHours! * 512, 9);
    expect(plan.totals.gpuHours).toBeCloseTo(plan.stages.reduce((a, x) => a + x.gpuHours!, 0), 9);
  });

  it('published wall minutes imply throughput per GPU and MFU', () => {
    const [a, , , d] = plan.stages;
    expect(a!.published?.tokensPerSecondPerGpu).toBeCloseTo(83_886_080 / (100 * 60) / 512, 9);
    expect(a!.published?.impliedMfu).toBeCloseTo((83_886_080 * a!.flopsPerToken) / (100 * 60 * 512 * 362e12), 12);
    expect(d!.published?.tokensPerSecondPerGpu).toBeCloseTo(33_554_432 / (516 * 60) / 128, 9);
  });

  it('warns (not errors) where a stage theta is below the critical-dimension theta for its length', () => {
    // Stages 1–2 used dynamic NTK, which gives less than the critical-dim rule asks for; stages
    // 3–4 (1,062,356,830 ≥ 1,007,391,703 at 2^19; 3,580,165,449 exactly at 2^20) are fine.
    expect(plan.warnings.map((w) => w.path)).toEqual([
      ['stages', 0, 'ropeTheta'],
      ['stages', 1, 'ropeTheta'],
    ]);
    expect(plan.warnings[0]!.message).toMatch(/^stage 1 \(65K\): ropeTheta 1\.53e7 supports about [\d,]+ tokens under the critical-dimension rule, less than seqLength 65,536/);
    expect(plan.stages.map((s) => s.requiredTheta)).toEqual([22_443_169, 283_461_213, 1_007_391_703, 3_580_165_449]);
    expect(plan.stages[3]!.supportedContext).toBe(2 ** 20);
  });

  it('a target beyond the last stage theta is a warning on targetContext', () => {
    const p = planRecipe({ ...GRADIENT_70B_1048K, targetContext: 2 ** 21 }, LLAMA3_70B, { mfu: 0.4 });
    const w = p.warnings.find((x) => x.path[0] === 'targetContext');
    expect(w?.message).toMatch(/targetContext 2,097,152 is beyond the 1,048,576 tokens/);
  });

  it('includes contract errors from recipeIssues', () => {
    const bad = { ...GRADIENT_70B_1048K, stages: GRADIENT_70B_1048K.stages.map((s, i) => (i === 1 ? { ...s, declaredTotalTokens: 1 } : s)) };
    const p = planRecipe(bad, LLAMA3_70B, { mfu: 0.4 });
    expect(p.errors).toHaveLength(1);
    expect(p.errors[0]!.path).toEqual(['stages', 1, 'declaredTotalTokens']);
  });

  it('an unknown GPU is a warning and leaves the hours empty; a gpu override costs every stage on it', () => {
    const odd = { ...GRADIENT_70B_1048K, stages: GRADIENT_70B_1048K.stages.map((s) => ({ ...s, gpuType: 'MI300X' })) };
    const p = planRecipe(odd, LLAMA3_70B, { mfu: 0.4 });
    expect(p.stages[0]!.gpuHours).toBeNull();
    expect(p.stages[0]!.published?.impliedMfu).toBeNull();
    expect(p.totals.gpuHours).toBeNull();
    expect(p.warnings.some((w) => w.path.join('.') === 'stages.0.gpuType')).toBe(true);
    const h = planRecipe(odd, LLAMA3_70B, { mfu: 0.4, gpu: 'H100' });
    expect(h.stages.every((s) => s.gpu?.id === 'h100-sxm-80gb')).toBe(true);
    expect(() => planRecipe(GRADIENT_70B_1048K, LLAMA3_70B, { mfu: 0.4, gpu: 'TPU' })).toThrow(/not in the catalog/);
  });
});

describe('planRecipe on BAAI Llama-3-8B-Instruct → 80K QLoRA: a published wall time that implies MFU above 1', () => {
  const plan = planRecipe(BAAI_LLAMA3_8B_80K_QLORA, LLAMA3_8B, { mfu: 0.4 });
  const s = plan.stages[0]!;

  it('the preset is a valid recipe spec', () => {
    expect(recipeSpecSchema.safeParse(BAAI_LLAMA3_8B_80K_QLORA).success).toBe(true);
  });

  it('reproduces the 4.03: all 20K samples counted at 81,920 tokens on 8 A800s in 480 minutes', () => {
    // 81,920 × batch 8 × 2,500 steps; 6 × 8,030,261,248 + 12 × 32 × 4096 × 81,920 FLOPs per token.
    expect(s.tokens).toBe(1_638_400_000);
    expect(s.fullLengthTokens).toBe(1_638_400_000);
    expect(s.tokensStated).toBe(false);
    expect(s.flopsPerToken).toBe(177_030_586_368);
    expect(s.flopsPerTokenWithoutEmbeddings).toBe(177_030_586_368 - 6 * 128256 * 4096);
    expect(s.gpu?.peakBf16Flops).toBe(312e12);
    expect(s.published?.gpuHours).toBe(64);
    expect(s.published?.tokensPerSecondPerGpu).toBeCloseTo(1_638_400_000 / (480 * 60 * 8), 9);
    expect(s.published?.impliedMfu).toBe((1_638_400_000 * 177_030_586_368) / (480 * 60 * 8 * 312e12));
    expect(s.published?.impliedMfu?.toFixed(2)).toBe('4.03');
    expect(s.published?.impliedMfuWithoutEmbeddings?.toFixed(2)).toBe('3.96');
    // At the assumed 0.4 the stage would take 645.6 GPU-hours, ten times the 64 published.
    expect(s.gpuHours?.toFixed(1)).toBe('645.6');
  });

  it('warns on the wall time, naming the token count as the cause', () => {
    expect(plan.errors).toEqual([]);
    expect(plan.warnings).toEqual([
      {
        path: ['stages', 0, 'wallMinutes'],
        message:
          'stage 1 (80K): the published 480 wall minutes on 8 × NVIDIA A800 80GB imply MFU 4.03 (3.96 without embedding parameters), above 1, which no GPU reaches. ' +
          'Its 1,638,400,000 tokens (seqLength × batchSize × gradientAccumulation × steps) count every sample at the full 81,920 tokens; ' +
          'when most samples are shorter, state the tokens the stage really trained on (trainedTokens) so the FLOPs, GPU-hours and implied MFU use them',
      },
    ]);
  });

  it('a stated trained-token count replaces the full-length count in FLOPs, GPU-hours and implied MFU', () => {
    // 300M is an illustration, not a published figure: BAAI states none.
    const p = planRecipe(BAAI_LLAMA3_8B_80K_QLORA, LLAMA3_8B, { mfu: 0.4, trainedTokens: [300_000_000] });
    const t = p.stages[0]!;
    expect(t.tokens).toBe(300_000_000);
    expect(t.fullLengthTokens).toBe(1_638_400_000);
    expect(t.tokensStated).toBe(true);
    expect(t.totalFlops).toBe(300_000_000 * 177_030_586_368);
    expect(p.totals.tokens).toBe(300_000_000);
    expect(t.gpuHours).toBe((300_000_000 * 177_030_586_368) / (312e12 * 0.4 * 3600));
    expect(t.gpuHours?.toFixed(2)).toBe('118.21');
    expect(t.published?.impliedMfu).toBe((300_000_000 * 177_030_586_368) / (480 * 60 * 8 * 312e12));
    expect(t.published?.impliedMfu?.toFixed(4)).toBe('0.7388');
    expect(t.published?.impliedMfuWithoutEmbeddings?.toFixed(4)).toBe('0.7257');
    expect(p.warnings).toEqual([]);
    // null leaves a stage at its full-length count.
    expect(planRecipe(BAAI_LLAMA3_8B_80K_QLORA, LLAMA3_8B, { mfu: 0.4, trainedTokens: [null] }).stages[0]!.tokens).toBe(1_638_400_000);
  });

  it('a recipe can state the count on the stage; a count given to the plan wins over it', () => {
    const stated = { ...BAAI_LLAMA3_8B_80K_QLORA, stages: [{ ...BAAI_LLAMA3_8B_80K_QLORA.stages[0]!, trainedTokens: 300_000_000 }] };
    const p = planRecipe(stated, LLAMA3_8B, { mfu: 0.4 });
    expect(p.stages[0]!.tokens).toBe(300_000_000);
    expect(p.stages[0]!.published?.impliedMfu?.toFixed(4)).toBe('0.7388');
    expect(p.warnings).toEqual([]);
    expect(planRecipe(stated, LLAMA3_8B, { mfu: 0.4, trainedTokens: [500_000_000] }).stages[0]!.tokens).toBe(500_000_000);
    // The recipe's own check: a stated count cannot exceed what the stage's sequences hold.
    const over = recipeSpecSchema.safeParse({ ...stated, stages: [{ ...stated.stages[0]!, trainedTokens: 1_638_400_001 }] });
    expect(over.success).toBe(false);
    expect(over.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['stages.0.trainedTokens', 'stage 1 (80K): trainedTokens 1,638,400,001 is more than seqLength × batchSize × gradientAccumulation × steps = 1,638,400,000'],
    ]);
  });

  it('a stated count that still implies MFU above 1 says so', () => {
    const p = planRecipe(BAAI_LLAMA3_8B_80K_QLORA, LLAMA3_8B, { mfu: 0.4, trainedTokens: [500_000_000] });
    expect(p.warnings.map((w) => w.message)).toEqual([
      'stage 1 (80K): the published 480 wall minutes on 8 × NVIDIA A800 80GB imply MFU 1.23 (1.21 without embedding parameters), above 1, which no GPU reaches, even with the stated 500,000,000 trained tokens: the wall time, the GPU or the token count is wrong',
    ]);
  });

  it('refuses a stated count above the full-length count, or more counts than stages', () => {
    expect(() => planRecipe(BAAI_LLAMA3_8B_80K_QLORA, LLAMA3_8B, { mfu: 0.4, trainedTokens: [1_638_400_001] })).toThrow(
      'trainedTokens[0] must be a positive integer of at most 1,638,400,000 (seqLength × batchSize × gradientAccumulation × steps), got 1638400001',
    );
    expect(() => planRecipe(BAAI_LLAMA3_8B_80K_QLORA, LLAMA3_8B, { mfu: 0.4, trainedTokens: [0] })).toThrow(/trainedTokens\[0\] must be a positive integer/);
    expect(() => planRecipe(BAAI_LLAMA3_8B_80K_QLORA, LLAMA3_8B, { mfu: 0.4, trainedTokens: [1, 2] })).toThrow('trainedTokens has 2 entries but the recipe has 1 stage');
  });
});
