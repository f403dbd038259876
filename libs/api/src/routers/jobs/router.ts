import { getInput, jobListInput } from '@ctxlab/contracts';
import { z } from 'zod';
import { cancelJob, retryJob } from '@ctxlab/jobs';
import { memberProcedure, router, viewerProcedure } from '../../trpc';

export const jobsRouter = router({
  list: viewerProcedure.input(jobListInput).query(({ ctx, input }) => ctx.repos.jobs.list(input)),
  get: viewerProcedure.input(getInput).query(({ ctx, input }) => ctx.repos.jobs.get(input.id)),
  cancel: memberProcedure.input(getInput).mutation(({ ctx, input }) => cancelJob(ctx.jobs, input.id, ctx.actor.name)),
  retry: memberProcedure.input(getInput).mutation(({ ctx, input }) => retryJob(ctx.jobs, input.id, ctx.actor.name)),
  events: viewerProcedure
    .input(z.object({ jobId: z.string().min(1), afterId: z.number().int().min(0).default(0) }))
    .query(async ({ ctx, input }) => {
      await ctx.repos.jobs.get(input.jobId);
      return ctx.repos.jobs.events(input.jobId, input.afterId);
    }),
});
