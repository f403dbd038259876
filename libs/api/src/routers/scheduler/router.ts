import { jobPriorityInput, priceSetInput, quotaOverrideInput, quotaRemoveInput, quotaSetInput, deviceTypeSchema } from '@ctxlab/contracts';
import { schedulePass } from '@ctxlab/jobs';
import { z } from 'zod';
import { checkCanReprioritize, schedulerQueue } from '../../services/scheduler';
import { adminProcedure, memberProcedure, router, viewerProcedure } from '../../trpc';

/** Re-decides at once after a change, so the queue view answers with its effect; the workers' passes would get there too. */
const repass = (ctx: Parameters<typeof schedulePass>[0]) => schedulePass(ctx).catch(() => undefined);

export const schedulerRouter = router({
  /** Waiting jobs (place, reason, estimated start), what holds GPUs, the pools, and quotas with their use. */
  queue: viewerProcedure.query(({ ctx }) => schedulerQueue(ctx.jobs)),
  setPriority: memberProcedure.input(jobPriorityInput).mutation(async ({ ctx, input }) => {
    await checkCanReprioritize(ctx.repos, input.jobId, ctx.actor, input.priority);
    const priority = await ctx.repos.scheduling.setPriority(input.jobId, input.priority, ctx.actor.name);
    await repass(ctx.jobs);
    return { jobId: input.jobId, priority };
  }),
  /** Admits a job past its team's quota (or withdraws that). */
  overrideQuota: adminProcedure.input(quotaOverrideInput).mutation(async ({ ctx, input }) => {
    await ctx.repos.scheduling.setQuotaOverride(input.jobId, input.override, ctx.actor.name, input.reason);
    await repass(ctx.jobs);
    return ctx.repos.jobs.get(input.jobId);
  }),
  setQuota: adminProcedure.input(quotaSetInput).mutation(async ({ ctx, input }) => {
    const team = await ctx.repos.teams.resolve(input.team);
    const q = await ctx.repos.teams.setQuota(team.id, input.gpuType, input, ctx.actor.name);
    await repass(ctx.jobs);
    return q;
  }),
  removeQuota: adminProcedure.input(quotaRemoveInput).mutation(async ({ ctx, input }) => {
    const team = await ctx.repos.teams.resolve(input.team);
    await ctx.repos.teams.removeQuota(team.id, input.gpuType);
    await repass(ctx.jobs);
    return { ok: true as const };
  }),
  prices: viewerProcedure.query(({ ctx }) => ctx.repos.scheduling.prices()),
  setPrice: adminProcedure.input(priceSetInput).mutation(({ ctx, input }) => ctx.repos.scheduling.setPrice(input.gpuType, input, ctx.actor.name)),
  removePrice: adminProcedure.input(z.object({ gpuType: deviceTypeSchema })).mutation(async ({ ctx, input }) => {
    await ctx.repos.scheduling.removePrice(input.gpuType);
    return { ok: true as const };
  }),
});
