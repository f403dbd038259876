import { canEvalRunTransition, DomainError, isFinalEvalStatus, notFound, type JobKind, type JobStatus } from '@ctxlab/contracts';
import type { Db } from '../client';
import { Prisma, type Job as JobRow, type JobEvent as JobEventRow } from '../generated/prisma/client';
import { moveEvalRun, recordEvalRunCreated } from './evals';
import { paginate, type ListArgs } from './paging';

const eventOut = (e: JobEventRow) => ({ ...e, id: Number(e.id) });
const identity = (j: JobRow) => j;

/**
 * PostgreSQL's clock as Prisma stores DateTime (UTC in a column without time zone), whatever the
 * server's TimeZone setting: lease times are the database's, so workers' clocks do not matter.
 */
const NOW = Prisma.sql`(now() AT TIME ZONE 'UTC')`;

/** Who holds a job's lease: the owner (a worker's name and a token of its run) and the fence it got. */
export interface LeaseHolder {
  owner: string;
  fence: number;
}

/**
 * The lease on a job changed hands (or was given up) since this holder took it: whatever it was
 * about to do belongs to the new holder now. Not a failure of the job.
 */
export class LeaseLostError extends DomainError {
  constructor(
    jobId: string,
    holder: LeaseHolder,
    readonly now: { owner: string | null; fence: number } | null,
  ) {
    super('CONFLICT', `job ${jobId}: ${holder.owner} (fence ${holder.fence}) no longer holds it${now?.owner ? `; ${now.owner} does (fence ${now.fence})` : ''}`);
    this.name = 'LeaseLostError';
  }
}

