/** The jobs page: one page of jobs with what each is running and its latest event, plus counts by status. */
import type { JobProgress } from '@ctxlab/contracts';
import type { Repositories } from '@ctxlab/db';
import type { JobsBoardInput } from './schemas';

export async function jobsBoard(repos: Repositories, input: JobsBoardInput) {
  const [{ rows, total, nextCursor, nextOffset }, byStatus] = await Promise.all([repos.reads.jobsPage(input), repos.reads.jobsByStatus()]);
  const latest = await repos.reads.latestJobEvents(rows.map((r) => r.id));
  const lastEvent = new Map(latest.map((e) => [e.jobId, { id: Number(e.id), type: e.type, message: e.message, createdAt: e.createdAt }]));
  const items = rows.map((r) => ({ ...r, progress: (r.progress ?? null) as JobProgress | null, lastEvent: lastEvent.get(r.id) ?? null }));
  const counts = Object.fromEntries(byStatus.map((s) => [s.status, s._count._all])) as Partial<Record<(typeof rows)[number]['status'], number>>;
  return { items, total, nextCursor, nextOffset, counts };
}

/** One job with the eval run it drives (if any), for the job page. */
export async function jobDetail(repos: Repositories, id: string) {
  const job = await repos.jobs.get(id);
  const evalRun = await repos.reads.evalRunOfJob(id);
  return { ...job, progress: (job.progress ?? null) as JobProgress | null, evalRun };
}
