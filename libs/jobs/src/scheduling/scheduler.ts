/**
 * A scheduling pass: gather what is queued and held from PostgreSQL, let the policy decide, record
 * the admissions, put admitted jobs on the GPU queue, and publish why the rest wait.
 *
 * Passes run in workers (on a timer, and when a job gives its GPUs back) and in the API right after
 * a submission; an advisory lock makes them take turns. A pass that dies at any point loses
 * nothing: admissions are written in one transaction with their events, and every pass puts every
 * admitted, not yet started job on the queue again (the queue entry's id is the job's, so this
 * never adds a second one, and the job's lease keeps a redelivered job from starting twice).
 */
import { readSchedule, type ScheduledWait, writeSchedule } from '@ctxlab/queue';
import type { JobsDeps } from '../deps';
import { enqueueGpuJob } from '../gpu/producer';
import { ANY_GPU } from './requests';
import { decide, type HeldGpus, poolKey, type Priority, type QueuedGpuJob, type TeamQuota, type Waiting } from './policy';

export interface PassResult {
  admitted: string[];
  waiting: Waiting[];
  pools: { pool: string; gpus: number; held: number; free: number; waitingJobs: number; waitingGpus: number }[];
  /** Time in the locked transaction (read, decide, write) and in the whole pass, ms. */
  decideMs: number;
  passMs: number;
}

export interface PassOptions {
  now?: Date;
  /** Called after the admissions are committed and before they are queued (tests stop a pass here, as a crash would). */
  afterCommit?: (admitted: string[]) => void | Promise<void>;
}

/** Wait kinds worth an event in the job's history when a job first gets them (plain queueing is not). */
const NOTED: ReadonlySet<string> = new Set(['capacity', 'quota', 'oversize', 'no-pool']);
/** What this process last published per job, so events are written on changes only. */
const lastKinds = new WeakMap<object, Map<string, string>>();
/** Registries whose last pass found nothing queued: the next idle pass only checks that it still is so. */
const idle = new WeakSet<object>();
const EMPTY: PassResult = { admitted: [], waiting: [], pools: [], decideMs: 0, passMs: 0 };

