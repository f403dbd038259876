import { gpuExtractAdapterInput, gpuJobStartInput, gpuMergeAdapterInput, gpuServeModelInput } from '@ctxlab/contracts';
import { extractAdapter, mergeAdapter, serveModel, startGpuJob } from '@ctxlab/jobs';
import { memberProcedure, router, requesterOf } from '../../trpc';

export const gpuRouter = router({
  /** Queues training, LoRA extraction/merge or serving; refused up front when it could never run. */
  start: memberProcedure.input(gpuJobStartInput).mutation(({ ctx, input }) => startGpuJob(ctx.jobs, input, requesterOf(ctx.actor))),
  /** Serves a registered model (vLLM, or the lab model server for lab models) and registers its endpoint when ready; stop = jobs.cancel. */
  serveModel: memberProcedure.input(gpuServeModelInput).mutation(({ ctx, input }) => serveModel(ctx.jobs, input, requesterOf(ctx.actor))),
  /** Extracts a fine-tune's change against its base as a LoRA adapter and registers it. */
  extractAdapter: memberProcedure.input(gpuExtractAdapterInput).mutation(({ ctx, input }) => extractAdapter(ctx.jobs, input, requesterOf(ctx.actor))),
  /** Merges a registered adapter into a target model with its source model's RoPE fields, and registers the merged model with its lineage. */
  mergeAdapter: memberProcedure.input(gpuMergeAdapterInput).mutation(({ ctx, input }) => mergeAdapter(ctx.jobs, input, requesterOf(ctx.actor))),
});
