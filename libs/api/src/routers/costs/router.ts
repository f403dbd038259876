import { costQueryInput, idSchema } from '@ctxlab/contracts';
import { z } from 'zod';
import { costReport, modelCost } from '../../services/costs';
import { router, viewerProcedure } from '../../trpc';

export const costsRouter = router({
  /** GPU-hours and cost per job, team, month and device type over a range (default: this month), and the planner's estimates beside the actuals. */
  report: viewerProcedure.input(costQueryInput).query(({ ctx, input }) => costReport(ctx.repos, input)),
  /** A model's cost over its lineage: its training stages, and the extraction and merge that made it. */
  model: viewerProcedure.input(z.object({ modelId: idSchema })).query(({ ctx, input }) => modelCost(ctx.repos, input.modelId)),
});
