import { getInput } from '@ctxlab/contracts';
import { memberProcedure, router, viewerProcedure } from '../../trpc';
import { compareRuns } from './compare.handler';
import { dashboard, modelFacets } from './dashboard.handler';
import { endpointHealth } from './endpoint-health.handler';
import { evalCell, evalEstimate, evalResult, evalResultDetails, evalRuns } from './evals.handler';
import { jobDetail, jobsBoard } from './jobs.handler';
import { compareInput, endpointHealthInput, evalCellInput, evalEstimateInput, evalRunsInput, jobsBoardInput } from './schemas';

/** Read models shaped for the portal's pages (compare views, dashboards). */
export const portalRouter = router({
  /** Counts, runs by status, the latest runs and the jobs in flight. */
  dashboard: viewerProcedure.query(({ ctx }) => dashboard(ctx.repos)),
  /** Families and the longest context, for the models page's filters. */
  modelFacets: viewerProcedure.query(({ ctx }) => modelFacets(ctx.repos)),
  /** One page of eval runs with model, endpoint and average score, newest first. */
  evalRuns: viewerProcedure.input(evalRunsInput).query(({ ctx, input }) => evalRuns(ctx.repos, input)),
  /** Cells and prompt tokens a grid costs, before it runs. */
  evalEstimate: viewerProcedure.input(evalEstimateInput).query(({ ctx, input }) => evalEstimate(ctx.repos, ctx.gridLimits, input)),
  /** A run, its heatmap on the full grid and the hover details of every cell (null beyond 2,500 cells: see evalResultDetails). */
  evalResult: viewerProcedure.input(getInput).query(({ ctx, input }) => evalResult(ctx.repos, input.id)),
  /** The hover details of every grid cell of a run, aligned with its heatmap: what the page loads after a large grid's heatmap. */
  evalResultDetails: viewerProcedure.input(getInput).query(({ ctx, input }) => evalResultDetails(ctx.repos, input.id)),
  /** Every sample of one grid cell: full answer, needle, expected, timing. */
  evalCell: viewerProcedure.input(evalCellInput).query(({ ctx, input }) => evalCell(ctx.repos, input)),
  /** 2–4 runs on one grid with differences from a baseline. */
  compare: viewerProcedure.input(compareInput).query(({ ctx, input }) => compareRuns(ctx.repos, input)),
  /** One page of jobs with progress, the eval they run and their latest event; counts by status. */
  jobsBoard: viewerProcedure.input(jobsBoardInput).query(({ ctx, input }) => jobsBoard(ctx.repos, input)),
  /** One job with the eval run it drives. */
  job: viewerProcedure.input(getInput).query(({ ctx, input }) => jobDetail(ctx.repos, input.id)),
  /** GET {url}/v1/models with a short timeout: the served model ids or why not. Records the outcome on a registered endpoint. */
  endpointHealth: memberProcedure.input(endpointHealthInput).mutation(({ ctx, input }) => endpointHealth(ctx, input)),
});
