/**
 * `ctxlab queue …`: the GPU queue as the scheduler sees it (pools, waiting jobs with their place,
 * reason and estimated start, jobs holding GPUs, quotas with their use), a live view of it, and
 * the two levers on a waiting job: its priority and a quota override.
 */
import type { createClient } from '@ctxlab/api/client';
import type { JobPriority } from '@ctxlab/contracts';
import { table } from './table';

type Api = ReturnType<typeof createClient>;
type Opts = Record<string, string | boolean | undefined>;
type Result = { data: unknown; text: string };
type Queue = Awaited<ReturnType<Api['scheduler']['queue']['query']>>;

export const queueUsage = `queue [--watch]        the GPU queue: pools, waiting jobs (place, reason, estimated start), jobs holding GPUs, quotas and their use
                         --watch refreshes every 2 s until Ctrl-C (with --json: one JSON document a line)
  queue priority JOB_ID high|normal|low   a waiting job's priority
  queue override JOB_ID [--reason R] [--off]   admit a waiting job past its team's quota (admins; --off withdraws that)`;

const PRIORITIES = ['high', 'normal', 'low'] as const;
const isPriority = (p: unknown): p is JobPriority => PRIORITIES.includes(p as JobPriority);

/** --team and --priority, as every command that starts GPU work passes them on. */
export function schedulingOf(o: Opts): { team?: string; priority?: JobPriority } {
  const p = o.priority;
  if (p !== undefined && !isPriority(p)) throw new Error(`--priority must be high, normal or low; got ${String(p)}`);
  if (o.team !== undefined && (typeof o.team !== 'string' || !o.team.trim())) throw new Error('--team needs a team name or id');
  return { ...(typeof o.team === 'string' ? { team: o.team } : {}), ...(p ? { priority: p } : {}) };
}

/** 2025-01-15 14:32Z: minutes are as fine as the scheduler's estimates get. */
export const when = (d: Date | null | undefined) => (d ? `${d.toISOString().slice(0, 16).replace('T', ' ')}Z` : '—');

/** How far off a moment is, for estimated starts. */
function fromNow(d: Date | null, now: Date): string {
  if (!d) return '—';
  const min = (d.getTime() - now.getTime()) / 60_000;
  if (min < 1) return 'now';
  if (min < 90) return `in ${Math.round(min)} min`;
  if (min < 48 * 60) return `in ${(min / 60).toFixed(1)} h`;
  return `in ${(min / 1440).toFixed(1)} d`;
}

const gpusOf = (j: { gpus: number; gpuType: string | null }) => `${j.gpus}×${j.gpuType ?? 'GPU'}`;

export function queueText(q: Queue, now = new Date()): string {
  const head = q.decidedAt ? `GPU queue · last scheduling pass ${when(q.decidedAt)}${q.passMs !== null ? ` (${q.passMs} ms)` : ''}` : 'GPU queue · no scheduling pass yet (a worker runs them)';
  const pools = q.pools.length
    ? table(
        ['pool', 'GPUs', 'held', 'free', 'waiting jobs', 'waiting GPUs', 'not ctxlab’s', 'nodes'],
        q.pools.map((p) => [`${p.executor}/${p.gpuType}`, p.gpus, p.held ?? '—', p.free ?? '—', p.waitingJobs, p.waitingGpus, p.foreignUsed, p.nodes]),
      )
    : 'no executor reports GPU pools';
  const waiting = q.waiting.length
    ? table(
        ['#', 'job', 'priority', 'team', 'kind', 'output', 'GPUs', 'reason', 'est. start'],
        q.waiting.map((j) => [j.position ?? '—', j.id, `${j.priority}${j.quotaOverride ? ' (override)' : ''}`, j.team ?? '—', j.kind, j.output ?? '—', gpusOf(j), j.reason, fromNow(j.estimatedStartAt, now)]),
      )
    : 'nothing waits for GPUs';
  const holding = q.holding.length
    ? table(['job', 'team', 'kind', 'output', 'GPUs', 'status', 'since'], q.holding.map((j) => [j.id, j.team ?? '—', j.kind, j.output ?? '—', gpusOf(j), j.status, when(j.startedAt ?? j.admittedAt)]))
    : 'no job holds GPUs';
  // GPUs a team holds now, beside its limit on GPUs at once.
  const held = new Map<string, number>();
  for (const j of q.holding) if (j.team && j.gpuType) held.set(`${j.team}|${j.gpuType}`, (held.get(`${j.team}|${j.gpuType}`) ?? 0) + j.gpus);
  const quotas = q.quotas.length
    ? table(
        ['team', 'device', 'period', 'GPU-hours used / limit', 'GPUs held / max'],
        q.quotas.map((x) => [
          x.team, x.gpuType, `${x.period} from ${x.since.toISOString().slice(0, 10)}`,
          `${x.usedGpuHours.toFixed(2)} / ${x.gpuHours === null ? 'no limit' : `${x.gpuHours} (${x.gpuHours > 0 ? Math.round((100 * x.usedGpuHours) / x.gpuHours) : 100}%)`}`,
          `${held.get(`${x.team}|${x.gpuType}`) ?? 0} / ${x.maxGpus ?? 'no limit'}`,
        ]),
      )
    : 'no quotas (ctxlab quotas set TEAM GPU_TYPE …)';
  return [head, '', 'pools', pools, '', `waiting (${q.waiting.length})`, waiting, '', `holding GPUs (${q.holding.length})`, holding, '', 'quotas', quotas].join('\n');
}

