import { getInput, hubImportInput, lineageCreateInput, lineageQueryInput, modelCreateInput, modelListInput, modelUpdateInput } from '@ctxlab/contracts';
import { idSchema } from '@ctxlab/contracts';
import { z } from 'zod';
import { importFromHub } from '../../services/hub-import';
import { modelCard } from '../../services/model-card';
import { modelDetail } from '../../services/planner';
import { scorecard } from '../../services/scorecard';
import { memberProcedure, router, viewerProcedure } from '../../trpc';
import { registryRoutes } from '../registry';

export const modelsRouter = router({
  ...registryRoutes('models', { list: modelListInput, create: modelCreateInput, update: modelUpdateInput }),
  /** The model with the planner's derived facts (parameters, KV bytes per token, longest context its theta supports). */
  get: viewerProcedure.input(getInput).query(({ ctx, input }) => modelDetail(ctx.repos, input.id)),
  lineage: viewerProcedure.input(lineageQueryInput).query(({ ctx, input }) => ctx.repos.models.lineage(input.modelId, input.depth)),
  /** Every suite result of the model beside a comparison model (default: its lineage parent), with differences and bootstrap verdicts. */
  scorecard: viewerProcedure
    .input(z.object({ modelId: idSchema, againstId: idSchema.optional() }))
    .query(({ ctx, input }) => scorecard(ctx.repos, input.modelId, { againstId: input.againstId, mmluRegressionPoints: ctx.mmluRegressionPoints })),
  addLineage: memberProcedure.input(lineageCreateInput).mutation(({ ctx, input }) => ctx.repos.models.addLineage(input)),
  /** Registers a model or PEFT adapter from its Hugging Face files (configs, tokenizer, safetensors headers); `dryRun` only reads them. */
  import: memberProcedure.input(hubImportInput).mutation(({ ctx, input }) => importFromHub(ctx, input)),
  /** The model's Hugging Face model card (README.md) and the files beside it (NIAH heatmap SVGs). */
  card: viewerProcedure.input(getInput).query(({ ctx, input }) => modelCard(ctx.repos, input.id, { mmluRegressionPoints: ctx.mmluRegressionPoints })),
});