export async function schedulePass(deps: JobsDeps, opts: PassOptions = {}): Promise<PassResult> {
  const started = performance.now();
  // Most passes of a quiet lab find nothing queued: one indexed EXISTS, and the published decision (empty) stands.
  if (idle.has(deps.repos) && !opts.afterCommit && !(await deps.repos.scheduling.anyWaiting())) return { ...EMPTY, passMs: performance.now() - started };
  const now = opts.now ?? new Date();
  const t = now.getTime();
  let decideMs = 0;
  const decision = await deps.repos.scheduling.pass(now, (s) => {
    const d0 = performance.now();
    const unmanaged: { jobId: string; reason: string }[] = [];
    const queued: QueuedGpuJob[] = [];
    for (const q of s.queued) {
      // An executor that does not report its pools (a local worker with no GPUs configured) runs what it is given, as it always did.
      if (q.gpus <= 0 || q.gpuType === ANY_GPU || !s.reporting.has(q.executor)) {
        const reason = q.gpus <= 0 ? 'admitted: it holds no GPU'
          : q.gpuType === ANY_GPU ? 'admitted without waiting: it names no GPU type, so no pool can hold it back (give gpuType to have it scheduled and priced)'
          : `admitted: the ${q.executor} executor does not report its GPUs, so it runs what it is given`;
        unmanaged.push({ jobId: q.id, reason });
        continue;
      }
      queued.push({
        id: q.id, teamId: q.teamId, priority: q.priority as Priority, pool: poolKey(q.executor, q.gpuType), gpus: q.gpus, queuedAt: q.queuedAt.getTime(),
        quotaOverride: q.quotaOverride, expectedMs: q.estimatedGpuHours !== null && q.gpus > 0 ? (q.estimatedGpuHours / q.gpus) * 3_600_000 : null,
      });
    }
    const held: HeldGpus[] = s.held.map((h) => ({
      id: h.id, teamId: h.teamId, pool: poolKey(h.executor, h.gpuType), gpus: h.gpus,
      expectedEndAt: h.kind !== 'serve' && h.estimatedGpuHours !== null ? h.since.getTime() + (h.estimatedGpuHours / h.gpus) * 3_600_000 : null,
    }));
    const used = new Map(s.usage.map((u) => [`${u.teamId}\u0000${u.gpuType}\u0000${u.period}`, u.hours]));
    const quotas: TeamQuota[] = s.quotas.map((q) => ({ ...q, usedGpuHours: used.get(`${q.teamId}\u0000${q.gpuType}\u0000${q.period}`) ?? 0 }));
    const out = decide({
      now: t, queued, held, quotas,
      pools: s.pools.map((p) => ({ pool: poolKey(p.executor, p.gpuType), gpus: p.gpus - p.foreignUsed })),
      weights: new Map(s.teams.map((x) => [x.id, x.weight])),
      teamNames: new Map(s.teams.map((x) => [x.id, x.name])),
    });
    const poolOf = new Map(out.pools.map((p) => [p.pool, p]));
    const admit = [
      ...unmanaged,
      ...out.admit.map((a) => {
        const p = poolOf.get(a.pool);
        return { jobId: a.jobId, reason: `admitted: ${a.gpus} ${a.pool.slice(a.pool.indexOf('/') + 1)} GPU${a.gpus === 1 ? '' : 's'} on the ${a.pool.slice(0, a.pool.indexOf('/'))} executor (${p ? `${p.free} of ${p.gpus} free after it` : 'pool'})` };
      }),
    ];
    decideMs = performance.now() - d0;
    return { admit, waiting: out.waiting, pools: out.pools };
  });
  await opts.afterCommit?.(decision.admitted);

  // Every admitted job that has not started is on the queue (again, harmlessly, if it already was).
  const producer = deps.producer();
  for (const j of await deps.repos.scheduling.admittedWaiting()) {
    await enqueueGpuJob(producer, { jobId: j.id }, { attempt: j.attempts, prefix: deps.queuePrefix });
  }

  // Publish why the rest wait, and note in a job's history when the reason it waits changes kind.
  const waits = new Map<string, ScheduledWait>(decision.waiting.map((w) => [w.jobId, { pool: w.pool, position: w.position, kind: w.kind, reason: w.reason, estimatedStartAt: w.estimatedStartAt }]));
  let seen = lastKinds.get(deps.repos);
  if (!seen) {
    const before = await readSchedule(producer, undefined, deps.queuePrefix).catch(() => null);
    seen = new Map([...(before?.waits ?? new Map<string, ScheduledWait>())].map(([id, w]) => [id, w.kind]));
    lastKinds.set(deps.repos, seen);
  }
  const changed = decision.waiting.filter((w) => NOTED.has(w.kind) && seen.get(w.jobId) !== w.kind);
  for (const w of changed) await deps.repos.jobs.note(w.jobId, 'waiting', w.reason).catch(() => undefined);
  seen.clear();
  for (const w of decision.waiting) seen.set(w.jobId, w.kind);
  const passMs = performance.now() - started;
  await writeSchedule(producer, waits, { decidedAt: t, passMs, pools: decision.pools }, deps.queuePrefix);
  const quiet = decision.waiting.length === 0 && decision.admitted.length === 0 && !(await deps.repos.scheduling.anyWaiting());
  if (quiet) idle.add(deps.repos);
  else idle.delete(deps.repos);
  return { admitted: decision.admitted, waiting: decision.waiting, pools: decision.pools, decideMs, passMs };
}

/**
 * Runs passes one after another, never two at once in this process: on a timer and whenever
 * `kick()` is called (a job ended, one was submitted). A failed pass is logged and retried later.
 */
export function scheduleLoop(deps: JobsDeps, everyMs: number, log: (m: string) => void = console.error) {
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  const run = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await schedulePass(deps);
        } catch (e) {
          log(`[scheduler] pass failed: ${(e as Error).message}`);
        }
      } while (again && !stopped);
    })().finally(() => {
      running = null;
    });
    return running;
  };
  const timer = setInterval(() => void run(), everyMs);
  void run();
  return {
    kick: run,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
