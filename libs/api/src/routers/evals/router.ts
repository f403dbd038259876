import { checkStartInput, getInput, evalCellsInput, evalExportInput, evalStartInput, evalRunCreateInput, evalRunListInput, evalRunUpdateInput, idSchema, suiteSpecSchema, suiteStartInput } from '@ctxlab/contracts';
import { startLocalCheck, startNiahEval, startSuiteEval, suiteEstimate } from '@ctxlab/jobs';
import { z } from 'zod';
import { assertGridWithin, evalHeatmap } from '../../services/evals';
import { benchmarkResults } from '../../services/benchmark-results';
import { exportEvalRun } from '../../services/eval-export';
import { suiteResults } from '../../services/suite-results';
import { memberProcedure, router, viewerProcedure } from '../../trpc';
import { registryRoutes } from '../registry';

/** `rerun: true` asks for a fresh run where the same spec already has one (see requestIdempotencyKey). */
const rerun = { rerun: z.boolean().default(false) };

export const evalsRouter = router({
  ...registryRoutes('evals', { list: evalRunListInput, create: evalRunCreateInput, update: evalRunUpdateInput }),
  /**
   * Creates the run and its job and queues it; the same request twice starts one run, and an answer
   * with `existing: true` says an earlier run was returned (pass `rerun` for a fresh one).
   */
  start: memberProcedure.input(evalStartInput.extend(rerun)).mutation(({ ctx, input }) => {
    // Before the job layer lists the cells: a grid beyond the limits is refused at its size.
    assertGridWithin(input.spec.grid, ctx.gridLimits, 'spec.grid');
    return startNiahEval(ctx.jobs, { ...input, requestedBy: ctx.actor.name });
  }),
  /** A suite run against an endpoint (RULER, topic retrieval, LongBench, InfiniteBench, MMLU, perplexity); refused before anything is created when a task cannot fit a length, a QA dataset is missing or the run is beyond the grid limits. */
  startSuite: memberProcedure.input(suiteStartInput).mutation(({ ctx, input }) => startSuiteEval(ctx.jobs, { ...input, requestedBy: ctx.actor.name, limits: ctx.gridLimits })),
  /** Cells, prompt tokens and requests of a suite run before it starts, and an ETA from the endpoint's recent latency. */
  suiteEstimate: viewerProcedure
    .input(z.object({ spec: suiteSpecSchema, endpointId: idSchema.optional(), concurrency: z.number().int().min(1).max(256).optional() }))
    .query(({ ctx, input }) => suiteEstimate(ctx.repos, input, ctx.gridLimits)),
  /** A local check of a lab model on the worker's onnxruntime-node: perplexity against context length under a theta rule, or the tokenizer/engine round trips. */
  startCheck: memberProcedure.input(checkStartInput.extend(rerun)).mutation(({ ctx, input }) => startLocalCheck(ctx.jobs, { ...input, requestedBy: ctx.actor.name })),
  /** Lengths × depths matrix (samples averaged; missing and failed cells null, never 0) and the SVG. */
  heatmap: viewerProcedure.input(getInput).query(({ ctx, input }) => evalHeatmap(ctx.repos, input.id)),
  /** The run's status history, oldest first: every move with its reason (after `afterId` when given). */
  events: viewerProcedure
    .input(z.object({ evalRunId: idSchema, afterId: z.number().int().min(0).default(0) }))
    .query(async ({ ctx, input }) => {
      await ctx.repos.evals.get(input.evalRunId);
      return ctx.repos.evals.events(input.evalRunId, input.afterId);
    }),
  /** Writes the run's cells (CSV or JSON Lines) to an artifact URI (file:// or s3://; default: the store's exports/), with its sha256 and, on S3, a download link. */
  exportTo: memberProcedure.input(evalExportInput).mutation(({ ctx, input }) => exportEvalRun(ctx.repos, ctx.artifacts, input)),
  /** A page of the run's cells in (task, length, depth, sample) order: after `cursor` (keyset), or at `offset`. */
  cells: viewerProcedure.input(evalCellsInput).query(async ({ ctx, input }) => {
    await ctx.repos.evals.get(input.evalRunId);
    return ctx.repos.reads.cellsPage(input.evalRunId, input);
  }),
  /** A suite run (RULER, topic retrieval) from its cells: per task and length, per-length averages, effective length, heatmap matrices. */
  suiteResults: viewerProcedure.input(getInput).query(({ ctx, input }) => suiteResults(ctx.repos, input.id)),
  /** A LongBench, InfiniteBench or MMLU run from its cells: the official score per task and setting, the suite's averages. */
  benchmarkResults: viewerProcedure.input(getInput).query(({ ctx, input }) => benchmarkResults(ctx.repos, input.id)),
});
