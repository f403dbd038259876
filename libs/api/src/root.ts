import { memberProcedure, router, viewerProcedure } from './trpc';
import { adaptersRouter } from './routers/adapters/router';
import { datasetsRouter } from './routers/datasets/router';
import { endpointsRouter } from './routers/endpoints/router';
import { evalsRouter } from './routers/evals/router';
import { jobsRouter } from './routers/jobs/router';
import { modelsRouter } from './routers/models/router';
import { dispatchRouter } from './routers/dispatch/router';
import { gpuRouter } from './routers/gpu/router';
import { infraRouter } from './routers/infra/router';
import { plannerRouter } from './routers/planner/router';
import { portalRouter } from './routers/portal/router';
import { recipesRouter } from './routers/recipes/router';

export const appRouter = router({
  health: viewerProcedure.query(async ({ ctx }) => {
    await ctx.repos.db.$queryRaw`SELECT 1`;
    return { ok: true as const, time: new Date() };
  }),
  /** The whole path a job takes: API → Redis → worker → back. */
  workerHealth: memberProcedure.mutation(({ ctx }) => ctx.checkWorkers(ctx.actor.name)),
  models: modelsRouter,
  adapters: adaptersRouter,
  recipes: recipesRouter,
  datasets: datasetsRouter,
  endpoints: endpointsRouter,
  evals: evalsRouter,
  jobs: jobsRouter,
  planner: plannerRouter,
  infra: infraRouter,
  dispatch: dispatchRouter,
  gpu: gpuRouter,
  portal: portalRouter,
});

export type AppRouter = typeof appRouter;
