import { describe, expect, it } from 'vitest';
import { canRecipeRunTransition, readGateResults, recipeRunResumeInput } from './recipe-run';
import { recipeStageSchema } from './recipe';

const stage = { name: 's1', seqLength: 1024, ropeTheta: 40_000, batchSize: 1, steps: 3, learningRate: 1e-3, gpus: 1, gpuType: 'cpu' };
const issues = (gates: unknown) => {
  const r = recipeStageSchema.safeParse({ ...stage, gates });
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('recipe stage gates', () => {
  it('take NIAH, perplexity and suite gates with their defaults', () => {
    const s = recipeStageSchema.parse({ ...stage, gates: { niah: { minScore: 80 }, perplexity: { max: 12 }, suites: [{ spec: { suite: 'ruler', tasks: ['niah_single_1'], lengths: [1024] }, minScore: 50 }] } });
    expect(s.gates).toMatchObject({ niah: { minScore: 80, depths: [0, 0.25, 0.5, 0.75, 1], samples: 2 }, perplexity: { max: 12, samples: 2 }, suites: [{ minScore: 50 }] });
    expect(recipeStageSchema.parse(stage).gates).toBeUndefined();
  });
  it('name the field at fault', () => {
    expect(issues({ niah: { minScore: 101 } })).toEqual(['gates.niah.minScore: Too big: expected number to be <=100']);
    expect(issues({ niah: { minScore: 50, depths: [1.5] } })).toEqual(['gates.niah.depths.0: a depth is a fraction from 0 to 1']);
    expect(issues({ perplexity: { max: 0 } })).toEqual(['gates.perplexity.max: must be positive']);
    expect(issues({ suites: [{ spec: { suite: 'perplexity', lengths: [1024] }, minScore: 10 }] })).toEqual(['gates.suites.0.max: a perplexity suite gate passes at a perplexity ≤ max: give max']);
    expect(issues({ suites: [{ spec: { suite: 'ruler', tasks: ['vt'], lengths: [1024] } }] })).toEqual(['gates.suites.0.minScore: a ruler gate passes at an average ≥ minScore (0–100): give minScore']);
  });
});

describe('the recipe-run machine', () => {
  it('stops for a person, resumes through queued, never leaves succeeded', () => {
    expect(canRecipeRunTransition('running', 'stopped')).toBe(true);
    expect(canRecipeRunTransition('stopped', 'queued')).toBe(true);
    expect(canRecipeRunTransition('cancelled', 'queued')).toBe(true);
    expect(canRecipeRunTransition('stopped', 'running')).toBe(false);
    expect(canRecipeRunTransition('succeeded', 'queued')).toBe(false);
  });
  it('reads stored gates, and a malformed value as none', () => {
    const g = { gate: 'niah', label: 'NIAH @1,024', op: '>=', threshold: 50, value: 66.7, passed: true, evalRunId: 'e', jobId: 'j' };
    expect(readGateResults([g])).toEqual([{ ...g, error: null }]);
    expect(readGateResults({ not: 'a list' })).toEqual([]);
  });
  it('resume takes retry or continue', () => {
    expect(recipeRunResumeInput.safeParse({ id: 'r', action: 'skip' }).success).toBe(false);
  });
});
