import { getInput, nameSchema, recipeCreateInput, recipeListInput, recipeUpdateInput } from '@ctxlab/contracts';
import { z } from 'zod';
import { recipePlanFor } from '../../services/planner';
import { router, viewerProcedure } from '../../trpc';
import { registryRoutes } from '../registry';

export const recipesRouter = router({
  ...registryRoutes('recipes', { list: recipeListInput, create: recipeCreateInput, update: recipeUpdateInput }),
  /** The recipe with its computed plan (tokens, FLOPs, GPU-hours at the default MFU, warnings). */
  get: viewerProcedure.input(getInput).query(async ({ ctx, input }) => {
    const r = await ctx.repos.recipes.get(input.id);
    return { ...r, computed: await recipePlanFor(ctx.repos, r.spec, {}) };
  }),
  versions: viewerProcedure.input(z.object({ name: nameSchema })).query(({ ctx, input }) => ctx.repos.recipes.versions(input.name)),
});
