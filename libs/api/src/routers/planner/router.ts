import { adapterPlanInput, memoryPlanInput, recipePlanInput, servingPlanInput, thetaPlanInput } from '@ctxlab/contracts';
import { GPU_CATALOG, kvBytesPerTokenPerGpu, loraSize, paramCount, planServing, thetaForTarget, trainingMemory, weightBytes, weightBytesPerGpu } from '@ctxlab/longctx';
import { recipePlanFor, resolveModel } from '../../services/planner';
import { router, viewerProcedure } from '../../trpc';

export const plannerRouter = router({
  gpus: viewerProcedure.query(() => GPU_CATALOG),

  theta: viewerProcedure.input(thetaPlanInput).query(async ({ ctx, input }) => {
    const { config } = await resolveModel(ctx.repos, input.model);
    const base = { theta0: config.ropeTheta, headDim: config.headDim, originalLength: config.maxPositionEmbeddings, targetLength: input.targetLength };
    switch (input.rule) {
      case 'dynamic-ntk':
        return thetaForTarget({ ...base, rule: 'dynamic-ntk', ...(input.alpha ? { alpha: input.alpha } : {}), ...(input.via ? { via: input.via } : {}) });
      case 'yarn':
      case 'llama3':
        return thetaForTarget({ ...base, rule: input.rule, ...(input.factor ? { factor: input.factor } : {}) });
      default:
        return thetaForTarget({ ...base, rule: input.rule });
    }
  }),

  memory: viewerProcedure.input(memoryPlanInput).query(async ({ ctx, input }) => {
    const { name, config } = await resolveModel(ctx.repos, input.model);
    return {
      model: name,
      parameters: paramCount(config),
      weightBytes: weightBytes(config, input.dtype),
      weightBytesPerGpu: weightBytesPerGpu(config, input.tensorParallelSize, input.dtype),
      kvBytesPerToken: kvBytesPerTokenPerGpu(config, 1, input.dtype === 'fp8' ? 'fp8' : 'bf16'),
      kvBytesPerTokenPerGpu: kvBytesPerTokenPerGpu(config, input.tensorParallelSize, input.dtype === 'fp8' ? 'fp8' : 'bf16'),
      training: input.seqLength ? trainingMemory(config, { seqLength: input.seqLength, ringGpus: input.ringGpus, optimizerPrecision: input.optimizerPrecision }) : null,
    };
  }),

  serving: viewerProcedure.input(servingPlanInput).query(async ({ ctx, input }) => {
    const { name, config } = await resolveModel(ctx.repos, input.model);
    const { model: _m, ...rest } = input;
    return planServing({ ...rest, model: config, modelName: name });
  }),

  adapter: viewerProcedure.input(adapterPlanInput).query(async ({ ctx, input }) => {
    const { config } = await resolveModel(ctx.repos, input.model);
    return loraSize(config, { rank: input.rank, targetModules: input.targetModules, dtype: input.dtype });
  }),

  recipe: viewerProcedure.input(recipePlanInput).query(async ({ ctx, input }) => {
    if ('recipeId' in input) {
      const r = await ctx.repos.recipes.get(input.recipeId);
      return recipePlanFor(ctx.repos, r.spec, { mfu: input.mfu, gpu: input.gpu, trainedTokens: input.trainedTokens });
    }
    const { config } = await resolveModel(ctx.repos, input.model);
    return recipePlanFor(ctx.repos, input.spec, { mfu: input.mfu, gpu: input.gpu, model: config, trainedTokens: input.trainedTokens });
  }),
});
