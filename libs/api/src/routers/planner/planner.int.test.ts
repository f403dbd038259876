import { LLAMA3_8B } from '@ctxlab/longctx';
import { TRPCError } from '@trpc/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { internalApi, resetAndSeed } from '@ctxlab/testing/db';

const api = () => internalApi();

describe('planner API', () => {
  beforeAll(resetAndSeed);

  it('theta by each rule for a registry model, with the working shown', async () => {
    const a = api();
    const dyn = await a.planner.theta({ model: { modelName: 'Meta-Llama-3-70B-Instruct' }, targetLength: 524_288, rule: 'dynamic-ntk', alpha: 4, via: [65_536, 262_144] });
    expect(dyn.theta).toBe(1_062_356_830);
    expect(dyn.chain?.map((s) => s.theta)).toEqual([15_296_098, 207_112_184, 1_062_356_830]);
    const cd = await a.planner.theta({ model: { modelName: 'Meta-Llama-3-70B-Instruct' }, targetLength: 2 ** 20, rule: 'critical-dim' });
    expect(cd.theta).toBe(3_580_165_449);
    expect(cd.explanation.length).toBeGreaterThan(10);
  });

  it("a model's detail carries its derived facts, measured against its pre-trained base", async () => {
    const a = api();
    const base = await a.models.list({ search: 'Meta-Llama-3-8B-Instruct' });
    const m8 = await a.models.get({ id: base.items[0]!.id });
    expect(m8.derived).toMatchObject({ parameters: 8_030_261_248, kvBytesPerToken: { bf16: 131_072, fp8: 65_536 } });
    expect(m8.derived.longestContextForTheta).toBe(8192);
    const g = (await a.models.list({ search: 'Gradient-1048k' })).items[0]!;
    const d = await a.models.get({ id: g.id });
    expect(d.derived.parameters).toBe(70_553_706_496);
    expect(d.derived.kvBytesPerToken.bf16).toBe(327_680);
    expect(d.derived.pretrainedFrom.name).toBe('Meta-Llama-3-70B-Instruct');
    expect(d.derived.longestContextForTheta).toBeGreaterThanOrEqual(1_048_575);
  });

  it("a recipe's detail carries its plan: Gradient's tokens per stage exactly", async () => {
    const a = api();
    const r = (await a.recipes.list({ search: 'gradient' })).items[0]!;
    const d = await a.recipes.get({ id: r.id });
    expect(d.computed.plan?.stages.map((s) => s.tokens)).toEqual([83_886_080, 104_857_600, 209_715_200, 33_554_432]);
    expect(d.computed.plan?.errors).toEqual([]);
    expect(d.computed.mfu).toBe(0.4);
  });

  it('serving plan reproduces the 360Zhinao launch and its vLLM arguments', async () => {
    const p = await api().planner.serving({
      model: { modelName: 'llama3-8B-360Zhinao-360k-Instruct' }, gpuMemoryGiB: 80, tensorParallelSize: 8, gpuMemoryUtilization: 0.6, maxModelLen: 365_000,
    });
    expect(p.fits).toBe(true);
    expect(p.command.args).toEqual(expect.arrayContaining(['--tensor-parallel-size', '8', '--max-model-len', '365000']));
  });

  it('memory and adapter sizes', async () => {
    const a = api();
    const mem = await a.planner.memory({ model: { modelName: 'Meta-Llama-3-70B-Instruct' }, tensorParallelSize: 8, seqLength: 1_048_576, ringGpus: 128 });
    expect(mem.kvBytesPerToken).toBe(327_680);
    expect(mem.kvBytesPerTokenPerGpu).toBe(40_960);
    expect(mem.training).not.toBeNull();
    const lora = await a.planner.adapter({ model: { modelName: 'Meta-Llama-3-70B-Instruct' }, rank: 32, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] });
    expect(lora.params).toBe(414_187_520);
  });

  it("BAAI's recipe: the published 8 hours imply MFU 4.03, a warning; a stated token count replaces the full-length one", async () => {
    const a = api();
    const r = (await a.recipes.list({ search: 'baai' })).items[0]!;
    const d = await a.recipes.get({ id: r.id });
    const s = d.computed.plan!.stages[0]!;
    expect(s.tokens).toBe(1_638_400_000);
    expect(s.published?.impliedMfu?.toFixed(2)).toBe('4.03');
    expect(s.published?.impliedMfuWithoutEmbeddings?.toFixed(2)).toBe('3.96');
    expect(d.computed.plan!.warnings.map((w) => w.path)).toEqual([['stages', 0, 'wallMinutes']]);
    // 300M tokens is an illustration: BAAI publishes no trained-token count.
    const p = await a.planner.recipe({ recipeId: r.id, trainedTokens: [300_000_000] });
    expect(p.plan!.stages[0]!.tokens).toBe(300_000_000);
    expect(p.plan!.stages[0]!.tokensStated).toBe(true);
    expect(p.plan!.stages[0]!.published?.impliedMfu?.toFixed(4)).toBe('0.7388');
    expect(p.plan!.warnings).toEqual([]);
    const e = await a.planner.recipe({ recipeId: r.id, trainedTokens: [2_000_000_000] }).catch((x: unknown) => x);
    expect((e as TRPCError).code).toBe('BAD_REQUEST');
    expect((e as TRPCError).message).toMatch(/trainedTokens\[0\] must be a positive integer of at most 1,638,400,000/);
  });

  it('training memory by optimizer precision: 16 bytes/param by default, 8 for bf16', async () => {
    const a = api();
    const q = { model: { config: { ...LLAMA3_8B, numLayers: 4 } }, tensorParallelSize: 1, seqLength: 16_384, ringGpus: 1 };
    const fp32 = await a.planner.memory(q);
    const bf16 = await a.planner.memory({ ...q, optimizerPrecision: 'bf16' });
    expect(fp32.training?.bytesPerParam).toBe(16);
    expect(fp32.training?.total).toBe(58_269_958_144);
    expect(bf16.training?.bytesPerParam).toBe(8);
    expect(bf16.training?.total).toBe(42_884_956_160);
  });

  it('bad planner input is BAD_REQUEST naming the field', async () => {
    const a = api();
    const err = await a.planner.serving({ model: { modelName: 'Meta-Llama-3-8B-Instruct' }, gpuMemoryGiB: 80, tensorParallelSize: 3, maxModelLen: 8192 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCError);
    expect((err as TRPCError).code).toBe('BAD_REQUEST');
    const e2 = await a.planner.theta({ model: { modelName: 'no-such-model' }, targetLength: 1000, rule: 'ntk' }).catch((e: unknown) => e);
    expect((e2 as TRPCError).message).toMatch(/model\.modelName: no model named no-such-model/);
    const e3 = await a.planner.recipe({ recipeId: (await a.recipes.list({ search: 'gradient' })).items[0]!.id, mfu: 1.5 }).catch((e: unknown) => e);
    expect((e3 as TRPCError).code).toBe('BAD_REQUEST');
  });
});
