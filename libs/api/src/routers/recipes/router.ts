import { archiveInput, getInput, nameSchema, recipeCreateInput, recipeListInput, recipeUpdateInput } from '@ctxlab/contracts';
import { z } from 'zod';
import { recipePlanFor } from '../../services/planner';
import { adminProcedure, memberProcedure, router, viewerProcedure } from '../../trpc';

export const recipesRouter = router({
  list: viewerProcedure.input(recipeListInput).query(({ ctx, input }) => ctx.repos.recipes.list(input)),
  /** The recipe with its computed plan (tokens, FLOPs, GPU-hours at the default MFU, warnings). */
  get: viewerProcedure.input(getInput).query(async ({ ctx, input }) => {
    const r = await ctx.repos.recipes.get(input.id);
    return { ...r, computed: await recipePlanFor(ctx.repos, r.spec, {}) };
  }),
  create: memberProcedure.input(recipeCreateInput).mutation(({ ctx, input }) => ctx.repos.recipes.create(input)),
  update: memberProcedure.input(recipeUpdateInput).mutation(({ ctx, input }) => ctx.repos.recipes.update(input.id, input.patch)),
  archive: adminProcedure.input(archiveInput).mutation(({ ctx, input }) => ctx.repos.recipes.archive(input.id)),
  versions: viewerProcedure.input(z.object({ name: nameSchema })).query(({ ctx, input }) => ctx.repos.recipes.versions(input.name)),
});
