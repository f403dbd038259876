import { join } from 'node:path';
import { badRequest } from '@ctxlab/contracts';
import { parseJobSpec, renderJob, trainSpecFromRecipe } from '@ctxlab/dispatch';
import { stageDatasets, stagingResolver } from '@ctxlab/jobs';
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
    const { recipeId: _r, stage, datasets: given, ...io } = input;
    if (!recipe.spec.stages[stage]) throw badRequest(`stage: recipe ${recipe.name} has ${recipe.spec.stages.length} stages; there is no stage ${stage + 1}`, 'stage');
    const datasets = given ?? (await stageDatasets(ctx.repos, recipe.id, recipe.spec, stage));
    if (datasets.length === 0) throw badRequest(`datasets: stage ${stage + 1} of recipe ${recipe.name} has no data recipe and the recipe names no registered dataset: give the dataset URIs`, 'datasets');
    // As the local executor runs it: s3:// artifacts at their staged paths under the artifact root.
    const staging = join(ctx.artifactsDir, '.staging', 'job');
    return renderJob(trainSpecFromRecipe(recipe.spec, stage, { ...io, datasets }), { resolveUri: stagingResolver(staging) });
  }),
});
