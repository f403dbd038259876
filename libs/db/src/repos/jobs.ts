import { notFound, type JobKind, type JobStatus } from '@ctxlab/contracts';
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
    /** Creates the job and its first event together; an existing job with the same key is returned instead. */
    async create(input: { kind: JobKind; spec: unknown; idempotencyKey?: string; maxAttempts?: number; executor?: string }) {
      if (input.idempotencyKey) {
        const existing = await db.job.findUnique({ where: { idempotencyKey: input.idempotencyKey } });
        if (existing) return { job: existing, created: false };
      }
      try {
        const job = await db.$transaction(async (tx) => {
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
        // Two identical requests raced: the loser returns the winner's job.
        if ((e as { code?: string }).code === 'P2002' && input.idempotencyKey) {
          const existing = await db.job.findUnique({ where: { idempotencyKey: input.idempotencyKey } });
          if (existing) return { job: existing, created: false };
        }
        throw e;
      }
    },
  };
}
