import { benchmarkImportInput, corpusImportInput, archiveInput, getInput, datasetCreateInput, datasetListInput, datasetUpdateInput } from '@ctxlab/contracts';
import { importBenchmark } from '@ctxlab/jobs';
import { importCorpus } from '../../services/datasets';
import { adminProcedure, memberProcedure, router, viewerProcedure } from '../../trpc';

export const datasetsRouter = router({
  list: viewerProcedure.input(datasetListInput).query(({ ctx, input }) => ctx.repos.datasets.list(input)),
  get: viewerProcedure.input(getInput).query(({ ctx, input }) => ctx.repos.datasets.get(input.id)),
  create: memberProcedure.input(datasetCreateInput).mutation(({ ctx, input }) => ctx.repos.datasets.create(input)),
  update: memberProcedure.input(datasetUpdateInput).mutation(({ ctx, input }) => ctx.repos.datasets.update(input.id, input.patch)),
  /** A folder of .txt files (or any documents) as a NIAH haystack, with digest and token counts. */
  importCorpus: memberProcedure.input(corpusImportInput).mutation(({ ctx, input }) => importCorpus(ctx.repos, input)),
  /** LongBench / InfiniteBench JSONL or MMLU CSV files, unchanged, checked by the format's parser (errors name file, line and field); items and sha256 per task. */
  importBenchmark: memberProcedure.input(benchmarkImportInput).mutation(({ ctx, input }) => importBenchmark(ctx.repos, input)),
  archive: adminProcedure.input(archiveInput).mutation(({ ctx, input }) => ctx.repos.datasets.archive(input.id)),
});
