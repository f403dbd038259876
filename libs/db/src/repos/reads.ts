import type { HeatmapCellScores, JobKind, JobStatus } from '@ctxlab/contracts';
import type { Db } from '../client';
import type { EvalStatus, Prisma } from '../generated/prisma/client';
import { newestFirst } from './paging';

/** Job statuses that still hold a place in the queue or a worker. */
const ACTIVE_JOB_STATUSES = ['queued', 'running', 'retrying'] as const;

const live = { archivedAt: null };

/** A row of the portal's eval-run list: the run, its progress and summary, its model and endpoint. */
const EVAL_RUN_ROW = {
  id: true, name: true, kind: true, status: true, cellsDone: true, cellsTotal: true, summary: true, tags: true,
  createdAt: true, startedAt: true, finishedAt: true, jobId: true,
  model: { select: { id: true, name: true } },
  endpoint: { select: { id: true, name: true } },
} satisfies Prisma.EvalRunSelect;

/** A row of the jobs board: the job, its attempts and timing, and the eval run it drives. */
const JOB_ROW = {
  id: true, kind: true, status: true, progress: true, error: true, attempts: true, maxAttempts: true, executor: true,
  queuedAt: true, startedAt: true, finishedAt: true, createdAt: true, updatedAt: true,
  evalRun: { select: { id: true, name: true, cellsDone: true, cellsTotal: true } },
} satisfies Prisma.JobSelect;

