import { adapterCreateInput, adapterListInput, adapterUpdateInput, getInput } from '@ctxlab/contracts';
import { adapterCard } from '../../services/model-card';
import { router, viewerProcedure } from '../../trpc';
import { registryRoutes } from '../registry';

export const adaptersRouter = router({
  ...registryRoutes('adapters', { list: adapterListInput, create: adapterCreateInput, update: adapterUpdateInput }),
  /** The adapter's Hugging Face model card (PEFT metadata, how to load and serve it). */
  card: viewerProcedure.input(getInput).query(({ ctx, input }) => adapterCard(ctx.repos, input.id)),
});
