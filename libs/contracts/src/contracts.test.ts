import { describe, expect, it } from 'vitest';
import { modelConfigSchema, recipeSpecSchema, stageTokens } from './index';

const llama = { numLayers: 32, hiddenSize: 4096, numAttentionHeads: 32, numKeyValueHeads: 8, headDim: 128, intermediateSize: 14336, vocabSize: 128256, ropeTheta: 5e5, maxPositionEmbeddings: 8192, tokenizer: 'llama3' };

describe('model config', () => {
  it('accepts Llama-3-8B and fills defaults', () => {
    expect(modelConfigSchema.parse(llama)).toMatchObject({ architecture: 'llama', dtype: 'bf16', ropeScaling: null, tieWordEmbeddings: false });
  });
  it.each([
    [{ numKeyValueHeads: 6 }, 'numKeyValueHeads', /not divisible/],
    [{ numKeyValueHeads: 64 }, 'numKeyValueHeads', /exceeds/],
    [{ hiddenSize: 4000 }, 'hiddenSize', /must equal numAttentionHeads × headDim = 32 × 128 = 4096/],
    [{ headDim: 127, hiddenSize: 32 * 127 }, 'headDim', /must be even/],
    [{ vocabSize: 0 }, 'vocabSize', /must be positive/],
    [{ ropeTheta: -1 }, 'ropeTheta', /must be positive/],
  ])('rejects %o naming %s', (patch, field, msg) => {
    const r = modelConfigSchema.safeParse({ ...llama, ...patch });
    expect(r.success).toBe(false);
    const issue = r.error!.issues.find((i) => i.path[0] === field);
    expect(issue?.message).toMatch(msg);
  });
});

describe('recipe spec', () => {
  const stage = { name: 'a', seqLength: 2 ** 16, seqLengthLog2: 16, ropeTheta: 15_296_098, batchSize: 64, gradientAccumulation: 1, steps: 20, learningRate: 2e-5, gpus: 512, gpuType: 'L40S', declaredTotalTokens: 83_886_080 };
  it('stage tokens are 2^N × batch × accumulation × steps', () => {
    expect(stageTokens(stage)).toBe(83_886_080);
  });
  it('a qlora recipe needs a lora section', () => {
    const r = recipeSpecSchema.safeParse({ method: 'qlora', baseModel: 'b', targetContext: 8192, stages: [stage] });
    expect(r.error?.issues[0]?.message).toMatch(/needs a lora section/);
  });
  it('a progressive recipe needs powers of two and non-decreasing lengths', () => {
    const r = recipeSpecSchema.safeParse({ method: 'full', baseModel: 'b', targetContext: 8192, progressive: true, stages: [stage, { ...stage, name: 'b', seqLength: 3000, seqLengthLog2: undefined, declaredTotalTokens: undefined }] });
    const msgs = r.error!.issues.map((i) => i.message);
    expect(msgs).toContain('stage 2 (b): seqLength 3000 is not a power of two, which a progressive recipe requires');
    expect(msgs).toContain("stage 2 (b): seqLength 3000 is shorter than stage 1's 65536");
  });
});
