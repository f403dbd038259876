import { TRPCError } from '@trpc/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { internalApi, resetAndSeed } from '@ctxlab/testing/db';

const api = () => internalApi();

describe('dispatch dry runs', () => {
  beforeAll(resetAndSeed);

  it("renders Gradient's 1048K stage as the EasyContext command", async () => {
    const r = (await api().recipes.list({ search: 'gradient' })).items[0]!;
    const job = await api().dispatch.renderStage({
      recipeId: r.id, stage: 3, model: 'file:///artifacts/models/g/524K', datasets: ['file:///artifacts/datasets/slimpajama-1048K'], output: 'file:///artifacts/models/g/1048K',
    });
    const cmd = job.argv.join(' ');
    for (const part of ['--seq-length 1048576', '--rope-theta 3580165449', '--batch-size 1', '--gradient-accumulate-every 4', '--max-train-steps 8', '--parallel_mode zigzag_ring_attn']) {
      expect(cmd).toContain(part);
    }
    expect(job.resources.gpuType).toBeTruthy();
  });

  it('refuses a serve that cannot fit, naming the longest length that would', async () => {
    const e = await api()
      .dispatch.render({ spec: { kind: 'serve', model: 'hf://gradientai/Llama-3-70B-Instruct-Gradient-1048k', servedName: 'g', modelConfig: { numLayers: 80, hiddenSize: 8192, numAttentionHeads: 64, numKeyValueHeads: 8, headDim: 128, intermediateSize: 28672, vocabSize: 128256, ropeTheta: 3580165449, maxPositionEmbeddings: 1048576, tokenizer: 'llama3' }, gpuType: 'h100-sxm-80gb', tensorParallelSize: 4, maxModelLen: 1048576 } })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TRPCError);
    expect((e as TRPCError).code).toBe('BAD_REQUEST');
    expect((e as TRPCError).message).toMatch(/max-model-len 1,048,576 will not fit: .*/);
  });

  it('a stage that does not exist is a clear error', async () => {
    const r = (await api().recipes.list({ search: 'gradient' })).items[0]!;
    const e = await api().dispatch.renderStage({ recipeId: r.id, stage: 9, model: 'file:///m', datasets: ['file:///d'], output: 'file:///o' }).catch((x: unknown) => x);
    expect((e as TRPCError).message).toMatch(/there is no stage 10/);
  });
});
