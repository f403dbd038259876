import { badRequest, canEvalRunTransition, notFound, readEvalRunConfig, readEvalRunSummary, type EvalRunCreateInput, type EvalStatus } from '@ctxlab/contracts';
import type { Db } from '../client';
import { guard } from '../errors';
import { type EvalRunEvent as EvalRunEventRow, Prisma } from '../generated/prisma/client';
import { moveAlong } from './machine';
import { paginate, textSearch, type ListArgs } from './paging';

/** A run as the rest of the code sees it: its JSON columns read with their contracts schemas. */
export const evalRunOut = <R extends { config: unknown; summary: unknown }>(r: R) => ({
  ...r,
  config: readEvalRunConfig(r.config),
  summary: r.summary === null ? null : readEvalRunSummary(r.summary),
});
const eventOut = (e: EvalRunEventRow) => ({ ...e, id: Number(e.id) });

type Tx = Pick<Db, 'evalRun' | 'evalRunEvent'>;

/** PostgreSQL's clock as the registry stores times (UTC, without a time zone), as Prisma's own writes do. */
const UTC_NOW = Prisma.sql`(now() AT TIME ZONE 'UTC')`;

/**
 * One move of a run inside the caller's transaction: the update is conditional on the status the
 * caller read (two racing moves cannot both win) and the event is appended with it. False when the
 * run was no longer `from`.
 */
export async function moveEvalRun(tx: Tx, id: string, from: EvalStatus, to: EvalStatus, message: string, patch: Prisma.EvalRunUpdateManyMutationInput = {}) {
  const r = await tx.evalRun.updateMany({ where: { id, status: from }, data: { ...patch, status: to } });
  if (r.count === 0) return false;
  await tx.evalRunEvent.create({ data: { evalRunId: id, fromStatus: from, toStatus: to, message } });
  return true;
}

