import { badRequest, notFound, type EvalRunCreateInput } from '@ctxlab/contracts';
import type { Db } from '../client';
import { guard } from '../errors';
import type { Prisma } from '../generated/prisma/client';
import { paginate, textSearch, type ListArgs } from './paging';

const identity = <T>(x: T) => x;

export function evalsRepo(db: Db) {
  return {
    list: (a: ListArgs & { kind?: string | undefined; status?: string | undefined; modelId?: string | undefined }) =>
      paginate(
        db.evalRun,
        a,
        {
          ...textSearch(['name'], a.search),
          ...(a.kind ? { kind: a.kind } : {}),
          ...(a.status ? { status: a.status } : {}),
          ...(a.modelId ? { modelId: a.modelId } : {}),
        },
        identity,
      ),
    async get(id: string) {
      const r = await db.evalRun.findUnique({ where: { id }, include: { model: { select: { id: true, name: true } }, endpoint: { select: { id: true, name: true, url: true } } } });
      if (!r) throw notFound('eval run', id);
      return r;
    },
    /** The run with its endpoint (its encrypted API key left out; endpoint null when it has none), or null when there is no run. */
    withEndpoint: (id: string) => db.evalRun.findUnique({ where: { id }, include: { endpoint: { omit: { apiKeyEncrypted: true } } } }),
    /** The eval run of a job, or null when the job has none. */
    ofJob: (jobId: string) => db.evalRun.findUnique({ where: { jobId } }),
    async create(input: EvalRunCreateInput & { cellsTotal?: number; jobId?: string }) {
      for (const [field, table] of [['modelId', db.model], ['endpointId', db.endpoint], ['datasetId', db.dataset]] as const) {
        const id = input[field];
        if (id && !(await (table as unknown as { findUnique(a: object): Promise<unknown> }).findUnique({ where: { id }, select: { id: true } }))) {
          throw badRequest(`${field}: ${field.replace('Id', '')} ${id} does not exist`, field);
        }
      }
      return guard('eval run', () => db.evalRun.create({ data: { ...input, config: input.config as Prisma.InputJsonValue } }));
    },
    async update(id: string, patch: { name?: string | undefined; tags?: string[] | undefined }) {
      await this.get(id);
      return guard('eval run', () => db.evalRun.update({ where: { id }, data: patch }));
    },
    async archive(id: string) {
      await this.get(id);
      return db.evalRun.update({ where: { id }, data: { archivedAt: new Date() } });
    },
    async cells(evalRunId: string, limit: number, offset: number) {
      await this.get(evalRunId);
      const [items, total] = await Promise.all([
        db.evalCell.findMany({ where: { evalRunId }, orderBy: [{ task: 'asc' }, { contextLength: 'asc' }, { depth: 'asc' }, { sample: 'asc' }], skip: offset, take: limit }),
        db.evalCell.count({ where: { evalRunId } }),
      ]);
      const next = offset + items.length;
      return { items, total, nextOffset: next < total ? next : null };
    },
    /**
     * Scores of a run aggregated per (task, length, depth) in PostgreSQL: sum and count of scored
     * cells, failed requests. One query whatever the run's size.
     */
    cellAggregates: (evalRunId: string) =>
      db.$queryRaw<CellAggregate[]>`
        SELECT task, "contextLength" AS length, depth, coalesce(sum(score), 0)::float8 AS sum, count(score)::int AS n, count(error)::int AS failed
        FROM "EvalCell" WHERE "evalRunId" = ${evalRunId} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    /** Finished, unarchived runs of a model, newest first (bounded: a scorecard reads the newest per suite). */
    finishedRunsOf: (modelId: string, take = 200) =>
      db.evalRun.findMany({
        where: { modelId, status: 'succeeded', archivedAt: null, finishedAt: { not: null } },
        orderBy: [{ finishedAt: 'desc' }, { id: 'asc' }],
        take,
        select: { id: true, name: true, kind: true, config: true, finishedAt: true, cellsTotal: true },
      }),
    /** Every cell's task, length and score (null: failed), what a suite's summary is computed from. */
    cellScores: (evalRunId: string) =>
      db.evalCell.findMany({ where: { evalRunId }, select: { task: true, contextLength: true, score: true }, orderBy: [{ task: 'asc' }, { contextLength: 'asc' }, { sample: 'asc' }] }),
    /** The scored cells of a few runs, only the columns a bootstrap needs. */
    scoredCells: (evalRunIds: readonly string[]) =>
      db.evalCell.findMany({
        where: { evalRunId: { in: [...evalRunIds] }, score: { not: null } },
        select: { evalRunId: true, task: true, contextLength: true, depth: true, score: true },
      }) as Promise<ScoredCell[]>,
    /** The models whose latest finished run is newest, newest first. */
    async modelsWithNewestResults(take: number) {
      const rows = await db.evalRun.groupBy({
        by: ['modelId'],
        where: { status: 'succeeded', archivedAt: null, modelId: { not: null }, finishedAt: { not: null }, model: { archivedAt: null } },
        _max: { finishedAt: true },
        orderBy: { _max: { finishedAt: 'desc' } },
        take,
      });
      return rows.map((r) => ({ modelId: r.modelId!, finishedAt: r._max.finishedAt! }));
    },
    /** Records cells of a run as a sweep does (a cell already recorded is kept): for imports and fixtures. */
    async recordCells(evalRunId: string, cells: readonly CellInput[]) {
      await this.get(evalRunId);
      const r = await db.evalCell.createMany({ data: cells.map((c) => ({ ...c, evalRunId })), skipDuplicates: true });
      return r.count;
    },
    /** Mean latency of the endpoint's last answered requests (up to 200 cells), for ETAs; null when it has none. */
    async recentLatency(endpointId: string): Promise<{ meanMs: number; cells: number } | null> {
      const rows = await db.evalCell.findMany({
        where: { evalRun: { endpointId }, error: null, latencyMs: { not: null } },
        orderBy: { createdAt: 'desc' },
        take: 200,
        select: { latencyMs: true },
      });
      if (rows.length === 0) return null;
      return { meanMs: rows.reduce((a, r) => a + (r.latencyMs ?? 0), 0) / rows.length, cells: rows.length };
    },
    /** Every stored cell's key and score: what a resumed run skips. */
    cellKeys: (evalRunId: string) =>
      db.evalCell.findMany({ where: { evalRunId }, select: { task: true, contextLength: true, depth: true, sample: true, score: true } }),
    /**
     * Stores cells as a run finishes them (a cell already stored is skipped), in the caller's
     * transaction when given one (a lease-fenced write). Returns how many were new.
     */
    async storeCells(cells: Prisma.EvalCellCreateManyInput[], tx: Pick<Db, 'evalCell'> = db) {
      return (await tx.evalCell.createMany({ skipDuplicates: true, data: cells })).count;
    },
    /** Drops the run's failed cells, so a resumed run redoes them; in the caller's transaction when given one. */
    async dropFailedCells(evalRunId: string, tx: Pick<Db, 'evalCell'> = db) {
      await tx.evalCell.deleteMany({ where: { evalRunId, error: { not: null } } });
    },
    /** How a run's cells ended: the failed ones' errors (oldest first), the mean score and count of the others. */
    async cellOutcome(evalRunId: string) {
      const failed = await db.evalCell.findMany({ where: { evalRunId, error: { not: null } }, select: { error: true }, orderBy: { createdAt: 'asc' } });
      const scored = await db.evalCell.aggregate({ where: { evalRunId, error: null }, _avg: { score: true }, _count: true });
      return { errors: failed.map((c) => c.error ?? ''), averageScore: scored._avg.score, scoredCells: scored._count };
    },
    /** Marks a run running (a resumed run keeps its first start), not finished. */
    async markRunning(id: string, startedAt: Date | null) {
      await db.evalRun.update({ where: { id }, data: { status: 'running', startedAt: startedAt ?? new Date(), finishedAt: null } });
    },
    /** Records a run's progress: cells done and the progress summary. */
    async recordProgress(id: string, cellsDone: number, summary: unknown) {
      await db.evalRun.update({ where: { id }, data: { cellsDone, summary: summary as Prisma.InputJsonValue } });
    },
    /** Marks a run ended now (succeeded or failed), with its summary when given (else the last progress stays). */
    async markEnded(id: string, status: 'succeeded' | 'failed', summary?: unknown) {
      await db.evalRun.update({ where: { id }, data: { status, finishedAt: new Date(), ...(summary === undefined ? {} : { summary: summary as Prisma.InputJsonValue }) } });
    },
    /** Marks the unfinished (pending or running) run of a cancelled job cancelled now. */
    async cancelOfJob(jobId: string) {
      await db.evalRun.updateMany({ where: { jobId, status: { in: ['pending', 'running'] } }, data: { status: 'cancelled', finishedAt: new Date() } });
    },
    /** Puts a run whose retry could not be queued back to how it ended (the status only). */
    async restoreEnded(id: string, status: 'failed' | 'cancelled') {
      await db.evalRun.update({ where: { id }, data: { status } });
    },
    /** Marks a run finished with its summary and cell counts. */
    async finish(id: string, f: { status: 'succeeded' | 'failed' | 'cancelled'; summary?: unknown; finishedAt?: Date }) {
      await this.get(id);
      const done = await db.evalCell.count({ where: { evalRunId: id } });
      const at = f.finishedAt ?? new Date();
      return db.evalRun.update({
        where: { id },
        data: { status: f.status, cellsDone: done, finishedAt: at, startedAt: at, ...(f.summary === undefined ? {} : { summary: f.summary as Prisma.InputJsonValue }) },
      });
    },
  };
}

/** One (task, length, depth) group of a run's cells. */
export interface CellAggregate {
  task: string;
  length: number;
  depth: number;
  sum: number;
  n: number;
  failed: number;
}

export interface ScoredCell {
  evalRunId: string;
  task: string;
  contextLength: number;
  depth: number;
  score: number;
}

export interface CellInput {
  task?: string;
  contextLength: number;
  depth: number;
  sample: number;
  score: number | null;
  error?: string | null;
  expected?: string | null;
  response?: string | null;
  promptTokens?: number | null;
  latencyMs?: number | null;
  attempts?: number;
}
