import { archiveInput, getInput, evalCellsInput, evalRunCreateInput, evalRunListInput, evalRunUpdateInput } from '@ctxlab/contracts';
import { adminProcedure, memberProcedure, router, viewerProcedure } from '../../trpc';

export const evalsRouter = router({
  list: viewerProcedure.input(evalRunListInput).query(({ ctx, input }) => ctx.repos.evals.list(input)),
  get: viewerProcedure.input(getInput).query(({ ctx, input }) => ctx.repos.evals.get(input.id)),
  create: memberProcedure.input(evalRunCreateInput).mutation(({ ctx, input }) => ctx.repos.evals.create(input)),
  update: memberProcedure.input(evalRunUpdateInput).mutation(({ ctx, input }) => ctx.repos.evals.update(input.id, input.patch)),
  archive: adminProcedure.input(archiveInput).mutation(({ ctx, input }) => ctx.repos.evals.archive(input.id)),
  cells: viewerProcedure.input(evalCellsInput).query(({ ctx, input }) => ctx.repos.evals.cells(input.evalRunId, input.limit, input.offset)),
});
