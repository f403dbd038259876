import { recipeSpecSchema } from '@ctxlab/contracts';
import { describe, expect, it } from 'vitest';
import { GRADIENT_70B_1048K, LLAMA3_70B } from './presets';
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
