/**
 * The GPU queue as people see it: every waiting job with its place, the reason it waits and an
 * estimated start (from the scheduler's last pass), what holds GPUs, each pool's size and use, and
 * each team's quotas with what it has used this period.
 */
import { DomainError, type JobPriority } from '@ctxlab/contracts';
import { periodStart, type Repositories } from '@ctxlab/db';
import type { JobsDeps } from '@ctxlab/jobs';
import { readSchedule } from '@ctxlab/queue';
import type { Actor } from '../trpc';

export async function schedulerQueue(deps: JobsDeps, now = new Date()) {
  const { repos } = deps;
  const [jobs, pools, teams, quotas] = await Promise.all([repos.scheduling.queueView(), repos.scheduling.pools(), repos.teams.list(), repos.teams.quotas()]);
  const waitingJobs = jobs.filter((j) => j.status === 'queued' && !j.admittedAt);
  const snapshot = await readSchedule(deps.producer(), waitingJobs.map((j) => j.id), deps.queuePrefix).catch(() => ({ meta: null, waits: new Map() }));
  const outputName = (spec: unknown) => ((spec as { output?: { name?: string } } | null)?.output?.name ?? null);
  const row = (j: (typeof jobs)[number]) => ({
    id: j.id, kind: j.kind, executor: j.executor, gpuType: j.gpuType, gpus: j.gpus, priority: j.priority, team: j.team?.name ?? null,
    queuedAt: j.queuedAt, output: outputName(j.spec), quotaOverride: j.quotaOverride,
    requestedBy: (j.spec as { requestedBy?: string } | null)?.requestedBy ?? null,
    estimateGpuHours: (j.estimate as { gpuHours?: number } | null)?.gpuHours ?? null,
  });
  const waiting = waitingJobs
    .map((j) => {
      const w = snapshot.waits.get(j.id);
      return { ...row(j), position: w?.position ?? null, waitKind: w?.kind ?? 'pending', reason: w?.reason ?? 'not yet seen by a scheduling pass', estimatedStartAt: w?.estimatedStartAt ? new Date(w.estimatedStartAt) : null };
    })
    .sort((a, b) => (a.gpuType ?? '').localeCompare(b.gpuType ?? '') || (a.position ?? Infinity) - (b.position ?? Infinity) || a.queuedAt.getTime() - b.queuedAt.getTime());
  const holding = jobs.filter((j) => j.admittedAt !== null).map((j) => ({ ...row(j), status: j.status, admittedAt: j.admittedAt, startedAt: j.gpuStartedAt }));
  // Usage per quota, in the quota's own period.
  const usage = new Map<string, number>();
  for (const period of new Set(quotas.map((q) => q.period))) {
    for (const u of await repos.scheduling.usageSince(periodStart(period, now), now)) usage.set(`${u.teamId}|${u.gpuType}|${period}`, u.hours);
  }
  return {
    decidedAt: snapshot.meta ? new Date(snapshot.meta.decidedAt) : null,
    passMs: snapshot.meta?.passMs ?? null,
    pools: pools.map((p) => {
      const mine = (j: { executor: string; gpuType: string | null }) => j.executor === p.executor && j.gpuType === p.gpuType;
      const held = holding.filter(mine).reduce((a, j) => a + j.gpus, 0);
      const queued = waiting.filter(mine);
      return {
        executor: p.executor, gpuType: p.gpuType, gpus: p.gpus, nodes: p.nodes, foreignUsed: p.foreignUsed, reportedAt: p.reportedAt,
        held, free: Math.max(0, p.gpus - p.foreignUsed - held), waitingJobs: queued.length, waitingGpus: queued.reduce((a, j) => a + j.gpus, 0),
      };
    }),
    waiting,
    holding,
    teams: teams.map((t) => ({ id: t.id, name: t.name, weight: t.weight, members: t._count.members })),
    quotas: quotas.map((q) => ({ team: q.team.name, teamId: q.teamId, gpuType: q.gpuType, period: q.period, gpuHours: q.gpuHours, maxGpus: q.maxGpus, usedGpuHours: usage.get(`${q.teamId}|${q.gpuType}|${q.period}`) ?? 0, since: periodStart(q.period, now) })),
  };
}

/** Who may change a waiting job's priority: an admin, an admin of its team, or whoever asked for it. */
export async function checkCanReprioritize(repos: Repositories, jobId: string, actor: Actor, priority: JobPriority) {
  if (actor.role === 'admin') return;
  const job = await repos.jobs.get(jobId);
  const requestedBy = (job.spec as { requestedBy?: string } | null)?.requestedBy;
  const teamRole = job.teamId ? await repos.teams.roleIn(job.teamId, actor.id) : null;
  if (teamRole === 'admin') return;
  if (requestedBy === actor.name && priority !== 'high') return;
  throw new DomainError('FORBIDDEN', requestedBy === actor.name ? 'raising a job to high priority takes an admin of its team' : "changing another person's job's priority takes an admin of its team");
}
