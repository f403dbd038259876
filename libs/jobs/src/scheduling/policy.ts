/**
 * The GPU scheduler's decision, as a pure function of what is queued, what holds GPUs, the pools'
 * sizes, the teams' weights and their quotas. Nothing here reads a clock or a database: a pass
 * (./scheduler) gathers the state, calls `decide`, and writes what it says.
 *
 * The order, per pool (one GPU type on one executor):
 *  1. priority: every high job before any normal one, every normal before any low;
 *  2. within a priority, fair share between teams: the next job comes from the team whose GPUs in
 *     the pool (held, plus those ordered before in this pass) divided by its weight is lowest —
 *     ties to the team whose waiting job is oldest;
 *  3. within a team and priority, first come first served.
 * Jobs start in that order while they fit. The first that does not fit holds the pool: nothing
 * behind it starts before it (no backfill), so a big job is never starved by a stream of small
 * ones. Two kinds of job stand aside instead of holding the pool, with the reason: one its team's
 * quota does not allow (GPUs at once, or GPU-hours in the period), and one bigger than the whole
 * pool (it waits for the pool to grow; the capacity API reports the demand to Terraform).
 */

export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

export interface QueuedGpuJob {
  id: string;
  teamId: string | null;
  priority: Priority;
  /** Pool key: the executor and the GPU type, e.g. "local/a100-80gb". */
  pool: string;
  gpus: number;
  /** ms since the epoch. */
  queuedAt: number;
  /** An admin let it past its team's quota. */
  quotaOverride: boolean;
  /** How long it will hold its GPUs, when known (training: the planner's estimate), ms. Serve jobs: null. */
  expectedMs: number | null;
}

export interface HeldGpus {
  id: string;
  teamId: string | null;
  pool: string;
  gpus: number;
  /** When it is expected to give its GPUs back (ms since the epoch); null: not known (serving, no estimate). */
  expectedEndAt: number | null;
}

export interface PoolSize {
  pool: string;
  /** GPUs ctxlab may use: the pool's GPUs less those held by work that is not ctxlab's. */
  gpus: number;
}

export interface TeamQuota {
  teamId: string;
  gpuType: string;
  /** GPU-hours per period, null: no limit. */
  gpuHours: number | null;
  /** GPUs held at once (all executors), null: no limit. */
  maxGpus: number | null;
  /** GPU-hours the team has used in the current period, its running jobs' hours so far included. */
  usedGpuHours: number;
  period: string;
}

export interface SchedulerState {
  now: number;
  queued: readonly QueuedGpuJob[];
  held: readonly HeldGpus[];
  pools: readonly PoolSize[];
  /** Fair-share weight per team id; a team not listed (and "no team") weighs 1. */
  weights: ReadonlyMap<string, number>;
  quotas: readonly TeamQuota[];
  /** Display names for reasons. */
  teamNames?: ReadonlyMap<string, string>;
}

export type WaitKind = 'capacity' | 'order' | 'quota' | 'oversize' | 'no-pool';

export interface Waiting {
  jobId: string;
  pool: string;
  /** 1-based place in the pool's start order; null for jobs that stand aside (quota, oversize, no pool). */
  position: number | null;
  kind: WaitKind;
  reason: string;
  /** ms since the epoch, when the order and the running jobs' estimates allow one; null: not known. */
  estimatedStartAt: number | null;
}

export interface Decision {
  admit: { jobId: string; pool: string; gpus: number }[];
  waiting: Waiting[];
  /** Per pool: GPUs, held, free after this pass's admissions, and demand still waiting. */
  pools: { pool: string; gpus: number; held: number; free: number; waitingJobs: number; waitingGpus: number }[];
}

/** The pool key of an executor and GPU type. */
export const poolKey = (executor: string, gpuType: string) => `${executor}/${gpuType}`;
const gpuTypeOf = (pool: string) => pool.slice(pool.indexOf('/') + 1);
const NO_TEAM = '';
const teamKey = (t: string | null) => t ?? NO_TEAM;

interface Lane {
  team: string;
  priority: number;
  jobs: QueuedGpuJob[];
  next: number;
}

const fmt = (x: number) => (Math.round(x * 100) / 100).toLocaleString('en-US');

export interface DecideOptions {
  /**
   * false: only admit — each pool stops at its first job that does not fit, so the waiting list
   * holds only the jobs met before it (quota, oversize) and that one. What a scheduling pass does
   * under its lock; explaining every waiting job (places, reasons, estimated starts) comes after.
   */
  explain?: boolean;
}

