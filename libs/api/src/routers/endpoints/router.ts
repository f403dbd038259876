import { archiveInput, badRequest, endpointCreateInput, endpointListInput, endpointUpdateInput, getInput } from '@ctxlab/contracts';
import { findGpu, GPU_CATALOG } from '@ctxlab/longctx';
import { adminProcedure, memberProcedure, router, viewerProcedure } from '../../trpc';

export const endpointsRouter = router({
  list: viewerProcedure.input(endpointListInput).query(({ ctx, input }) => ctx.repos.endpoints.list(input)),
  get: viewerProcedure.input(getInput).query(({ ctx, input }) => ctx.repos.endpoints.get(input.id)),
  create: memberProcedure.input(endpointCreateInput).mutation(({ ctx, input }) => ctx.repos.endpoints.create({ ...input, gpuType: catalogGpu(input.gpuType) })),
  update: memberProcedure
    .input(endpointUpdateInput)
    .mutation(({ ctx, input }) => ctx.repos.endpoints.update(input.id, { ...input.patch, ...(input.patch.gpuType ? { gpuType: catalogGpu(input.patch.gpuType) } : {}) })),
  archive: adminProcedure.input(archiveInput).mutation(({ ctx, input }) => ctx.repos.endpoints.archive(input.id)),
});

/** GPU types are the planner catalog's ids, so capacity can size pools by them. */
function catalogGpu(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const gpu = findGpu(name);
  if (!gpu) throw badRequest(`gpuType: unknown GPU type ${name}; known: ${GPU_CATALOG.map((g) => g.id).join(', ')}`, 'gpuType');
  return gpu.id;
}
