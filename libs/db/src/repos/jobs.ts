import { DomainError, notFound, type JobKind, type JobStatus } from '@ctxlab/contracts';
import type { Db } from '../client';
import type { Job as JobRow, JobEvent as JobEventRow, Prisma } from '../generated/prisma/client';
import { paginate, type ListArgs } from './paging';

const eventOut = (e: JobEventRow) => ({ ...e, id: Number(e.id) });
const identity = (j: JobRow) => j;

export function jobsRepo(db: Db) {
  return {
    list: (a: ListArgs & { kind?: JobKind | undefined; status?: JobStatus | undefined }) =>
      paginate(db.job, { ...a, includeArchived: true }, { ...(a.kind ? { kind: a.kind } : {}), ...(a.status ? { status: a.status } : {}) }, identity),
    async get(id: string) {
      const j = await db.job.findUnique({ where: { id } });
      if (!j) throw notFound('job', id);
      return j;
    },
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
    ) {
      for (let attempt = 0; attempt < 5; attempt++) {
        const current = await this.get(jobId);
        if (!allowed(current.status, to)) {
          throw new DomainError('PRECONDITION_FAILED', `job ${jobId} is ${current.status}: it cannot become ${to}`);
        }
        const now = new Date();
        const timing: Prisma.JobUpdateManyMutationInput =
          to === 'running' && !current.startedAt ? { startedAt: now } : ['succeeded', 'failed', 'cancelled'].includes(to) ? { finishedAt: now } : to === 'queued' ? { finishedAt: null, error: null } : {};
        const moved = await db.$transaction(async (tx) => {
          const r = await tx.job.updateMany({ where: { id: jobId, status: current.status }, data: { ...timing, ...patch, status: to } });
          if (r.count === 0) return false;
          await tx.jobEvent.create({
            data: { jobId, fromStatus: current.status, toStatus: to, type: 'status', message, ...(data === undefined ? {} : { data: data as Prisma.InputJsonValue }) },
          });
          return true;
        });
        if (moved) return this.get(jobId);
      }
      throw new DomainError('CONFLICT', `job ${jobId} kept changing while moving it to ${to}; try again`);
    },
    /** A notable event that is not a status change (a retried request, a resumed run). */
    async note(jobId: string, type: string, message: string, data?: unknown) {
      await db.jobEvent.create({ data: { jobId, type, message, ...(data === undefined ? {} : { data: data as Prisma.InputJsonValue }) } });
    },
    async setProgress(jobId: string, progress: unknown) {
      await db.job.update({ where: { id: jobId }, data: { progress: progress as Prisma.InputJsonValue } });
    },
    /** Jobs PostgreSQL says are not finished: what a reconciler compares with the queue. */
    unfinished(kinds: JobKind[]) {
      return db.job.findMany({ where: { kind: { in: kinds }, status: { in: ['queued', 'running', 'retrying'] } }, orderBy: { createdAt: 'asc' } });
    },
    /** Creates the job and its first event together; an existing job with the same key is returned instead. */
    async create(
      input: { kind: JobKind; spec: unknown; idempotencyKey?: string; maxAttempts?: number; executor?: string },
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