export function decide(state: SchedulerState, opts: DecideOptions = {}): Decision {
  const explain = opts.explain ?? true;
  const { now } = state;
  const name = (team: string) => (team === NO_TEAM ? 'jobs without a team' : `team ${state.teamNames?.get(team) ?? team}`);
  const weight = (team: string) => {
    const w = team === NO_TEAM ? 1 : (state.weights.get(team) ?? 1);
    return w > 0 ? w : 1;
  };

  // GPUs each team holds, per GPU type (for concurrent quotas, across executors) and per pool (fair share).
  const heldByTeamType = new Map<string, number>();
  const heldByPool = new Map<string, number>();
  const heldByPoolTeam = new Map<string, Map<string, number>>();
  const ends = new Map<string, { at: number; gpus: number }[]>();
  const add = <K>(m: Map<K, number>, k: K, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  for (const h of state.held) {
    const team = teamKey(h.teamId);
    add(heldByTeamType, `${team}\u0000${gpuTypeOf(h.pool)}`, h.gpus);
    add(heldByPool, h.pool, h.gpus);
    let m = heldByPoolTeam.get(h.pool);
    if (!m) heldByPoolTeam.set(h.pool, (m = new Map()));
    add(m, team, h.gpus);
    let e = ends.get(h.pool);
    if (!e) ends.set(h.pool, (e = []));
    e.push({ at: h.expectedEndAt ?? Infinity, gpus: h.gpus });
  }
  const quotas = new Map(state.quotas.map((q) => [`${q.teamId}\u0000${q.gpuType}`, q]));
  const sizes = new Map(state.pools.map((p) => [p.pool, Math.max(0, p.gpus)]));

  // Lanes: one FIFO per pool, priority and team.
  const byPool = new Map<string, Map<string, Lane>>();
  for (const j of state.queued) {
    let lanes = byPool.get(j.pool);
    if (!lanes) byPool.set(j.pool, (lanes = new Map()));
    const p = PRIORITIES.indexOf(j.priority);
    const key = `${p}\u0000${teamKey(j.teamId)}`;
    let lane = lanes.get(key);
    if (!lane) lanes.set(key, (lane = { team: teamKey(j.teamId), priority: p, jobs: [], next: 0 }));
    lane.jobs.push(j);
  }

  const decision: Decision = { admit: [], waiting: [], pools: [] };
  const poolNames = new Set([...byPool.keys(), ...sizes.keys()]);
  for (const pool of [...poolNames].sort()) {
    const size = sizes.get(pool);
    const lanes = byPool.get(pool) ?? new Map<string, Lane>();
    const held = heldByPool.get(pool) ?? 0;
    let free = Math.max(0, (size ?? 0) - held);
    const share = new Map(heldByPoolTeam.get(pool) ?? []);
    const gpuType = gpuTypeOf(pool);
    let waitingJobs = 0;
    let waitingGpus = 0;
    for (const lane of lanes.values()) lane.jobs.sort((a, b) => a.queuedAt - b.queuedAt || (a.id < b.id ? -1 : 1));
    if (size === undefined) {
      // No executor reports this pool: the jobs wait for one (a worker configured with these GPUs, a node pool).
      for (const lane of lanes.values()) {
        for (const j of lane.jobs) {
          waitingJobs++;
          waitingGpus += j.gpus;
          decision.waiting.push({ jobId: j.id, pool, position: null, kind: 'no-pool', reason: `no executor reports ${gpuType} GPUs: waiting for a worker or node pool that has them`, estimatedStartAt: null });
        }
      }
      decision.pools.push({ pool, gpus: 0, held, free: 0, waitingJobs, waitingGpus });
      continue;
    }
    // Lanes by priority, so each pick scans only the lanes of the best priority that still has jobs.
    const tiers: Lane[][] = PRIORITIES.map(() => []);
    for (const lane of lanes.values()) tiers[lane.priority]!.push(lane);
    // Quota state as this pass orders jobs: GPUs the team would hold (per GPU type, all pools).
    const orderedByTeamType = new Map<string, number>();
    let blockedBy: QueuedGpuJob | null = null;
    let position = 0;
    // For start estimates: when GPUs come back, in time order; jobs ordered in this pass add their own ends.
    const timeline = (ends.get(pool) ?? []).slice().sort((a, b) => a.at - b.at);
    let simFree = free;
    let simNow = now;
    tiers: for (const tier of tiers) {
      for (;;) {
        if (blockedBy && !explain) break tiers;
        let best: Lane | null = null;
        let bestShare = Infinity;
        for (const lane of tier) {
          if (lane.next >= lane.jobs.length) continue;
          const s = (share.get(lane.team) ?? 0) / weight(lane.team);
          if (!best || s < bestShare || (s === bestShare && (lane.jobs[lane.next]!.queuedAt < best.jobs[best.next]!.queuedAt || (lane.jobs[lane.next]!.queuedAt === best.jobs[best.next]!.queuedAt && lane.team < best.team)))) {
            best = lane;
            bestShare = s;
          }
        }
        if (!best) break;
        const j = best.jobs[best.next++]!;
        const team = best.team;
        const typeKey = `${team}\u0000${gpuType}`;
        // Quota: a job its team's allowance does not cover stands aside (others go on).
        const quota = team === NO_TEAM || j.quotaOverride ? undefined : quotas.get(typeKey);
        if (quota) {
          const holding = (heldByTeamType.get(typeKey) ?? 0) + (orderedByTeamType.get(typeKey) ?? 0);
          let why: string | null = null;
          if (quota.maxGpus !== null && holding + j.gpus > quota.maxGpus) {
            why = `${name(team)}'s quota allows ${quota.maxGpus} ${gpuType} GPU${quota.maxGpus === 1 ? '' : 's'} at once; it holds or has queued ahead ${holding}, and this job needs ${j.gpus}`;
          } else if (quota.gpuHours !== null) {
            const estimate = j.expectedMs !== null ? (j.expectedMs / 3_600_000) * j.gpus : 0;
            if (quota.usedGpuHours >= quota.gpuHours) why = `${name(team)} has used ${fmt(quota.usedGpuHours)} of its ${fmt(quota.gpuHours)} ${gpuType} GPU-hours this ${quota.period}`;
            else if (quota.usedGpuHours + estimate > quota.gpuHours) why = `${name(team)} has used ${fmt(quota.usedGpuHours)} of its ${fmt(quota.gpuHours)} ${gpuType} GPU-hours this ${quota.period}, and this job is estimated at ${fmt(estimate)} more`;
          }
          if (why) {
            waitingJobs++;
            waitingGpus += j.gpus;
            decision.waiting.push({ jobId: j.id, pool, position: null, kind: 'quota', reason: `held by quota: ${why} (an admin can raise the quota or admit the job past it)`, estimatedStartAt: null });
            continue;
          }
        }
        if (j.gpus > size) {
          waitingJobs++;
          waitingGpus += j.gpus;
          decision.waiting.push({ jobId: j.id, pool, position: null, kind: 'oversize', reason: `needs ${j.gpus} ${gpuType} GPUs and the pool has ${size} in all: waiting for it to grow (the capacity API reports the demand)`, estimatedStartAt: null });
          continue;
        }
        share.set(team, (share.get(team) ?? 0) + j.gpus);
        orderedByTeamType.set(typeKey, (orderedByTeamType.get(typeKey) ?? 0) + j.gpus);
        if (!blockedBy && j.gpus <= free) {
          free -= j.gpus;
          simFree -= j.gpus;
          decision.admit.push({ jobId: j.id, pool, gpus: j.gpus });
          insertEnd(timeline, { at: j.expectedMs === null ? Infinity : now + j.expectedMs, gpus: j.gpus });
          continue;
        }
        // Waits: its start is estimated by playing the known ends forward in order.
        while (simFree < j.gpus && timeline.length) {
          const e = timeline.shift()!;
          simNow = Math.max(simNow, e.at);
          simFree += e.gpus;
        }
        const start = simFree >= j.gpus && Number.isFinite(simNow) ? simNow : null;
        simFree -= j.gpus;
        if (start !== null) insertEnd(timeline, { at: j.expectedMs === null ? Infinity : start + j.expectedMs, gpus: j.gpus });
        else simNow = Infinity;
        position++;
        waitingJobs++;
        waitingGpus += j.gpus;
        if (!blockedBy) {
          blockedBy = j;
          decision.waiting.push({ jobId: j.id, pool, position, kind: 'capacity', reason: `waiting for ${j.gpus} free ${gpuType} GPU${j.gpus === 1 ? '' : 's'}: ${free} of ${size} free`, estimatedStartAt: start });
        } else {
          decision.waiting.push({ jobId: j.id, pool, position, kind: 'order', reason: `behind ${position - 1} job${position === 2 ? '' : 's'} in the ${gpuType} queue (priority, then fair share between teams)`, estimatedStartAt: start });
        }
      }
    }
    decision.pools.push({ pool, gpus: size, held, free, waitingJobs, waitingGpus });
  }
  return decision;
}

/** Keeps `timeline` sorted by time (binary insertion). */
function insertEnd(timeline: { at: number; gpus: number }[], e: { at: number; gpus: number }) {
  let lo = 0;
  let hi = timeline.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (timeline[mid]!.at <= e.at) lo = mid + 1;
    else hi = mid;
  }
  timeline.splice(lo, 0, e);
}