/** The first event of a run's history, in the transaction that creates it. */
export function recordEvalRunCreated(tx: Tx, id: string, status: EvalStatus, message: string) {
  return tx.evalRunEvent.create({ data: { evalRunId: id, fromStatus: null, toStatus: status, message } });
}

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
        evalRunOut,
      ),
    async get(id: string) {
      const r = await db.evalRun.findUnique({ where: { id }, include: { model: { select: { id: true, name: true } }, endpoint: { select: { id: true, name: true, url: true } } } });
      if (!r) throw notFound('eval run', id);
      return evalRunOut(r);
    },
    /** The run with its endpoint (its encrypted API key left out; endpoint null when it has none), or null when there is no run. */
    withEndpoint: async (id: string) => {
      const r = await db.evalRun.findUnique({ where: { id }, include: { endpoint: { omit: { apiKeyEncrypted: true } } } });
      return r && evalRunOut(r);
    },
    /** The eval run of a job, or null when the job has none. */
    ofJob: async (jobId: string) => {
      const r = await db.evalRun.findUnique({ where: { jobId } });
      return r && evalRunOut(r);
    },
    async create(input: EvalRunCreateInput & { cellsTotal?: number; jobId?: string }) {
      for (const [field, table] of [['modelId', db.model], ['endpointId', db.endpoint], ['datasetId', db.dataset]] as const) {
        const id = input[field];
        if (id && !(await (table as unknown as { findUnique(a: object): Promise<unknown> }).findUnique({ where: { id }, select: { id: true } }))) {
          throw badRequest(`${field}: ${field.replace('Id', '')} ${id} does not exist`, field);
        }
      }
      return guard('eval run', () =>
        db.$transaction(async (tx) => {
          const run = await tx.evalRun.create({ data: { ...input, config: input.config as Prisma.InputJsonValue } });
          await recordEvalRunCreated(tx, run.id, run.status, 'registered');
          return evalRunOut(run);
        }),
      );
    },
    async update(id: string, patch: { name?: string | undefined; tags?: string[] | undefined }) {
      await this.get(id);
      return evalRunOut(await guard('eval run', () => db.evalRun.update({ where: { id }, data: patch })));
    },
    async archive(id: string) {
      await this.get(id);
      return evalRunOut(await db.evalRun.update({ where: { id }, data: { archivedAt: new Date() } }));
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
    /**
     * A sweep's batch of cells and the progress it reached, in one statement: the cells inserted
     * with one multi-row INSERT (arrays unnested, so the statement has 15 parameters whatever the
     * batch size; a cell already stored is skipped), the run's cellsDone and summary and the job's
     * progress set with them — all or nothing, and in the caller's transaction when given one (a
     * lease-fenced write). Returns how many cells were new.
     */
    async storeCellBatch(
      batch: { evalRunId: string; jobId: string; cells: readonly CellInput[]; cellsDone: number; progress: unknown },
      tx: Pick<Db, '$queryRaw'> = db,
    ): Promise<number> {
      const col = <T>(f: (c: CellInput) => T) => batch.cells.map(f);
      const progress = JSON.stringify(batch.progress);
      const rows = await tx.$queryRaw<{ n: number }[]>`
        WITH cells AS (
          INSERT INTO "EvalCell" ("id", "evalRunId", "task", "contextLength", "depth", "sample", "promptTokens", "needleToken", "needle", "expected", "response", "score", "latencyMs", "error", "attempts", "createdAt")
          SELECT gen_random_uuid()::text, ${batch.evalRunId}, c.*, ${UTC_NOW}
          FROM unnest(
            ${col((c) => c.task ?? '')}::text[], ${col((c) => c.contextLength)}::int[], ${col((c) => c.depth)}::float8[], ${col((c) => c.sample)}::int[],
            ${col((c) => c.promptTokens ?? null)}::int[], ${col((c) => c.needleToken ?? null)}::int[], ${col((c) => c.needle ?? null)}::text[], ${col((c) => c.expected ?? null)}::text[],
            ${col((c) => c.response ?? null)}::text[], ${col((c) => c.score)}::float8[], ${col((c) => c.latencyMs ?? null)}::int[], ${col((c) => c.error ?? null)}::text[], ${col((c) => c.attempts ?? 1)}::int[]
          ) AS c
          ON CONFLICT ("evalRunId", "task", "contextLength", "depth", "sample") DO NOTHING
          RETURNING 1
        ),
        run AS (UPDATE "EvalRun" SET "cellsDone" = ${batch.cellsDone}, "summary" = ${progress}::jsonb, "updatedAt" = ${UTC_NOW} WHERE "id" = ${batch.evalRunId} RETURNING 1),
        job AS (UPDATE "Job" SET "progress" = ${progress}::jsonb, "updatedAt" = ${UTC_NOW} WHERE "id" = ${batch.jobId} RETURNING 1)
        SELECT (SELECT count(*) FROM cells)::int AS n, (SELECT count(*) FROM run) AS r, (SELECT count(*) FROM job) AS j`;
      return rows[0]?.n ?? 0;
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
    /**
     * Moves a run along the eval-run state machine (libs/contracts/src/eval-status.ts), with its
     * event. A move the machine does not allow is refused (PRECONDITION_FAILED); with `ifAllowed`
     * it is skipped and null returned instead — a run a person cancelled stays cancelled when its
     * worker ends it. Returns the status the run left.
     */
    async transition(id: string, to: EvalStatus, message: string, opts: { patch?: Prisma.EvalRunUpdateManyMutationInput; ifAllowed?: boolean } = {}): Promise<EvalStatus | null> {
      return moveAlong('eval run', id, to, {
        read: async () => (await db.evalRun.findUnique({ where: { id }, select: { status: true } }))?.status ?? null,
        allowed: canEvalRunTransition,
        move: (from) => db.$transaction((tx) => moveEvalRun(tx, id, from, to, message, opts.patch)),
        ifAllowed: opts.ifAllowed,
      });
    },
    /** A run's status history, oldest first (after `afterId` when given). */
    async events(evalRunId: string, afterId = 0) {
      const rows = await db.evalRunEvent.findMany({ where: { evalRunId, id: { gt: BigInt(afterId) } }, orderBy: { id: 'asc' }, take: 1000 });
      return rows.map(eventOut);
    },
    /** Marks a run running (a resumed run keeps its first start), not finished. */
    async markRunning(id: string, startedAt: Date | null) {
      await this.transition(id, 'running', startedAt ? 'resumed with its job' : 'started with its job', { patch: { startedAt: startedAt ?? new Date(), finishedAt: null } });
    },
    /** Records a run's progress: cells done and the progress summary. */
    async recordProgress(id: string, cellsDone: number, summary: unknown) {
      await db.evalRun.update({ where: { id }, data: { cellsDone, summary: summary as Prisma.InputJsonValue } });
    },
    /**
     * Marks a run ended now (succeeded or failed), with its summary when given (else the last
     * progress stays). A run that already ended (a person cancelled it meanwhile) keeps its end.
     */
    async markEnded(id: string, status: 'succeeded' | 'failed', summary?: unknown, reason?: string) {
      await this.transition(id, status, reason ?? (status === 'succeeded' ? 'all cells done' : 'its job failed'), {
        ifAllowed: true,
        patch: { finishedAt: new Date(), ...(summary === undefined ? {} : { summary: summary as Prisma.InputJsonValue }) },
      });
    },
    /** Marks the unfinished (pending or running) run of a cancelled job cancelled now. */
    async cancelOfJob(jobId: string, by?: string) {
      const run = await db.evalRun.findUnique({ where: { jobId }, select: { id: true } });
      if (run) await this.transition(run.id, 'cancelled', by ? `its job was cancelled by ${by}` : 'its job was cancelled', { ifAllowed: true, patch: { finishedAt: new Date() } });
    },
    /** Puts a run whose retry could not be queued back to how it ended (the status only). */
    async restoreEnded(id: string, status: 'failed' | 'cancelled') {
      await this.transition(id, status, 'its retry could not be queued: back to how it ended');
    },
    /**
     * Records a run that was run elsewhere as finished, with its summary and cell counts: it goes
     * through running to its end like any run, so its history reads the same.
     */
    async finish(id: string, f: { status: 'succeeded' | 'failed' | 'cancelled'; summary?: unknown; finishedAt?: Date }) {
      await this.get(id);
      const done = await db.evalCell.count({ where: { evalRunId: id } });
      const at = f.finishedAt ?? new Date();
      await this.transition(id, 'running', 'recorded: its cells were run elsewhere', { patch: { startedAt: at } });
      await this.transition(id, f.status, `recorded as ${f.status}`, {
        patch: { cellsDone: done, finishedAt: at, ...(f.summary === undefined ? {} : { summary: f.summary as Prisma.InputJsonValue }) },
      });
      return this.get(id);
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
  needleToken?: number | null;
  needle?: string | null;
  error?: string | null;
  expected?: string | null;
  response?: string | null;
  promptTokens?: number | null;
  latencyMs?: number | null;
  attempts?: number;
}
