import { benchmarkImportInput, corpusImportInput, datasetCreateInput, datasetListInput, datasetUpdateInput } from '@ctxlab/contracts';
import { importBenchmark } from '@ctxlab/jobs';
import { importCorpus } from '../../services/datasets';
import { memberProcedure, router } from '../../trpc';
import { registryRoutes } from '../registry';

export const datasetsRouter = router({
  ...registryRoutes('datasets', { list: datasetListInput, create: datasetCreateInput, update: datasetUpdateInput }),
  /** A folder of .txt files (or any documents) as a NIAH haystack, with digest and token counts. */
  importCorpus: memberProcedure.input(corpusImportInput).mutation(({ ctx, input }) => importCorpus(ctx.repos, input)),
  /** LongBench / InfiniteBench JSONL or MMLU CSV files, unchanged, checked by the format's parser (errors name file, line and field); items and sha256 per task. */
  importBenchmark: memberProcedure.input(benchmarkImportInput).mutation(({ ctx, input }) => importBenchmark(ctx.repos, input)),
});
