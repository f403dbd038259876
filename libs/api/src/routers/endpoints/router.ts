import { archiveInput, badRequest, endpointCreateInput, endpointListInput, endpointUpdateInput, getInput } from '@ctxlab/contracts';
import { findGpu, GPU_CATALOG } from '@ctxlab/longctx';
import { assertOutboundUrl, encryptApiKey } from '../../auth/outbound';
import { adminProcedure, router, viewerProcedure } from '../../trpc';

export const endpointsRouter = router({
  list: viewerProcedure.input(endpointListInput).query(({ ctx, input }) => ctx.repos.endpoints.list(input)),
  get: viewerProcedure.input(getInput).query(({ ctx, input }) => ctx.repos.endpoints.get(input.id)),
  /** Admins register servers: the URL is checked against internal addresses, the API key stored encrypted. */
  create: adminProcedure.input(endpointCreateInput).mutation(async ({ ctx, input }) => {
    await assertOutboundUrl(ctx, input.url);
    const { apiKey, ...rest } = input;
    return ctx.repos.endpoints.create({ ...rest, gpuType: catalogGpu(input.gpuType), ...(apiKey ? { apiKeyEncrypted: encryptApiKey(ctx, apiKey) } : {}) });
  }),
  update: adminProcedure.input(endpointUpdateInput).mutation(async ({ ctx, input }) => {
    if (input.patch.url) await assertOutboundUrl(ctx, input.patch.url, 'patch.url');
    const { apiKey, ...patch } = input.patch;
    return ctx.repos.endpoints.update(input.id, {
      ...patch,
      ...(input.patch.gpuType ? { gpuType: catalogGpu(input.patch.gpuType) } : {}),
      ...(apiKey === null ? { apiKeyEncrypted: null } : apiKey ? { apiKeyEncrypted: encryptApiKey(ctx, apiKey) } : {}),
    });
  }),
  archive: adminProcedure.input(archiveInput).mutation(({ ctx, input }) => ctx.repos.endpoints.archive(input.id)),
});

/** GPU types are the planner catalog's ids, so capacity can size pools by them. */
function catalogGpu(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const gpu = findGpu(name);
  if (!gpu) throw badRequest(`gpuType: unknown GPU type ${name}; known: ${GPU_CATALOG.map((g) => g.id).join(', ')}`, 'gpuType');
  return gpu.id;
}
