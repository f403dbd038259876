/** The jobs page: one page of jobs with what each is running and its latest event, plus counts by status. */
import type { JobProgress } from '@ctxlab/contracts';
import type { Repositories } from '@ctxlab/db';
import type { JobsBoardInput } from './schemas';

const ACTIVE = ['queued', 'running', 'retrying'] as const;

export async function jobsBoard(repos: Repositories, input: JobsBoardInput) {
  const where = {
    ...(input.kind ? { kind: input.kind } : {}),
    ...(input.status ? { status: input.status } : input.activeOnly ? { status: { in: [...ACTIVE] } } : {}),
  };
  const [rows, total, byStatus] = await Promise.all([
    repos.db.job.findMany({
      where,
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      skip: input.offset,
      take: input.limit,
      select: {
        id: true, kind: true, status: true, progress: true, error: true, attempts: true, maxAttempts: true, executor: true,
        queuedAt: true, startedAt: true, finishedAt: true, createdAt: true, updatedAt: true,
        evalRun: { select: { id: true, name: true, cellsDone: true, cellsTotal: true } },
      },
    }),
    repos.db.job.count({ where }),
    repos.db.job.groupBy({ by: ['status'], _count: { _all: true } }),
  ]);
  // The latest event of each job on the page, in one query (DISTINCT ON uses the (jobId, id) index).
  const ids = rows.map((r) => r.id);
  const latest = ids.length
    ? await repos.db.$queryRaw<{ jobId: string; id: bigint; type: string; message: string; createdAt: Date }[]>`
        SELECT DISTINCT ON ("jobId") "jobId", id, type, message, "createdAt" FROM "JobEvent" WHERE "jobId" = ANY(${ids}) ORDER BY "jobId", id DESC`
    : [];
  const lastEvent = new Map(latest.map((e) => [e.jobId, { id: Number(e.id), type: e.type, message: e.message, createdAt: e.createdAt }]));
  const items = rows.map((r) => ({ ...r, progress: (r.progress ?? null) as JobProgress | null, lastEvent: lastEvent.get(r.id) ?? null }));
  const counts = Object.fromEntries(byStatus.map((s) => [s.status, s._count._all])) as Partial<Record<(typeof rows)[number]['status'], number>>;
  const next = input.offset + items.length;
  return { items, total, nextOffset: next < total ? next : null, counts };
}

/** One job with the eval run it drives (if any), for the job page. */
export async function jobDetail(repos: Repositories, id: string) {
  const job = await repos.jobs.get(id);
  const evalRun = await repos.db.evalRun.findUnique({ where: { jobId: id }, select: { id: true, name: true, status: true, cellsDone: true, cellsTotal: true, model: { select: { id: true, name: true } } } });
  return { ...job, progress: (job.progress ?? null) as JobProgress | null, evalRun };
}
