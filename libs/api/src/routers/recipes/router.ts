import { getInput, idSchema, nameSchema, recipeCreateInput, recipeListInput, recipeRunListInput, recipeRunResumeInput, recipeRunStartInput, recipeUpdateInput } from '@ctxlab/contracts';
import { cancelRecipeRun, resumeRecipeRun, startRecipeRun } from '@ctxlab/jobs';
import { z } from 'zod';
import { recipePlanFor } from '../../services/planner';
import { recipeRunView } from '../../services/recipe-runs';
import { memberProcedure, router, viewerProcedure, requesterOf } from '../../trpc';
import { registryRoutes } from '../registry';

export const recipesRouter = router({
  ...registryRoutes('recipes', { list: recipeListInput, create: recipeCreateInput, update: recipeUpdateInput }),
  /** The recipe with its computed plan (tokens, FLOPs, GPU-hours at the default MFU, warnings). */
  get: viewerProcedure.input(getInput).query(async ({ ctx, input }) => {
    const r = await ctx.repos.recipes.get(input.id);
    return { ...r, computed: await recipePlanFor(ctx.repos, r.spec, {}) };
  }),
  versions: viewerProcedure.input(z.object({ name: nameSchema })).query(({ ctx, input }) => ctx.repos.recipes.versions(input.name)),
  /** Runs the recipe from a base model, stage by stage with its gates; refused up front when a stage could never start. */
  run: memberProcedure.input(recipeRunStartInput).mutation(async ({ ctx, input }) =>
    recipeRunView(ctx.repos, await startRecipeRun(ctx.jobs, { ...input, requestedBy: ctx.actor.name, requester: requesterOf(ctx.actor), limits: ctx.gridLimits })),
  ),
  /** Recipe runs, newest first (of one recipe, or in one status). */
  runs: viewerProcedure.input(recipeRunListInput).query(async ({ ctx, input }) => Promise.all((await ctx.repos.recipeRuns.list(input)).map((r) => recipeRunView(ctx.repos, r)))),
  /** One run: stages, training progress and loss curves, gates, GPU-hours, ETA. */
  runGet: viewerProcedure.input(getInput).query(async ({ ctx, input }) => recipeRunView(ctx.repos, await ctx.repos.recipeRuns.get(input.id))),
  runEvents: viewerProcedure
    .input(z.object({ id: idSchema, afterId: z.number().int().min(0).default(0) }))
    .query(async ({ ctx, input }) => {
      await ctx.repos.recipeRuns.get(input.id);
      return ctx.repos.recipeRuns.events(input.id, input.afterId);
    }),
  /** Stops a run and whatever its current stage has running; resume later with runResume. */
  runCancel: memberProcedure.input(getInput).mutation(async ({ ctx, input }) => recipeRunView(ctx.repos, await cancelRecipeRun(ctx.jobs, input.id, ctx.actor.name))),
  /** A stopped or cancelled run again: retry the current stage (optionally under a newer recipe version), or continue past its failed gate on purpose. */
  runResume: memberProcedure.input(recipeRunResumeInput).mutation(async ({ ctx, input }) => recipeRunView(ctx.repos, await resumeRecipeRun(ctx.jobs, input, ctx.actor.name))),
});
