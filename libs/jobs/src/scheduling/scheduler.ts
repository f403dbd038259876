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
import type { PassBase, QueuedRow } from '@ctxlab/db';
import { decide, type HeldGpus, poolKey, type Priority, type QueuedGpuJob, type SchedulerState, type TeamQuota, type Waiting } from './policy';

export interface PassResult {
  admitted: string[];
  waiting: Waiting[];
  pools: { pool: string; gpus: number; held: number; free: number; waitingJobs: number; waitingGpus: number }[];
  /** ms from the start of the pass: its admissions committed, and the admitted jobs on the GPU queue (the admission latency). */
  committedMs: number;
  queuedMs: number;
  /** ms deciding under the lock (admissions only), and explaining every waiting job afterwards (places, reasons, estimates). */
  decideMs: number;
  explainMs: number;
  /** ms for the whole pass, the Redis snapshot and history notes included. */
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
const EMPTY: PassResult = { admitted: [], waiting: [], pools: [], committedMs: 0, queuedMs: 0, decideMs: 0, explainMs: 0, passMs: 0 };

const gpuTypeOf = (pool: string) => pool.slice(pool.indexOf('/') + 1);
const executorOf = (pool: string) => pool.slice(0, pool.indexOf('/'));

/** Why a job needs no admission decision. */
function unmanagedReason(q: QueuedRow): string {
  return q.gpus <= 0 ? 'admitted: it holds no GPU'
    : q.gpuType === ANY_GPU ? 'admitted without waiting: it names no GPU type, so no pool can hold it back (give gpuType to have it scheduled and priced)'
    : `admitted: the ${q.executor} executor does not report its GPUs, so it runs what it is given`;
}

const toQueued = (q: QueuedRow): QueuedGpuJob => ({
  id: q.id, teamId: q.teamId, priority: q.priority as Priority, pool: poolKey(q.executor, q.gpuType), gpus: q.gpus, queuedAt: q.queuedAt.getTime(),
  quotaOverride: q.quotaOverride, expectedMs: q.estimatedGpuHours !== null && q.gpus > 0 ? (q.estimatedGpuHours / q.gpus) * 3_600_000 : null,
});
const laneOf = (q: QueuedGpuJob) => `${q.pool}\u0000${q.priority}\u0000${q.teamId ?? ''}`;

/** The policy's input from a pass's base reading, without the queue. */
function policyBase(b: PassBase, t: number): Omit<SchedulerState, 'queued'> {
  const held: HeldGpus[] = b.held.map((h) => ({
    id: h.id, teamId: h.teamId, pool: poolKey(h.executor, h.gpuType), gpus: h.gpus,
    expectedEndAt: h.kind !== 'serve' && h.estimatedGpuHours !== null ? h.since.getTime() + (h.estimatedGpuHours / h.gpus) * 3_600_000 : null,
  }));
  const used = new Map(b.usage.map((u) => [`${u.teamId}\u0000${u.gpuType}\u0000${u.period}`, u.hours]));
  const quotas: TeamQuota[] = b.quotas.map((q) => ({ ...q, usedGpuHours: used.get(`${q.teamId}\u0000${q.gpuType}\u0000${q.period}`) ?? 0 }));
  return {
    now: t, held, quotas,
    pools: b.pools.map((p) => ({ pool: poolKey(p.executor, p.gpuType), gpus: p.gpus - p.foreignUsed })),
    weights: new Map(b.teams.map((x) => [x.id, x.weight])),
    teamNames: new Map(b.teams.map((x) => [x.id, x.name])),
  };
}

/**
 * One pass. Under the lock it only admits: it reads the queue only of pools with free GPUs, and
 * of each lane (pool, priority, team) only its first two jobs, then decides up to each pool's first
 * job that does not fit; were a lane used up before that, it reads deeper (as many per lane as
 * could start, plus one; then whole) and decides again. So a job whose GPUs came back is admitted and queued
 * in a few reads, whatever the length of the queue. Then, outside the lock, it reads the whole
 * queue and explains every waiting job — places, reasons, estimated starts — and publishes that.
 */
export async function schedulePass(deps: JobsDeps, opts: PassOptions = {}): Promise<PassResult> {
  const started = performance.now();
  const since = () => performance.now() - started;
  // Most passes of a quiet lab find nothing queued: one indexed EXISTS, and the published decision (empty) stands.
  if (idle.has(deps.repos) && !opts.afterCommit && !(await deps.repos.scheduling.anyWaiting())) return { ...EMPTY, passMs: since() };
  const now = opts.now ?? new Date();
  const t = now.getTime();
  let decideMs = 0;
  let base: Omit<SchedulerState, 'queued'> | null = null;
  const considered = new Map<string, QueuedGpuJob>();
  const committed = await deps.repos.scheduling.pass(now, async (r) => {
    const b = policyBase(r.base, t);
    base = b;
    const unmanaged = (await r.unmanaged()).map((q) => ({ jobId: q.id, reason: unmanagedReason(q) }));
    // Pools with a free GPU are the only ones where anything can start.
    const heldIn = new Map<string, number>();
    for (const h of b.held) heldIn.set(h.pool, (heldIn.get(h.pool) ?? 0) + h.gpus);
    const open = b.pools.map((p) => ({ pool: p.pool, free: p.gpus - (heldIn.get(p.pool) ?? 0) })).filter((p) => p.free > 0);
    const admit: { jobId: string; reason: string }[] = [...unmanaged];
    if (open.length) {
      const decideOn = (rows: (QueuedRow & { laneSize: number })[]) => {
        const d0 = performance.now();
        const queued = rows.map(toQueued);
        const out = decide({ ...b, queued }, { explain: false });
        decideMs += performance.now() - d0;
        return { rows, queued, out };
      };
      // A lane whose every read job was admitted or stood aside, with more behind them unread: its next job might have come next.
      const shortLanes = (pick: ReturnType<typeof decideOn>) => {
        const seen = new Map<string, number>();
        for (const q of pick.queued) seen.set(laneOf(q), (seen.get(laneOf(q)) ?? 0) + 1);
        const used = new Map<string, number>();
        const byId = new Map(pick.queued.map((q) => [q.id, q]));
        for (const id of [...pick.out.admit.map((a) => a.jobId), ...pick.out.waiting.map((w) => w.jobId)]) {
          const q = byId.get(id);
          if (q) used.set(laneOf(q), (used.get(laneOf(q)) ?? 0) + 1);
        }
        return pick.rows.some((row, i) => {
          const lane = laneOf(pick.queued[i]!);
          return row.laneSize > (seen.get(lane) ?? 0) && used.get(lane) === seen.get(lane);
        });
      };
      const pools = open.map((p) => p.pool);
      // Most passes admit a job or two: two per lane is enough then; deeper (then whole) readings only when a lane ran out.
      const most = Math.max(...open.map((p) => p.free)) + 1;
      let pick = decideOn(await r.queued({ pools, perLane: Math.min(2, most) }));
      for (const perLane of [most, undefined]) {
        if (!shortLanes(pick)) break;
        pick = decideOn(await r.queued(perLane === undefined ? { pools } : { pools, perLane }));
      }
      for (const q of pick.queued) considered.set(q.id, q);
      const freeAfter = new Map(pick.out.pools.map((p) => [p.pool, p]));
      for (const a of pick.out.admit) {
        const p = freeAfter.get(a.pool);
        admit.push({ jobId: a.jobId, reason: `admitted: ${a.gpus} ${gpuTypeOf(a.pool)} GPU${a.gpus === 1 ? '' : 's'} on the ${executorOf(a.pool)} executor (${p ? `${p.free} of ${p.gpus} free after it` : 'pool'})` });
      }
    }
    return { admit };
  });
  const committedMs = since();
  await opts.afterCommit?.(committed.admitted);

  // Every admitted job that has not started is on the queue (again, harmlessly, if it already was).
  const producer = deps.producer();
  for (const j of await deps.repos.scheduling.admittedWaiting()) {
    await enqueueGpuJob(producer, { jobId: j.id }, { attempt: j.attempts, prefix: deps.queuePrefix });
  }
  const queuedMs = since();

  // Explain the whole queue, with this pass's admissions holding their GPUs.
  const e0 = performance.now();
  const b = base as Omit<SchedulerState, 'queued'> | null;
  let explained: ReturnType<typeof decide> = { admit: [], waiting: [], pools: [] };
  if (b) {
    const admittedNow = new Set(committed.admitted);
    const all = (await deps.repos.scheduling.queuedAll()).map(toQueued).filter((q) => !admittedNow.has(q.id));
    const nowHeld = committed.admitted.flatMap((id) => {
      const q = considered.get(id);
      return q ? [{ id, teamId: q.teamId, pool: q.pool, gpus: q.gpus, expectedEndAt: q.expectedMs === null ? null : t + q.expectedMs }] : [];
    });
    explained = decide({ ...b, queued: all, held: [...b.held, ...nowHeld] });
    // GPUs that came back after the locked read: those jobs start on the next pass, which is asked for now.
    if (explained.admit.length) {
      for (const a of explained.admit) explained.waiting.push({ jobId: a.jobId, pool: a.pool, position: 0, kind: 'capacity', reason: `${a.gpus} ${gpuTypeOf(a.pool)} GPU${a.gpus === 1 ? ' is' : 's are'} free: it starts on the next scheduling pass`, estimatedStartAt: t });
      idle.delete(deps.repos);
    }
  }
  const explainMs = performance.now() - e0;

  // Publish why the rest wait, and note in a job's history when the reason it waits changes kind.
  const waits = new Map<string, ScheduledWait>(explained.waiting.map((w) => [w.jobId, { pool: w.pool, position: w.position, kind: w.kind, reason: w.reason, estimatedStartAt: w.estimatedStartAt }]));
  let seen = lastKinds.get(deps.repos);
  if (!seen) {
    const before = await readSchedule(producer, undefined, deps.queuePrefix).catch(() => null);
    seen = new Map([...(before?.waits ?? new Map<string, ScheduledWait>())].map(([id, w]) => [id, w.kind]));
    lastKinds.set(deps.repos, seen);
  }
  const changed = explained.waiting.filter((w) => NOTED.has(w.kind) && seen.get(w.jobId) !== w.kind);
  for (const w of changed) await deps.repos.jobs.note(w.jobId, 'waiting', w.reason).catch(() => undefined);
  seen.clear();
  for (const w of explained.waiting) seen.set(w.jobId, w.kind);
  await writeSchedule(producer, waits, { decidedAt: t, passMs: since(), pools: explained.pools }, deps.queuePrefix);
  const quiet = explained.waiting.length === 0 && committed.admitted.length === 0 && !(await deps.repos.scheduling.anyWaiting());
  if (quiet) idle.add(deps.repos);
  else idle.delete(deps.repos);
  return { admitted: committed.admitted, waiting: explained.waiting, pools: explained.pools, committedMs, queuedMs, decideMs, explainMs, passMs: since() };
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
