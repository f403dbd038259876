import { archiveInput, getInput, adapterCreateInput, adapterListInput, adapterUpdateInput } from '@ctxlab/contracts';
import { adminProcedure, memberProcedure, router, viewerProcedure } from '../../trpc';

export const adaptersRouter = router({
  list: viewerProcedure.input(adapterListInput).query(({ ctx, input }) => ctx.repos.adapters.list(input)),
  get: viewerProcedure.input(getInput).query(({ ctx, input }) => ctx.repos.adapters.get(input.id)),
  create: memberProcedure.input(adapterCreateInput).mutation(({ ctx, input }) => ctx.repos.adapters.create(input)),
  update: memberProcedure.input(adapterUpdateInput).mutation(({ ctx, input }) => ctx.repos.adapters.update(input.id, input.patch)),
  archive: adminProcedure.input(archiveInput).mutation(({ ctx, input }) => ctx.repos.adapters.archive(input.id)),
});
