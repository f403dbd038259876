import type { HeatmapCellScores, JobKind, JobStatus } from '@ctxlab/contracts';
import type { Db } from '../client';
import { Prisma, type EvalCell, type EvalStatus } from '../generated/prisma/client';
import { badRequest } from '@ctxlab/contracts';
import type { ScoredCell } from './evals';
import { newestFirst } from './paging';
import { EVAL_CELL_COLUMNS } from './seeding';

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
      cursor?: string | undefined;
    }) {
      const where = {
        archivedAt: null,
        ...(a.search ? { name: { contains: a.search, mode: 'insensitive' as const } } : {}),
        ...(a.status ? { status: a.status } : {}),
        ...(a.modelId ? { modelId: a.modelId } : {}),
        ...(a.endpointId ? { endpointId: a.endpointId } : {}),
      };
      return newestFirst(a, ({ after, ...w }) => db.evalRun.findMany({ where: { AND: [where, after] }, ...w, select: EVAL_RUN_ROW }), () => db.evalRun.count({ where }));
    },
    /** An endpoint's name and max model length, or null when there is no such endpoint. */
    endpointLimits: (id: string) => db.endpoint.findUnique({ where: { id }, select: { name: true, maxModelLen: true } }),
    /**
     * The heatmap's one aggregate: a run's cells per (length, depth) in PostgreSQL — sum and count
     * of scored samples, failed requests — whatever the run's size. `heatmapMatrix` (@ctxlab/contracts)
     * draws the matrix from these rows.
     */
    async heatmapAggregates(evalRunId: string): Promise<Required<HeatmapCellScores>[]> {
      // Grouped in the run's index order (task, length, depth): a streaming aggregate, no hash table
      // of 10,000 groups; the tasks of a suite run sharing a (length, depth) are merged here.
      const rows = await db.$queryRaw<Required<HeatmapCellScores>[]>`
        SELECT "contextLength" AS length, depth, coalesce(sum(score), 0)::float8 AS sum, count(score)::int AS n, count(error)::int AS failed
        FROM "EvalCell" WHERE "evalRunId" = ${evalRunId} GROUP BY task, 1, 2 ORDER BY task, 1, 2`;
      // One task (every NIAH run): (length, depth) only ever increases. Otherwise merge the tasks' rows.
      const single = rows.every((r, i) => i === 0 || r.length > rows[i - 1]!.length || (r.length === rows[i - 1]!.length && r.depth > rows[i - 1]!.depth));
      if (single) return rows;
      const byCell = new Map<string, Required<HeatmapCellScores>>();
      for (const r of rows) {
        const k = `${r.length}|${r.depth}`;
        const c = byCell.get(k);
        if (c) {
          c.sum += r.sum;
          c.n += r.n;
          c.failed += r.failed;
        } else byCell.set(k, { ...r });
      }
      return [...byCell.values()];
    },
    /**
     * The scored cells of a few runs, only the columns a bootstrap needs: tens of thousands of rows
     * for 10,000-cell runs, where the generic find's per-row mapping dominates. One raw query per
     * run, side by side on the pool, each leaving out the run id it would repeat on every row.
     */
    async scoredCells(evalRunIds: readonly string[]): Promise<ScoredCell[]> {
      const perRun = await Promise.all(
        [...new Set(evalRunIds)].map(async (evalRunId) => {
          const rows = await db.$queryRaw<{ task: string; contextLength: number; depth: number; score: number }[]>`
            SELECT task, "contextLength", depth, score FROM "EvalCell" WHERE "evalRunId" = ${evalRunId} AND score IS NOT NULL`;
          return rows.map((r) => ({ evalRunId, task: r.task, contextLength: r.contextLength, depth: r.depth, score: r.score }));
        }),
      );
      return perRun.flat();
    },
    /** Sample 0 of each of a run's cells: prompt tokens, the start of its answer, its error and latency. */
    heatmapDetails: (evalRunId: string, excerptChars: number) =>
      db.$queryRaw<HeatmapDetail[]>`
      SELECT "contextLength" AS l, depth AS d, "promptTokens" AS p, left(response, ${excerptChars}) AS r, left(error, 300) AS e, "latencyMs" AS t
      FROM "EvalCell" WHERE "evalRunId" = ${evalRunId} AND sample = 0`,
    /**
     * The same as `heatmapDetails`, packed by PostgreSQL into one JSON text: an array of
     * [length, depth, promptTokens, excerpt, error, latencyMs], one per cell, in no order. A
     * 10,000-cell run's details pass through as one string instead of 60,000 values.
     */
    async heatmapDetailsJson(evalRunId: string, excerptChars: number): Promise<string> {
      const [r] = await db.$queryRaw<{ j: string }[]>`
        SELECT coalesce(json_agg(json_build_array("contextLength", depth, "promptTokens", left(response, ${excerptChars}), left(error, 300), "latencyMs")), '[]')::text AS j
        FROM "EvalCell" WHERE "evalRunId" = ${evalRunId} AND sample = 0`;
      return r?.j ?? '[]';
    },
    /** A job's status, progress, error and attempts, or null when there is no such job. */
    jobState: (id: string) => db.job.findUnique({ where: { id }, select: { id: true, status: true, progress: true, error: true, attempts: true, maxAttempts: true } }),
    /** Every sample of one (length, depth) cell of a run, by sample. */
    cellSamples: (evalRunId: string, contextLength: number, depth: number) =>
      db.evalCell.findMany({
        where: { evalRunId, contextLength, depth },
        orderBy: { sample: 'asc' },
      }),
    /**
     * One page of a run's cells in (task, length, depth, sample) order — the run's unique index —
     * and how many it has: after a cursor (the last cell's key, a range of that index however deep
     * the page) or at an offset (older clients). The caller checks the run exists.
     */
    async cellsPage(evalRunId: string, a: { limit: number; offset?: number | undefined; cursor?: string | undefined }) {
      const key = a.cursor ? decodeCellCursor(a.cursor) : null;
      const [rows, [count]] = await Promise.all([
        key
          ? db.$queryRaw<EvalCell[]>`
            SELECT ${CELL_COLUMNS} FROM "EvalCell"
            WHERE "evalRunId" = ${evalRunId} AND (task, "contextLength", depth, sample) > (${key.task}, ${key.length}::int, ${key.depth}::float8, ${key.sample}::int)
            ORDER BY task, "contextLength", depth, sample LIMIT ${a.limit + 1}`
          : db.$queryRaw<EvalCell[]>`
            SELECT ${CELL_COLUMNS} FROM "EvalCell" WHERE "evalRunId" = ${evalRunId}
            ORDER BY task, "contextLength", depth, sample LIMIT ${a.limit + 1} OFFSET ${a.offset ?? 0}`,
        db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM "EvalCell" WHERE "evalRunId" = ${evalRunId}`,
      ]);
      const total = count?.n ?? 0;
      const more = rows.length > a.limit;
      const items = more ? rows.slice(0, a.limit) : rows;
      const last = items.at(-1);
      const next = (a.offset ?? 0) + items.length;
      return {
        items,
        total,
        nextCursor: more && last ? encodeCellCursor(last) : null,
        nextOffset: key ? null : next < total ? next : null,
      };
    },
    /** The distinct (length, depth) pairs a run has cells for. */
    cellAxes: (evalRunId: string) => db.$queryRaw<{ length: number; depth: number }[]>`SELECT DISTINCT "contextLength" AS length, depth FROM "EvalCell" WHERE "evalRunId" = ${evalRunId}`,
    /** One page of jobs (newest first) with the eval run each drives, and how many match. */
    async jobsPage(a: { kind?: JobKind | undefined; status?: JobStatus | undefined; activeOnly?: boolean | undefined; offset: number; limit: number; cursor?: string | undefined }) {
      const where = {
        ...(a.kind ? { kind: a.kind } : {}),
        ...(a.status ? { status: a.status } : a.activeOnly ? { status: { in: [...ACTIVE_JOB_STATUSES] } } : {}),
      };
      return newestFirst(a, ({ after, ...w }) => db.job.findMany({ where: { AND: [where, after] }, ...w, select: JOB_ROW }), () => db.job.count({ where }));
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

/** Every column of a cell, as the cells page answers it. */
const CELL_COLUMNS = Prisma.raw(EVAL_CELL_COLUMNS.map((c) => `"${c}"`).join(', '));

/** A cells page's position: the last cell's (task, length, depth, sample), unique within a run. */
function encodeCellCursor(c: { task: string; contextLength: number; depth: number; sample: number }) {
  return Buffer.from(JSON.stringify(['cell', c.task, c.contextLength, c.depth, c.sample])).toString('base64url');
}

function decodeCellCursor(cursor: string) {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parts = null;
  }
  const [kind, task, length, depth, sample] = Array.isArray(parts) ? (parts as unknown[]) : [];
  if (parts === null || (parts as unknown[]).length !== 5 || kind !== 'cell' || typeof task !== 'string' || !Number.isInteger(length) || typeof depth !== 'number' || !Number.isFinite(depth) || !Number.isInteger(sample)) {
    throw badRequest('cursor: not a cells cursor this API issued; start again from the first page (no cursor)', 'cursor');
  }
  return { task, length: length as number, depth, sample: sample as number };
}

/** Sample 0 of one cell, what the heatmap's hover card shows. */
export interface HeatmapDetail {
  l: number;
  d: number;
  p: number | null;
  r: string | null;
  e: string | null;
  t: number | null;
}
