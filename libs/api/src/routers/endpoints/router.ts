import { archiveInput, getInput, endpointCreateInput, endpointListInput, endpointUpdateInput } from '@ctxlab/contracts';
import { adminProcedure, memberProcedure, router, viewerProcedure } from '../../trpc';

export const endpointsRouter = router({
  list: viewerProcedure.input(endpointListInput).query(({ ctx, input }) => ctx.repos.endpoints.list(input)),
  get: viewerProcedure.input(getInput).query(({ ctx, input }) => ctx.repos.endpoints.get(input.id)),
  create: memberProcedure.input(endpointCreateInput).mutation(({ ctx, input }) => ctx.repos.endpoints.create(input)),
  update: memberProcedure.input(endpointUpdateInput).mutation(({ ctx, input }) => ctx.repos.endpoints.update(input.id, input.patch)),
  archive: adminProcedure.input(archiveInput).mutation(({ ctx, input }) => ctx.repos.endpoints.archive(input.id)),
});
