import { archiveInput, checkStartInput, getInput, evalCellsInput, evalStartInput, evalRunCreateInput, evalRunListInput, evalRunUpdateInput } from '@ctxlab/contracts';
import { startLocalCheck, startNiahEval } from '@ctxlab/jobs';
import { evalHeatmap } from '../../services/evals';
import { adminProcedure, memberProcedure, router, viewerProcedure } from '../../trpc';

export const evalsRouter = router({
  list: viewerProcedure.input(evalRunListInput).query(({ ctx, input }) => ctx.repos.evals.list(input)),
  get: viewerProcedure.input(getInput).query(({ ctx, input }) => ctx.repos.evals.get(input.id)),
  create: memberProcedure.input(evalRunCreateInput).mutation(({ ctx, input }) => ctx.repos.evals.create(input)),
  update: memberProcedure.input(evalRunUpdateInput).mutation(({ ctx, input }) => ctx.repos.evals.update(input.id, input.patch)),
  archive: adminProcedure.input(archiveInput).mutation(({ ctx, input }) => ctx.repos.evals.archive(input.id)),
  /** Creates the run and its job and queues it; the same request twice starts one run. */
  start: memberProcedure.input(evalStartInput).mutation(({ ctx, input }) => startNiahEval(ctx.jobs, { ...input, requestedBy: ctx.actor.name })),
  /** A local check of a lab model on the worker's onnxruntime-node: perplexity against context length under a theta rule, or the tokenizer/engine round trips. */
  startCheck: memberProcedure.input(checkStartInput).mutation(({ ctx, input }) => startLocalCheck(ctx.jobs, { ...input, requestedBy: ctx.actor.name })),
  /** Lengths × depths matrix (samples averaged; missing and failed cells null, never 0) and the SVG. */
  heatmap: viewerProcedure.input(getInput).query(({ ctx, input }) => evalHeatmap(ctx.repos, input.id)),
  cells: viewerProcedure.input(evalCellsInput).query(({ ctx, input }) => ctx.repos.evals.cells(input.evalRunId, input.limit, input.offset)),
});
