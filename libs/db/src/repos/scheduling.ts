import { DomainError, notFound } from '@ctxlab/contracts';
import type { Db } from '../client';
import { Prisma } from '../generated/prisma/client';

/** GPU work the scheduler and the cost accounts see. */
export const GPU_KINDS = ['train', 'lora-extract', 'lora-merge', 'serve'] as const;
const GPU_KINDS_SQL = Prisma.join([...GPU_KINDS]);
/** A GPU pool row that only says "this executor reports its pools" (it may have none right now: a node pool scaled to zero). */
export const REPORTED_MARK = '*';
/** One advisory lock for scheduling passes: whoever runs one (a worker, the API after a submission) runs it alone. */
const PASS_LOCK = Prisma.sql`SELECT pg_advisory_xact_lock(hashtext('ctxlab:gpu-scheduler'))`;

export interface QueuedRow {
  id: string;
  teamId: string | null;
  priority: 'high' | 'normal' | 'low';
  executor: string;
  gpuType: string;
  gpus: number;
  queuedAt: Date;
  quotaOverride: boolean;
  estimatedGpuHours: number | null;
}
export interface HeldRow {
  id: string;
  kind: string;
  teamId: string | null;
  executor: string;
  gpuType: string;
  gpus: number;
  since: Date;
  estimatedGpuHours: number | null;
}
export interface UsageRow {
  teamId: string;
  gpuType: string;
  hours: number;
}
export interface PassBase {
  held: HeldRow[];
  pools: { executor: string; gpuType: string; gpus: number; foreignUsed: number }[];
  /** Executors that report their pools; GPU jobs on any other executor need no admission. */
  reporting: Set<string>;
  teams: { id: string; name: string; weight: number }[];
  quotas: { teamId: string; gpuType: string; period: string; gpuHours: number | null; maxGpus: number | null }[];
  usage: (UsageRow & { period: string })[];
}

/** What a pass reads with, inside its locked transaction. */
export interface PassReader {
  base: PassBase;
  /** Queued jobs that need no admission decision: they hold no GPU, name no GPU type, or their executor reports no pools. */
  unmanaged: () => Promise<QueuedRow[]>;
  /** Queued GPU jobs (all, or `pools`' "executor/gpuType" only, the first `perLane` of each lane), with their lanes' sizes. */
  queued: (opts: { pools?: string[]; perLane?: number }) => Promise<(QueuedRow & { laneSize: number })[]>;
}

/** The start of the quota period that contains `now` (UTC calendar: day, ISO week from Monday, month). */
export function periodStart(period: string, now: Date): Date {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), period === 'month' ? 1 : now.getUTCDate()));
  if (period === 'week') d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d;
}

/** Billing units of a job: its GPUs, or one device for work that holds none (the lab's CPU jobs). */
const UNITS = Prisma.sql`(CASE WHEN "gpus" > 0 THEN "gpus" ELSE 1 END)`;

