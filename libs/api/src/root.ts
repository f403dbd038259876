import { publicProcedure, router, viewerProcedure } from './trpc';
import { allowedHostsRouter, auditRouter, authRouter, tokensRouter, usersRouter } from './routers/access/router';
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
import { teamsRouter } from './routers/teams/router';
import { schedulerRouter } from './routers/scheduler/router';
import { costsRouter } from './routers/costs/router';

export const appRouter = router({
  /** Liveness: the API answers and reaches PostgreSQL. No credentials needed (load balancers, `ctxlab health`). */
  health: publicProcedure.query(async ({ ctx }) => {
    await ctx.repos.ping();
    return { ok: true as const, time: new Date() };
  }),
  /** The whole path a job takes: API → Redis → worker → back. A probe that changes nothing: anyone signed in may run it (`ctxlab health`). */
  workerHealth: viewerProcedure.mutation(({ ctx }) => ctx.checkWorkers(ctx.actor.name)),
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
  teams: teamsRouter,
  scheduler: schedulerRouter,
  costs: costsRouter,
  portal: portalRouter,
  auth: authRouter,
  users: usersRouter,
  tokens: tokensRouter,
  audit: auditRouter,
  allowedHosts: allowedHostsRouter,
});

export type AppRouter = typeof appRouter;
