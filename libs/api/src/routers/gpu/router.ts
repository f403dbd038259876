import { gpuJobStartInput } from '@ctxlab/contracts';
import { startGpuJob } from '@ctxlab/jobs';
import { memberProcedure, router } from '../../trpc';

export const gpuRouter = router({
  /** Queues training, LoRA extraction/merge or serving; refused up front when it could never run. */
  start: memberProcedure.input(gpuJobStartInput).mutation(({ ctx, input }) => startGpuJob(ctx.jobs, input, ctx.actor.name)),
});
