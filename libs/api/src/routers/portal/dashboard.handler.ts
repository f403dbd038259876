/** The overview page: how much of everything there is, what is running now, what finished last. */
import type { Repositories } from '@ctxlab/db';
import { newestScorecards } from '../../services/scorecard';
import { averageOf, summaryOf } from './evals.handler';

/** Models on the overview's "Newest scorecards": few, since each reads the cells of its newest runs for the verdicts. */
export const OVERVIEW_SCORECARDS = 3;

export async function dashboard(repos: Repositories) {
  const [counts, evalByStatus, jobByStatus, recentEvals, activeJobs, scorecards] = await Promise.all([
    repos.reads.overviewCounts(),
    repos.reads.evalRunsByStatus(),
    repos.reads.jobsByStatus(),
    repos.reads.recentEvalRuns(6),
    repos.reads.recentActiveJobs(6),
    newestScorecards(repos, OVERVIEW_SCORECARDS),
  ]);
  const tally = (rows: { status: string; _count: { _all: number } }[]) => Object.fromEntries(rows.map((r) => [r.status, r._count._all])) as Record<string, number>;
  return {
    counts,
    evalsByStatus: tally(evalByStatus),
    jobsByStatus: tally(jobByStatus),
    recentEvals: recentEvals.map(({ summary, ...r }) => ({ ...r, averageScore: averageOf(summary) })),
    activeJobs: activeJobs.map((j) => ({ ...j, progress: summaryOf(j.progress) })),
    newestScorecards: scorecards,
  };
}

/** Values the models page offers as filters. */
export async function modelFacets(repos: Repositories) {
  const [families, contexts] = await Promise.all([
    repos.reads.modelFamilies(),
    repos.reads.modelContextMax(),
  ]);
  return { families: families.map((f) => f.family!).filter(Boolean), maxContext: contexts._max.maxPositionEmbeddings ?? 0 };
}