export function jobsRepo(db: Db) {
  return {
    list: (a: ListArgs & { kind?: JobKind | undefined; status?: JobStatus | undefined }) =>
      paginate(db.job, { ...a, includeArchived: true }, { ...(a.kind ? { kind: a.kind } : {}), ...(a.status ? { status: a.status } : {}) }, identity),
    /** The job, or null when there is none (a message for a job that was rolled back). */
    find: (id: string) => db.job.findUnique({ where: { id } }),
    async get(id: string) {
      const j = await this.find(id);
      if (!j) throw notFound('job', id);
      return j;
    },
    /** The job an idempotency key names, with its eval run (null: no such job). */
    byIdempotencyKeyWithRun: (idempotencyKey: string) => db.job.findUnique({ where: { idempotencyKey }, include: { evalRun: true } }),
    async events(jobId: string, afterId = 0) {
      const rows = await db.jobEvent.findMany({ where: { jobId, id: { gt: BigInt(afterId) } }, orderBy: { id: 'asc' }, take: 1000 });
      return rows.map(eventOut);
    },
    /**
     * Moves a job to `to` if `allowed(from, to)`, appending the event in the same transaction. The
     * update is conditional on the status read, so two racing transitions cannot both win.
     */
    async transition(
      jobId: string,
      to: JobStatus,
      message: string,
      allowed: (from: JobStatus, to: JobStatus) => boolean,
      patch: Prisma.JobUpdateManyMutationInput = {},
      data?: unknown,
      /** When given, the move happens only while this holder still holds the job's lease. */
      holder?: LeaseHolder,
      /** Further writes that land in the move's transaction, or not at all. */
      alongside?: (tx: Prisma.TransactionClient) => Promise<void>,
    ) {
      for (let attempt = 0; attempt < 5; attempt++) {
        const current = await this.get(jobId);
        if (holder && (current.leaseOwner !== holder.owner || current.fence !== holder.fence)) {
          throw new LeaseLostError(jobId, holder, { owner: current.leaseOwner, fence: current.fence });
        }
        if (!allowed(current.status, to)) {
          throw new DomainError('PRECONDITION_FAILED', `job ${jobId} is ${current.status}: it cannot become ${to}`);
        }
        const now = new Date();
        const timing: Prisma.JobUpdateManyMutationInput =
          to === 'running' && !current.startedAt ? { startedAt: now } : ['succeeded', 'failed', 'cancelled'].includes(to) ? { finishedAt: now } : to === 'queued' ? { finishedAt: null, error: null } : {};
        const moved = await db.$transaction(async (tx) => {
          const lease = holder ? { leaseOwner: holder.owner, fence: holder.fence } : {};
          const r = await tx.job.updateMany({ where: { id: jobId, status: current.status, ...lease }, data: { ...timing, ...patch, status: to } });
          if (r.count === 0) return false;
          await tx.jobEvent.create({
            data: { jobId, fromStatus: current.status, toStatus: to, type: 'status', message, ...(data === undefined ? {} : { data: data as Prisma.InputJsonValue }) },
          });
          await alongside?.(tx);
          return true;
        });
        if (moved) return this.get(jobId);
      }
      throw new DomainError('CONFLICT', `job ${jobId} kept changing while moving it to ${to}; try again`);
    },
    /**
     * Ends a job and its eval run in one transaction, so whoever sees the job ended finds the run's
     * summary written. A run that already ended (a person cancelled it meanwhile) keeps its end.
     */
    endWithRun(
      jobId: string,
      to: 'succeeded' | 'failed',
      message: string,
      allowed: (from: JobStatus, to: JobStatus) => boolean,
      patch: Prisma.JobUpdateManyMutationInput,
      holder: LeaseHolder | undefined,
      run: { id: string; summary?: unknown },
    ) {
      return this.transition(jobId, to, message, allowed, patch, undefined, holder, async (tx) => {
        const current = await tx.evalRun.findUniqueOrThrow({ where: { id: run.id }, select: { status: true } });
        if (!canEvalRunTransition(current.status, to)) return;
        const runPatch = { finishedAt: new Date(), ...(run.summary === undefined ? {} : { summary: run.summary as Prisma.InputJsonValue }) };
        await moveEvalRun(tx, run.id, current.status, to, to === 'succeeded' ? 'all cells done' : 'its job failed', runPatch);
      });
    },
    /** A notable event that is not a status change (a retried request, a resumed run). */
    async note(jobId: string, type: string, message: string, data?: unknown) {
      await db.jobEvent.create({ data: { jobId, type, message, ...(data === undefined ? {} : { data: data as Prisma.InputJsonValue }) } });
    },
    /**
     * The executor's own clock of a GPU job: `start` when it reported the work running (a process
     * started, a pod scheduled), `end` when the work ended. Each is written once; what a job is
     * charged for is the time between them × its GPUs.
     */
    async markGpuTime(jobId: string, which: 'start' | 'end', at = new Date()) {
      if (which === 'start') await db.job.updateMany({ where: { id: jobId, gpuStartedAt: null }, data: { gpuStartedAt: at } });
      else await db.job.updateMany({ where: { id: jobId, gpuStartedAt: { not: null }, gpuEndedAt: null }, data: { gpuEndedAt: at } });
    },
    async setProgress(jobId: string, progress: unknown) {
      await db.job.update({ where: { id: jobId }, data: { progress: progress as Prisma.InputJsonValue } });
    },
    /**
     * Jobs PostgreSQL says are not finished and nobody holds (never leased, or the holder's lease
     * lapsed): what a reconciler compares with the queue. A job whose holder is alive is left to it,
     * whatever the queue says.
     */
    unfinished(kinds: JobKind[]) {
      return db.job.findMany({
        where: { kind: { in: kinds }, status: { in: ['queued', 'running', 'retrying'] }, OR: [{ leaseExpiresAt: null }, { leaseExpiresAt: { lt: new Date() } }] },
        orderBy: { createdAt: 'asc' },
      });
    },
    /**
     * Takes the job's lease for `ms` if nobody holds it, its holder's lease lapsed, or `owner`
     * already holds it; a change of holder raises the fence. Times are PostgreSQL's, so workers'
     * clocks do not matter. Returns the holder, or who holds it now.
     */
    async acquireLease(jobId: string, owner: string, ms: number): Promise<{ holder: LeaseHolder } | { heldBy: string; until: Date }> {
      const taken = await db.$transaction(async (tx) => {
        const rows = await tx.$queryRaw<{ fence: number; previous: string | null }[]>`
          WITH prev AS (SELECT "leaseOwner", "leaseExpiresAt" FROM "Job" WHERE "id" = ${jobId} FOR UPDATE)
          UPDATE "Job" SET
            "fence" = CASE WHEN "Job"."leaseOwner" = ${owner} THEN "Job"."fence" ELSE "Job"."fence" + 1 END,
            "leaseOwner" = ${owner},
            "leaseExpiresAt" = ${NOW} + ${ms}::int * interval '1 millisecond',
            "updatedAt" = ${NOW}
          FROM prev
          WHERE "id" = ${jobId} AND (prev."leaseOwner" IS NULL OR prev."leaseExpiresAt" < ${NOW} OR prev."leaseOwner" = ${owner})
          RETURNING "Job"."fence", prev."leaseOwner" AS previous`;
        const row = rows[0];
        if (!row) return null;
        if (row.previous !== owner) {
          const message = row.previous ? `${owner} took over from ${row.previous}, whose lease had lapsed (fence ${row.fence})` : `${owner} holds the job (fence ${row.fence})`;
          await tx.jobEvent.create({ data: { jobId, type: 'lease', message } });
        }
        return { owner, fence: Number(row.fence) };
      });
      if (taken) return { holder: taken };
      const j = await this.get(jobId);
      return { heldBy: j.leaseOwner ?? 'nobody', until: j.leaseExpiresAt ?? new Date(0) };
    },
    /** Extends the lease if `holder` still holds it (same owner, same fence); false when it does not. */
    async renewLease(jobId: string, holder: LeaseHolder, ms: number, tx: Pick<Db, '$executeRaw'> = db): Promise<boolean> {
      const n = await tx.$executeRaw`
        UPDATE "Job" SET "leaseExpiresAt" = ${NOW} + ${ms}::int * interval '1 millisecond'
        WHERE "id" = ${jobId} AND "leaseOwner" = ${holder.owner} AND "fence" = ${holder.fence}`;
      return n > 0;
    },
    /** Gives the lease up (the job is done, cancelled or handed back to the queue); a no-op for a holder that lost it. */
    async releaseLease(jobId: string, holder: LeaseHolder) {
      await db.job.updateMany({ where: { id: jobId, leaseOwner: holder.owner, fence: holder.fence }, data: { leaseOwner: null, leaseExpiresAt: null } });
    },
    /**
     * Runs `fn` in a transaction that first renews `holder`'s lease: its writes land only while the
     * holder holds the job (a holder that lost it gets LeaseLostError and writes nothing). The renewal
     * locks the job row, so a takeover waits for the transaction or happens entirely before it.
     */
    async underLease<T>(jobId: string, holder: LeaseHolder, ms: number, fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
      return db.$transaction(async (tx) => {
        if (!(await this.renewLease(jobId, holder, ms, tx))) {
          const now = await tx.job.findUnique({ where: { id: jobId }, select: { leaseOwner: true, fence: true } });
          throw new LeaseLostError(jobId, holder, now ? { owner: now.leaseOwner, fence: now.fence } : null);
        }
        return fn(tx);
      });
    },
    /**
     * Creates a job and its eval run (status pending) in one transaction: neither exists without the
     * other. Of two racing requests with one idempotency key, the loser gets P2002 (the caller re-reads).
     */
    createWithRun(
      job: { kind: JobKind; spec: unknown; idempotencyKey: string },
      run: { name: string; kind: string; endpointId?: string | null; modelId: string | null; config: unknown; cellsTotal: number },
    ) {
      return db.$transaction(async (tx) => {
        const { job: j } = await this.create(job, tx);
        const evalRun = await tx.evalRun.create({ data: { ...run, status: 'pending', jobId: j.id, config: run.config as Prisma.InputJsonValue } });
        await recordEvalRunCreated(tx, evalRun.id, 'pending', `created with its ${job.kind} job`);
        return { job: j, evalRun };
      });
    },
    /** Takes back a job and its run that never reached the queue, both or neither. */
    async discardWithRun(jobId: string, evalRunId: string) {
      await db.$transaction([db.evalRun.delete({ where: { id: evalRunId } }), db.job.delete({ where: { id: jobId } })]);
    },
    /** Takes back a job that never reached the queue (its events go with it). */
    async discard(jobId: string) {
      await db.job.delete({ where: { id: jobId } });
    },
    /**
     * Queues a failed or cancelled job and its run again in one transaction, if the job is still
     * `from`: another attempt, the event, the run pending. Returns the job as it is now.
     */
    requeueWithRun(jobId: string, from: JobStatus, evalRunId: string, message: string) {
      return db.$transaction(async (tx) => {
        const r = await tx.job.updateMany({ where: { id: jobId, status: from }, data: { status: 'queued', finishedAt: null, error: null, attempts: { increment: 1 } } });
        if (r.count === 0) throw new DomainError('CONFLICT', `job ${jobId} changed while retrying it; try again`);
        await tx.jobEvent.create({ data: { jobId, fromStatus: from, toStatus: 'queued', type: 'status', message } });
        let { status } = await tx.evalRun.findUniqueOrThrow({ where: { id: evalRunId }, select: { status: true } });
        // A run its job left behind unfinished (the job failed before the run could end) ends first, so
        // its history says so, then queues again with the job.
        if (!isFinalEvalStatus(status) && (await moveEvalRun(tx, evalRunId, status, 'failed', 'its job ended without it'))) status = 'failed';
        if (!canEvalRunTransition(status, 'pending') || !(await moveEvalRun(tx, evalRunId, status, 'pending', message, { finishedAt: null }))) {
          throw new DomainError('CONFLICT', `eval run ${evalRunId} is ${status}: it cannot be queued again`);
        }
        return tx.job.findUniqueOrThrow({ where: { id: jobId } });
      });
    },
    /** Creates the job and its first event together; an existing job with the same key is returned instead. */
    async create(
      input: {
        kind: JobKind; spec: unknown; idempotencyKey?: string; maxAttempts?: number; executor?: string;
        /** GPU work: the team it is charged to, its priority, the pool and GPUs it needs, the planner's estimate; `admitted` when it needs no scheduling (no GPU). */
        gpu?: { teamId: string | null; priority: 'high' | 'normal' | 'low'; gpuType: string; gpus: number; admitted: boolean; estimate?: unknown };
      },
      outer?: Pick<Db, 'job' | 'jobEvent'>,
    ) {
      // Inside the caller's transaction when given one, else in a transaction of its own.
      const inTx = <T>(fn: (tx: Pick<Db, 'job' | 'jobEvent'>) => Promise<T>) => (outer ? fn(outer) : db.$transaction((t) => fn(t)));
      const tx = outer ?? db;
      if (input.idempotencyKey) {
        const existing = await tx.job.findUnique({ where: { idempotencyKey: input.idempotencyKey } });
        if (existing) return { job: existing, created: false };
      }
      try {
        const job = await inTx(async (tx) => {
          const j = await tx.job.create({
            data: {
              kind: input.kind,
              spec: input.spec as Prisma.InputJsonValue,
              idempotencyKey: input.idempotencyKey ?? null,
              maxAttempts: input.maxAttempts ?? 3,
              executor: input.executor ?? 'local',
              ...(input.gpu
                ? {
                    teamId: input.gpu.teamId, priority: input.gpu.priority, gpuType: input.gpu.gpuType, gpus: input.gpu.gpus,
                    admittedAt: input.gpu.admitted ? new Date() : null,
                    ...(input.gpu.estimate === undefined ? {} : { estimate: input.gpu.estimate as Prisma.InputJsonValue }),
                  }
                : {}),
            },
          });
          await tx.jobEvent.create({ data: { jobId: j.id, toStatus: 'queued', type: 'status', message: 'job created' } });
          return j;
        });
        return { job, created: true };
      } catch (e) {
        // Two identical requests raced: the loser returns the winner's job. Inside a caller's
        // transaction the failed insert has aborted it, so the caller must handle the race.
        if ((e as { code?: string }).code === 'P2002' && input.idempotencyKey && !outer) {
          const existing = await db.job.findUnique({ where: { idempotencyKey: input.idempotencyKey } });
          if (existing) return { job: existing, created: false };
        }
        throw e;
      }
    },
  };
}