export function schedulingRepo(db: Db) {
  return {
    /**
     * One scheduling pass, alone (an advisory lock): `decide` reads what it needs through the
     * reader — the base state, then the queued jobs it may admit — and returns admissions, which are
     * recorded — each only if the job is still queued and not yet admitted — with an event, in one
     * transaction. A pass that dies half way admits nothing.
     */
    async pass<D extends { admit: { jobId: string; reason: string }[] }>(now: Date, decide: (reader: PassReader) => Promise<D>): Promise<D & { admitted: string[] }> {
      return db.$transaction(
        async (tx) => {
          await tx.$executeRaw(PASS_LOCK);
          const base = await readBase(tx, now);
          const decision = await decide({
            base,
            unmanaged: () => tx.$queryRaw<QueuedRow[]>`
              SELECT ${QUEUED_COLUMNS} FROM "Job"
              WHERE "status" = 'queued' AND "admittedAt" IS NULL AND "kind" IN (${GPU_KINDS_SQL})
                AND ("gpus" <= 0 OR "gpuType" = 'any' OR NOT ("executor" = ANY(${[...base.reporting]}::text[])))`,
            queued: (opts) => readQueued(tx, opts),
          });
          const admitted: string[] = [];
          for (const a of decision.admit) {
            const n = await tx.job.updateMany({ where: { id: a.jobId, status: 'queued', admittedAt: null }, data: { admittedAt: now } });
            if (n.count === 0) continue;
            await tx.jobEvent.create({ data: { jobId: a.jobId, type: 'admitted', message: a.reason } });
            admitted.push(a.jobId);
          }
          return { ...decision, admitted };
        },
        { timeout: 60_000, maxWait: 60_000 },
      );
    },
    /** Every queued GPU job waiting for admission, read outside a pass (to explain the queue). */
    queuedAll: () => readQueued(db, {}),
    /** Whether any GPU job waits for admission or for a worker to start it (an idle pass can stop here). */
    async anyWaiting(): Promise<boolean> {
      const rows = await db.$queryRaw<{ any: boolean }[]>`
        SELECT EXISTS (SELECT 1 FROM "Job" WHERE "status" = 'queued' AND "kind" IN (${GPU_KINDS_SQL})) AS "any"`;
      return rows[0]?.any ?? false;
    },
    /** GPU jobs the scheduler admitted that no worker has started: each must be on the GPU queue. */
    admittedWaiting: () =>
      db.job.findMany({
        where: { kind: { in: [...GPU_KINDS] }, status: 'queued', admittedAt: { not: null }, OR: [{ leaseExpiresAt: null }, { leaseExpiresAt: { lt: new Date() } }] },
        select: { id: true, attempts: true },
      }),
    /** GPU jobs waiting for admission or holding GPUs, for the queue view (waiting first, oldest first). */
    queueView: () =>
      db.job.findMany({
        where: { kind: { in: [...GPU_KINDS] }, status: { in: ['queued', 'running', 'retrying'] }, gpus: { gt: 0 } },
        select: { id: true, kind: true, status: true, executor: true, gpuType: true, gpus: true, priority: true, queuedAt: true, admittedAt: true, gpuStartedAt: true, quotaOverride: true, estimate: true, spec: true, team: { select: { id: true, name: true } } },
        orderBy: [{ queuedAt: 'asc' }],
        take: 2000,
      }),
    /** GPU-hours per team and GPU type from `from` to `to` (jobs still running count up to `to`). */
    usageSince: (from: Date, to: Date) => usageSince(db, from, to),
    /** Replaces what one executor reported of its pools. */
    async reportPools(executor: string, pools: { gpuType: string; gpus: number; nodes: number; foreignUsed: number }[], reportedBy: string) {
      const at = new Date();
      await db.$transaction([
        db.gpuPool.deleteMany({ where: { executor } }),
        db.gpuPool.createMany({
          data: [{ gpuType: REPORTED_MARK, gpus: 0, nodes: 0, foreignUsed: 0 }, ...pools].map((p) => ({ executor, ...p, reportedBy, reportedAt: at })),
        }),
      ]);
    },
    /** An executor stopped reporting (its worker no longer manages its GPUs). */
    forgetPools: (executor: string) => db.gpuPool.deleteMany({ where: { executor } }),
    pools: () => db.gpuPool.findMany({ where: { gpuType: { not: REPORTED_MARK } }, orderBy: [{ executor: 'asc' }, { gpuType: 'asc' }] }),
    prices: () => db.gpuPrice.findMany({ orderBy: { gpuType: 'asc' } }),
    setPrice(gpuType: string, p: { pricePerHour: number; currency: string; peakFlops?: number | null | undefined; note?: string | null | undefined }, updatedBy: string) {
      const data = { pricePerHour: p.pricePerHour, currency: p.currency, ...(p.peakFlops !== undefined ? { peakFlops: p.peakFlops } : {}), ...(p.note !== undefined ? { note: p.note } : {}), updatedBy };
      return db.gpuPrice.upsert({ where: { gpuType }, create: { gpuType, ...data }, update: data });
    },
    async removePrice(gpuType: string) {
      const r = await db.gpuPrice.deleteMany({ where: { gpuType } });
      if (r.count === 0) throw notFound('price', gpuType);
    },
    /** A queued job's priority (its place in the queue changes on the next pass). */
    async setPriority(jobId: string, priority: 'high' | 'normal' | 'low', by: string) {
      return db.$transaction(async (tx) => {
        const j = await tx.job.findUnique({ where: { id: jobId }, select: { status: true, priority: true, admittedAt: true } });
        if (!j) throw notFound('job', jobId);
        if (j.status !== 'queued' || j.admittedAt) throw new DomainError('PRECONDITION_FAILED', `job ${jobId} is ${j.admittedAt && j.status === 'queued' ? 'admitted' : j.status}: only a job waiting for GPUs changes priority`);
        await tx.job.update({ where: { id: jobId }, data: { priority } });
        await tx.jobEvent.create({ data: { jobId, type: 'priority', message: `priority ${j.priority} → ${priority} (by ${by})` } });
        return priority;
      });
    },
    /** Lets a job past its team's quota (or takes that back) while it waits. */
    async setQuotaOverride(jobId: string, on: boolean, by: string, why: string) {
      return db.$transaction(async (tx) => {
        const j = await tx.job.findUnique({ where: { id: jobId }, select: { status: true, admittedAt: true } });
        if (!j) throw notFound('job', jobId);
        if (j.status !== 'queued' || j.admittedAt) throw new DomainError('PRECONDITION_FAILED', `job ${jobId} is not waiting for GPUs`);
        await tx.job.update({ where: { id: jobId }, data: { quotaOverride: on } });
        await tx.jobEvent.create({ data: { jobId, type: 'quota-override', message: `${on ? 'admitted past its team\u2019s quota' : 'quota override withdrawn'} by ${by}${why ? `: ${why}` : ''}` } });
      });
    },
    /**
     * Jobs that used (or use) a device, for the cost accounts: from the executor's start and end
     * times. `from`/`to` bound the start time; `jobIds` picks jobs (a model's lineage).
     */
    costJobs: (where: { from?: Date | undefined; to?: Date | undefined; teamId?: string | null | undefined; jobIds?: string[] | undefined }) =>
      db.job.findMany({
        where: {
          kind: { in: [...GPU_KINDS] },
          gpuStartedAt: { not: null, ...(where.from ? { gte: where.from } : {}), ...(where.to ? { lt: where.to } : {}) },
          ...(where.teamId !== undefined ? { teamId: where.teamId } : {}),
          ...(where.jobIds ? { id: { in: where.jobIds } } : {}),
        },
        select: { id: true, kind: true, status: true, teamId: true, gpuType: true, gpus: true, gpuStartedAt: true, gpuEndedAt: true, estimate: true, queuedAt: true, spec: true, team: { select: { name: true } } },
        orderBy: { gpuStartedAt: 'desc' },
        take: 5000,
      }),
    /**
     * The jobs that made a model: the jobs on its lineage edges, walked up through every ancestor,
     * and the extraction job of each adapter a merge among them used. Ids only.
     */
    async lineageJobIds(modelId: string): Promise<string[]> {
      const rows = await db.$queryRaw<{ jobId: string }[]>`
        WITH RECURSIVE up("modelId") AS (
          SELECT ${modelId}::text
          UNION
          SELECT e."parentId" FROM "LineageEdge" e JOIN up ON e."childId" = up."modelId"
        )
        SELECT DISTINCT e."jobId" FROM "LineageEdge" e JOIN up ON e."childId" = up."modelId" WHERE e."jobId" IS NOT NULL`;
      const ids = new Set(rows.map((r) => r.jobId));
      if (ids.size) {
        const adapters = await db.$queryRaw<{ jobId: string }[]>`
          SELECT a."jobId" FROM "Job" j JOIN "Adapter" a ON a."id" = j."spec"->'output'->>'adapterId'
          WHERE j."id" IN (${Prisma.join([...ids])}) AND a."jobId" IS NOT NULL`;
        for (const a of adapters) ids.add(a.jobId);
      }
      return [...ids];
    },
  };
}

