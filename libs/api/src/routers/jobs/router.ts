import { getInput, idSchema, jobListInput } from '@ctxlab/contracts';
import { z } from 'zod';
import { cancelJob, retryJob } from '@ctxlab/jobs';
import { memberProcedure, router, viewerProcedure } from '../../trpc';

/**
 * Live progress is polled, not pushed: `jobs.get` / `evals.get` carry the progress the worker
 * writes to PostgreSQL (done/total, running score, ETA) at most a few times a second, so a client
 * polling every second sees it as live. Polling works through any proxy and load balancer, needs no
 * sticky connections to the portal process that happens to serve the client, and costs one indexed
 * row read per poll; SSE subscriptions would add a Redis pub/sub fan-out for no visible gain.
 */
export const jobsRouter = router({
  list: viewerProcedure.input(jobListInput).query(({ ctx, input }) => ctx.repos.jobs.list(input)),
  get: viewerProcedure.input(getInput).query(({ ctx, input }) => ctx.repos.jobs.get(input.id)),
  cancel: memberProcedure.input(getInput).mutation(({ ctx, input }) => cancelJob(ctx.jobs, input.id, ctx.actor.name)),
  retry: memberProcedure.input(getInput).mutation(({ ctx, input }) => retryJob(ctx.jobs, input.id, ctx.actor.name)),
  events: viewerProcedure
    .input(z.object({ jobId: idSchema, afterId: z.number().int().min(0).default(0) }))
    .query(async ({ ctx, input }) => {
      await ctx.repos.jobs.get(input.jobId);
      return ctx.repos.jobs.events(input.jobId, input.afterId);
    }),
});
