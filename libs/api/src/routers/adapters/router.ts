import { adapterCreateInput, adapterListInput, adapterUpdateInput, artifactLinkInput, getInput } from '@ctxlab/contracts';
import { artifactLink } from '../../services/artifact-links';
import { adapterCard } from '../../services/model-card';
import { router, viewerProcedure } from '../../trpc';
import { registryRoutes } from '../registry';

export const adaptersRouter = router({
  ...registryRoutes('adapters', { list: adapterListInput, create: adapterCreateInput, update: adapterUpdateInput }),
  /** The adapter's Hugging Face model card (PEFT metadata, how to load and serve it). */
  card: viewerProcedure.input(getInput).query(({ ctx, input }) => adapterCard(ctx.repos, input.id)),
  /** A short-lived download link to the adapter's weights (pre-signed on S3; the server path for file://). */
  download: viewerProcedure.input(artifactLinkInput).query(async ({ ctx, input }) => {
    const a = await ctx.repos.adapters.get(input.id);
    return artifactLink(ctx.artifacts, `adapter ${a.name}`, a.uri, input);
  }),
});