async function usageSince(db: Pick<Db, '$queryRaw'>, from: Date, to: Date): Promise<UsageRow[]> {
  const rows = await db.$queryRaw<{ teamId: string; gpuType: string; hours: number }[]>`
    SELECT "teamId", "gpuType",
           SUM(${UNITS} * GREATEST(0, EXTRACT(EPOCH FROM (LEAST(COALESCE("gpuEndedAt", ${to}), ${to}) - GREATEST("gpuStartedAt", ${from}))))) / 3600.0 AS "hours"
    FROM "Job"
    WHERE "teamId" IS NOT NULL AND "gpuStartedAt" IS NOT NULL AND "gpuStartedAt" < ${to} AND COALESCE("gpuEndedAt", ${to}) > ${from}
      AND "kind" IN (${GPU_KINDS_SQL})
    GROUP BY "teamId", "gpuType"`;
  return rows.map((r) => ({ teamId: r.teamId, gpuType: r.gpuType, hours: Number(r.hours) }));
}

const QUEUED_COLUMNS = Prisma.sql`"id", "teamId", "priority"::text AS "priority", "executor", "gpuType", "gpus", "queuedAt", "quotaOverride", ("estimate"->>'gpuHours')::float8 AS "estimatedGpuHours"`;

/** Held GPUs, pools, teams, quotas and the quotas' use in their periods: all a pass needs but the queue. */
async function readBase(tx: Prisma.TransactionClient, now: Date): Promise<PassBase> {
  const held = await tx.$queryRaw<HeldRow[]>`
    SELECT "id", "kind", "teamId", "executor", "gpuType", "gpus", COALESCE("gpuStartedAt", "admittedAt") AS "since",
           ("estimate"->>'gpuHours')::float8 AS "estimatedGpuHours"
    FROM "Job" WHERE "status" IN ('queued', 'running', 'retrying') AND "admittedAt" IS NOT NULL AND "gpus" > 0 AND "kind" IN (${GPU_KINDS_SQL})`;
  const pools = await tx.gpuPool.findMany({ select: { executor: true, gpuType: true, gpus: true, foreignUsed: true } });
  const teams = await tx.team.findMany({ select: { id: true, name: true, weight: true } });
  const quotas = await tx.gpuQuota.findMany({ select: { teamId: true, gpuType: true, period: true, gpuHours: true, maxGpus: true } });
  const usage: (UsageRow & { period: string })[] = [];
  for (const period of new Set(quotas.filter((q) => q.gpuHours !== null).map((q) => q.period))) {
    usage.push(...(await usageSince(tx, periodStart(period, now), now)).map((u) => ({ ...u, period })));
  }
  return { held, pools: pools.filter((p) => p.gpuType !== REPORTED_MARK), reporting: new Set(pools.map((p) => p.executor)), teams, quotas, usage };
}

