import { parseJobSpec, renderJob, trainSpecFromRecipe } from '@ctxlab/dispatch';
import { router, viewerProcedure } from '../../trpc';
import { renderInput, renderStageInput } from './schema';

/**
 * Dry runs of GPU work: the exact command, environment, files and resources a job would run with,
 * before anything is started (a serve that cannot fit is refused here, with the length that would).
 */
export const dispatchRouter = router({
  render: viewerProcedure.input(renderInput).query(({ input }) => renderJob(parseJobSpec(input.spec))),
  renderStage: viewerProcedure.input(renderStageInput).query(async ({ ctx, input }) => {
    const recipe = await ctx.repos.recipes.get(input.recipeId);
    const { recipeId: _r, stage, ...io } = input;
    return renderJob(trainSpecFromRecipe(recipe.spec, stage, io));
  }),
});