/** The portal's read models: dashboard, eval pages, jobs board, compare, capacity. */
export function readsRepo(db: Db) {
  return {
    /** Unarchived models, adapters, recipes (by name), datasets, endpoints and eval runs, and all jobs. */
    async overviewCounts() {
      const [models, adapters, recipes, datasets, endpoints, evalRuns, jobs] = await Promise.all([
        db.model.count({ where: live }),
        db.adapter.count({ where: live }),
        db.recipe.groupBy({ by: ['name'], where: live }).then((g) => g.length),
        db.dataset.count({ where: live }),
        db.endpoint.count({ where: live }),
        db.evalRun.count({ where: live }),
        db.job.count(),
      ]);
      return { models, adapters, recipes, datasets, endpoints, evalRuns, jobs };
    },
    /** Unarchived eval runs counted per status. */
    evalRunsByStatus: () => db.evalRun.groupBy({ by: ['status'], where: live, _count: { _all: true } }),
    /** Every job counted per status. */
    jobsByStatus: () => db.job.groupBy({ by: ['status'], _count: { _all: true } }),
    /** The newest unarchived eval runs with their model and summary. */
    recentEvalRuns: (take: number) =>
      db.evalRun.findMany({
        where: live,
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
        take,
        select: { id: true, name: true, status: true, cellsDone: true, cellsTotal: true, summary: true, createdAt: true, model: { select: { id: true, name: true } } },
      }),
    /** The newest queued, running or retrying jobs with the eval run each drives. */
    recentActiveJobs: (take: number) =>
      db.job.findMany({
        where: { status: { in: [...ACTIVE_JOB_STATUSES] } },
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
        take,
        select: { id: true, kind: true, status: true, progress: true, createdAt: true, evalRun: { select: { id: true, name: true } } },
      }),
    /** The distinct families of unarchived models, alphabetical. */
    modelFamilies: () => db.model.findMany({ where: { archivedAt: null, family: { not: null } }, distinct: ['family'], select: { family: true }, orderBy: { family: 'asc' } }),
    /** The longest max position embeddings of unarchived models. */
    modelContextMax: () => db.model.aggregate({ where: { archivedAt: null }, _max: { maxPositionEmbeddings: true } }),
    /** One page of unarchived eval runs (newest first) with their model and endpoint, and how many match. */
    async evalRunsPage(a: {
      search?: string | undefined;
      status?: EvalStatus | undefined;
      modelId?: string | undefined;
      endpointId?: string | undefined;
      offset: number;
      limit: number;
    }) {
      const where = {
        archivedAt: null,
        ...(a.search ? { name: { contains: a.search, mode: 'insensitive' as const } } : {}),
        ...(a.status ? { status: a.status } : {}),
        ...(a.modelId ? { modelId: a.modelId } : {}),
        ...(a.endpointId ? { endpointId: a.endpointId } : {}),
      };
      return newestFirst(a, (w) => db.evalRun.findMany({ where, ...w, select: EVAL_RUN_ROW }), () => db.evalRun.count({ where }));
    },
    /** An endpoint's name and max model length, or null when there is no such endpoint. */
    endpointLimits: (id: string) => db.endpoint.findUnique({ where: { id }, select: { name: true, maxModelLen: true } }),
    /**
     * The heatmap's one aggregate: a run's cells per (length, depth) in PostgreSQL — sum and count
     * of scored samples, failed requests — whatever the run's size. `heatmapMatrix` (@ctxlab/contracts)
     * draws the matrix from these rows.
     */
    heatmapAggregates: (evalRunId: string) =>
      db.$queryRaw<Required<HeatmapCellScores>[]>`
      SELECT "contextLength" AS length, depth, coalesce(sum(score), 0)::float8 AS sum, count(score)::int AS n, count(error)::int AS failed
      FROM "EvalCell" WHERE "evalRunId" = ${evalRunId} GROUP BY 1, 2`,
    /** Sample 0 of each of a run's cells: prompt tokens, the start of its answer, its error and latency. */
    heatmapDetails: (evalRunId: string, excerptChars: number) =>
      db.$queryRaw<HeatmapDetail[]>`
      SELECT id, "contextLength" AS l, depth AS d, "promptTokens" AS p, left(response, ${excerptChars}) AS r, left(error, 300) AS e, "latencyMs" AS t
      FROM "EvalCell" WHERE "evalRunId" = ${evalRunId} AND sample = 0`,
    /** A job's status, progress, error and attempts, or null when there is no such job. */
    jobState: (id: string) => db.job.findUnique({ where: { id }, select: { id: true, status: true, progress: true, error: true, attempts: true, maxAttempts: true } }),
    /** Every sample of one (length, depth) cell of a run, by sample. */
    cellSamples: (evalRunId: string, contextLength: number, depth: number) =>
      db.evalCell.findMany({
        where: { evalRunId, contextLength, depth },
        orderBy: { sample: 'asc' },
      }),
    /** The distinct (length, depth) pairs a run has cells for. */
    cellAxes: (evalRunId: string) => db.$queryRaw<{ length: number; depth: number }[]>`SELECT DISTINCT "contextLength" AS length, depth FROM "EvalCell" WHERE "evalRunId" = ${evalRunId}`,
    /** One page of jobs (newest first) with the eval run each drives, and how many match. */
    async jobsPage(a: { kind?: JobKind | undefined; status?: JobStatus | undefined; activeOnly?: boolean | undefined; offset: number; limit: number }) {
      const where = {
        ...(a.kind ? { kind: a.kind } : {}),
        ...(a.status ? { status: a.status } : a.activeOnly ? { status: { in: [...ACTIVE_JOB_STATUSES] } } : {}),
      };
      return newestFirst(a, (w) => db.job.findMany({ where, ...w, select: JOB_ROW }), () => db.job.count({ where }));
    },
    /** The latest event of each of these jobs, in one query (DISTINCT ON uses the (jobId, id) index); none asked, no query. */
    async latestJobEvents(jobIds: string[]) {
      return jobIds.length
        ? await db.$queryRaw<{ jobId: string; id: bigint; type: string; message: string; createdAt: Date }[]>`
        SELECT DISTINCT ON ("jobId") "jobId", id, type, message, "createdAt" FROM "JobEvent" WHERE "jobId" = ANY(${jobIds}) ORDER BY "jobId", id DESC`
        : [];
    },
    /** The eval run a job drives with its model, or null. */
    evalRunOfJob: (jobId: string) =>
      db.evalRun.findUnique({ where: { jobId }, select: { id: true, name: true, status: true, cellsDone: true, cellsTotal: true, model: { select: { id: true, name: true } } } }),
    /** Some eval runs (in no particular order) with their config, model and endpoint. */
    compareRuns: (ids: string[]) =>
      db.evalRun.findMany({
        where: { id: { in: ids } },
        select: {
          id: true, name: true, status: true, config: true, cellsDone: true, cellsTotal: true, createdAt: true,
          model: { select: { id: true, name: true } },
          endpoint: { select: { id: true, name: true } },
        },
      }),
    /** GPU type and count of every unarchived endpoint that holds GPUs. */
    gpuEndpoints: () => db.endpoint.findMany({ where: { archivedAt: null, gpuType: { not: null }, gpuCount: { gt: 0 } }, select: { gpuType: true, gpuCount: true } }),
    /** Status and spec of every queued, running or retrying job of these kinds. */
    activeJobsOfKinds: (kinds: readonly string[]) => db.job.findMany({ where: { kind: { in: [...kinds] }, status: { in: [...ACTIVE_JOB_STATUSES] } }, select: { status: true, spec: true, gpuType: true, gpus: true, admittedAt: true } }),
  };
}

/** Sample 0 of one cell, what the heatmap's hover card shows. */
export interface HeatmapDetail {
  id: string;
  l: number;
  d: number;
  p: number | null;
  r: string | null;
  e: string | null;
  t: number | null;
}