/**
 * Queued GPU jobs waiting for admission: all, or those of `pools` only, and with `perLane` only
 * the first that many of each lane (pool, priority, team; oldest first) — with every row the
 * lane's full size, so a caller knows when it has not seen a whole lane.
 */
async function readQueued(tx: Pick<Db, '$queryRaw'>, opts: { pools?: string[]; perLane?: number }): Promise<(QueuedRow & { laneSize: number })[]> {
  // Lanes are ranked on the narrow columns alone (Job_queue_lanes_idx holds them in lane order);
  // only the rows kept are read whole, so a pass that needs a few jobs of each lane reads a few.
  const pools = opts.pools
    ? Prisma.sql`AND ("executor", "gpuType") IN (${Prisma.join(opts.pools.map((p) => Prisma.sql`(${p.slice(0, p.indexOf('/'))}, ${p.slice(p.indexOf('/') + 1)})`))})`
    : Prisma.empty;
  const rows = await tx.$queryRaw<(QueuedRow & { laneSize: bigint })[]>`
    WITH lanes AS (
      SELECT "id",
             row_number() OVER (PARTITION BY "executor", "gpuType", "priority", "teamId" ORDER BY "queuedAt", "id") AS "rank",
             count(*) OVER (PARTITION BY "executor", "gpuType", "priority", "teamId") AS "laneSize"
      FROM "Job"
      WHERE "status" = 'queued' AND "admittedAt" IS NULL AND "gpus" > 0 AND "kind" IN (${GPU_KINDS_SQL}) ${pools}
    )
    SELECT ${QUEUED_COLUMNS}, lanes."laneSize"
    FROM lanes JOIN "Job" USING ("id")
    WHERE lanes."rank" <= ${opts.perLane ?? 2_147_483_647}`;
  return rows.map(({ laneSize, ...r }) => ({ ...r, laneSize: Number(laneSize) }));
}