/** Redraws the queue every 2 s until Ctrl-C: a cleared screen on a terminal, one view after another otherwise. */
async function watchQueue(api: Api, json: boolean): Promise<void> {
  let stopped = false;
  let wake = () => {};
  const stop = () => {
    stopped = true;
    wake();
  };
  process.once('SIGINT', stop);
  try {
    while (!stopped) {
      const q = await api.scheduler.queue.query();
      if (json) console.log(JSON.stringify(q));
      else if (process.stdout.isTTY) process.stdout.write(`\x1b[2J\x1b[H${queueText(q)}\n\nrefreshing every 2 s · Ctrl-C to stop\n`);
      else console.log(`${queueText(q)}\n`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 2000);
        wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  } finally {
    process.off('SIGINT', stop);
  }
}

/** `ctxlab queue`, `queue priority …` and `queue override …`; null once --watch has ended (it printed as it went). */
export async function queueCommand(api: Api, sub: string | undefined, args: string[], o: Opts): Promise<Result | null> {
  const [jobId, level] = args;
  if (sub === undefined && o.watch) {
    await watchQueue(api, o.json === true);
    return null;
  }
  if (sub === undefined) {
    const q = await api.scheduler.queue.query();
    return { data: q, text: queueText(q) };
  }
  if (sub === 'priority') {
    if (!jobId || !level) throw new Error('usage: ctxlab queue priority JOB_ID high|normal|low');
    if (!isPriority(level)) throw new Error(`priority must be high, normal or low; got ${level}`);
    const r = await api.scheduler.setPriority.mutate({ jobId, priority: level });
    // The API re-decides before it answers, so the queue shows the new place at once.
    const w = (await api.scheduler.queue.query()).waiting.find((j) => j.id === jobId);
    const place = w?.position ? ` · now #${w.position} for ${w.gpuType ?? 'its GPUs'}${w.estimatedStartAt ? `, estimated start ${fromNow(w.estimatedStartAt, new Date())}` : ''}` : '';
    return { data: { ...r, position: w?.position ?? null, estimatedStartAt: w?.estimatedStartAt ?? null }, text: `job ${r.jobId}: priority ${r.priority}${place}` };
  }
  if (sub === 'override') {
    if (!jobId) throw new Error('usage: ctxlab queue override JOB_ID [--reason R] [--off]');
    const off = o.off === true;
    const job = await api.scheduler.overrideQuota.mutate({ jobId, override: !off, ...(typeof o.reason === 'string' ? { reason: o.reason } : {}) });
    const text = off ? `job ${job.id}: quota override withdrawn (${job.status})` : `job ${job.id}: admitted past its team's quota when GPUs are free (${job.status}${job.admittedAt ? ', admitted' : ''})`;
    return { data: job, text };
  }
  throw new Error(`usage:\n  ${queueUsage}`);
}
