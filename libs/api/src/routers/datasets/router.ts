import { artifactLinkInput, benchmarkImportInput, corpusImportInput, datasetCreateInput, datasetListInput, datasetPrepareInput, datasetUpdateInput, getInput } from '@ctxlab/contracts';
import { importBenchmark, startDatasetPrepare } from '@ctxlab/jobs';
import { artifactLink } from '../../services/artifact-links';
import { importCorpus } from '../../services/datasets';
import { memberProcedure, router, viewerProcedure } from '../../trpc';
import { registryRoutes } from '../registry';

export const datasetsRouter = router({
  ...registryRoutes('datasets', { list: datasetListInput, create: datasetCreateInput, update: datasetUpdateInput }),
  /** A folder of .txt files (or any documents) as a NIAH haystack, with digest and token counts. */
  importCorpus: memberProcedure.input(corpusImportInput).mutation(({ ctx, input }) => importCorpus(ctx.repos, input)),
  /** LongBench / InfiniteBench JSONL or MMLU CSV files, unchanged, checked by the format's parser (errors name file, line and field); items and sha256 per task. */
  importBenchmark: memberProcedure.input(benchmarkImportInput).mutation(({ ctx, input }) => importBenchmark(ctx.repos, input)),
  /** Queues the preparation of a training dataset (tokenised, mixed, packed shards) from registered sources, for a recipe stage or a given data recipe. */
  prepare: memberProcedure
    .input(datasetPrepareInput)
    .mutation(({ ctx, input }) => startDatasetPrepare({ ...ctx.jobs, defaultOutput: (name) => ctx.artifacts.uriFor('datasets', name.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'dataset') }, input, ctx.actor.name)),
  /** Where a dataset comes from and where it went: source datasets with their shares, datasets made from it, models trained on it. */
  lineage: viewerProcedure.input(getInput).query(async ({ ctx, input }) => {
    await ctx.repos.datasets.get(input.id);
    return ctx.repos.datasets.lineage(input.id);
  }),
  /** A short-lived download link to a dataset's files (pre-signed on S3; the server path for file://). */
  download: viewerProcedure.input(artifactLinkInput).query(async ({ ctx, input }) => {
    const d = await ctx.repos.datasets.get(input.id);
    return artifactLink(ctx.artifacts, `dataset ${d.name}`, d.uri, input);
  }),
});
