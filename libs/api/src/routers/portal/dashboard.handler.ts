/** The overview page: how much of everything there is, what is running now, what finished last. */
import type { Repositories } from '@ctxlab/db';
import { newestScorecards } from '../../services/scorecard';
import { averageOf, summaryOf } from './evals.handler';

/** Models on the overview's "Newest scorecards": few, since each reads the cells of its newest runs for the verdicts. */
export const OVERVIEW_SCORECARDS = 3;

export async function dashboard(repos: Repositories) {
  const db = repos.db;
  const live = { archivedAt: null };
  const [models, adapters, recipes, datasets, endpoints, evalRuns, jobs, evalByStatus, jobByStatus, recentEvals, activeJobs, scorecards] = await Promise.all([
    db.model.count({ where: live }),
    db.adapter.count({ where: live }),
    db.recipe.groupBy({ by: ['name'], where: live }).then((g) => g.length),
    db.dataset.count({ where: live }),
    db.endpoint.count({ where: live }),
    db.evalRun.count({ where: live }),
    db.job.count(),
    db.evalRun.groupBy({ by: ['status'], where: live, _count: { _all: true } }),
    db.job.groupBy({ by: ['status'], _count: { _all: true } }),
    db.evalRun.findMany({
      where: live,
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      take: 6,
      select: { id: true, name: true, status: true, cellsDone: true, cellsTotal: true, summary: true, createdAt: true, model: { select: { id: true, name: true } } },
    }),
    db.job.findMany({
      where: { status: { in: ['queued', 'running', 'retrying'] } },
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      take: 6,
      select: { id: true, kind: true, status: true, progress: true, createdAt: true, evalRun: { select: { id: true, name: true } } },
    }),
    newestScorecards(repos, OVERVIEW_SCORECARDS),
  ]);
  const tally = (rows: { status: string; _count: { _all: number } }[]) => Object.fromEntries(rows.map((r) => [r.status, r._count._all])) as Record<string, number>;
  return {
    counts: { models, adapters, recipes, datasets, endpoints, evalRuns, jobs },
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
    repos.db.model.findMany({ where: { archivedAt: null, family: { not: null } }, distinct: ['family'], select: { family: true }, orderBy: { family: 'asc' } }),
    repos.db.model.aggregate({ where: { archivedAt: null }, _max: { maxPositionEmbeddings: true } }),
  ]);
  return { families: families.map((f) => f.family!).filter(Boolean), maxContext: contexts._max.maxPositionEmbeddings ?? 0 };
}
