import { describe, expect, it } from 'vitest';
import { decide, type HeldGpus, type QueuedGpuJob, type SchedulerState, type TeamQuota } from './policy';

const POOL = 'local/a100-80gb';
const H = 3_600_000;
let clock = 0;
const job = (id: string, teamId: string | null, gpus: number, priority: QueuedGpuJob['priority'] = 'normal', extra: Partial<QueuedGpuJob> = {}): QueuedGpuJob => ({
  id, teamId, priority, pool: POOL, gpus, queuedAt: ++clock, quotaOverride: false, expectedMs: null, ...extra,
});
const held = (id: string, teamId: string | null, gpus: number, expectedEndAt: number | null = null): HeldGpus => ({ id, teamId, pool: POOL, gpus, expectedEndAt });
const state = (s: Partial<SchedulerState>): SchedulerState => ({ now: 0, queued: [], held: [], pools: [{ pool: POOL, gpus: 2 }], weights: new Map(), quotas: [], ...s });
const order = (d: ReturnType<typeof decide>) => d.waiting.filter((w) => w.position !== null).sort((a, b) => a.position! - b.position!).map((w) => w.jobId);

describe('the GPU scheduling policy', () => {
  it('starts jobs in order while they fit; the first that does not fit holds the pool (no backfill)', () => {
    const d = decide(state({ queued: [job('a', 'A', 1), job('b', 'A', 2), job('c', 'A', 1)] }));
    expect(d.admit.map((a) => a.jobId)).toEqual(['a']);
    expect(order(d)).toEqual(['b', 'c']);
    expect(d.waiting.find((w) => w.jobId === 'b')).toMatchObject({ kind: 'capacity', position: 1, reason: 'waiting for 2 free a100-80gb GPUs: 1 of 2 free' });
    expect(d.waiting.find((w) => w.jobId === 'c')).toMatchObject({ kind: 'order', position: 2 });
    expect(d.pools[0]).toMatchObject({ gpus: 2, held: 0, free: 1, waitingJobs: 2, waitingGpus: 3 });
  });

  it('puts every high job before any normal one, and every normal before any low, whatever their age', () => {
    const d = decide(state({ pools: [{ pool: POOL, gpus: 0 + 1 }], held: [held('x', 'A', 1)], queued: [job('low', 'A', 1, 'low'), job('n', 'B', 1), job('hi', 'B', 1, 'high')] }));
    expect(d.admit).toEqual([]);
    expect(order(d)).toEqual(['hi', 'n', 'low']);
  });

  it('shares a pool between teams by weight: the next job comes from the team with the fewest GPUs per weight', () => {
    // Team A holds 2 GPUs of a 6-GPU pool; A queued first, yet B's jobs go first until B holds as many per weight.
    const queued = [job('a1', 'A', 1), job('a2', 'A', 1), job('a3', 'A', 1), job('b1', 'B', 1), job('b2', 'B', 1), job('b3', 'B', 1)];
    const even = decide(state({ pools: [{ pool: POOL, gpus: 6 }], held: [held('h', 'A', 2)], queued }));
    expect(even.admit.map((a) => a.jobId)).toEqual(['b1', 'b2', 'a1', 'b3']);
    // Weight 3 for A: A's 2 GPUs count as 0.67 — B (0) still first, then A (0.67 < 1), then A again on
    // the tie at 1 (its job is older), then B (1 < 1.33).
    const weighted = decide(state({ pools: [{ pool: POOL, gpus: 6 }], held: [held('h', 'A', 2)], queued, weights: new Map([['A', 3]]) }));
    expect(weighted.admit.map((a) => a.jobId)).toEqual(['b1', 'a1', 'a2', 'b2']);
  });

  it('breaks a tie of shares by age, and keeps first come first served within a team', () => {
    // b1 (oldest), a1 (A holds none), then 1:1 — a2 is older than b2.
    const d = decide(state({ pools: [{ pool: POOL, gpus: 4 }], queued: [job('b1', 'B', 1), job('a1', 'A', 1), job('a2', 'A', 1), job('b2', 'B', 1)] }));
    expect(d.admit.map((a) => a.jobId)).toEqual(['b1', 'a1', 'a2', 'b2']);
  });

  it('holds a job its team quota of GPUs at once does not allow, and lets the others by', () => {
    const quotas: TeamQuota[] = [{ teamId: 'B', gpuType: 'a100-80gb', gpuHours: null, maxGpus: 1, usedGpuHours: 0, period: 'month' }];
    const d = decide(state({ pools: [{ pool: POOL, gpus: 4 }], held: [held('hb', 'B', 1)], queued: [job('b1', 'B', 1), job('a1', 'A', 1)], quotas, teamNames: new Map([['B', 'vision']]) }));
    expect(d.admit.map((a) => a.jobId)).toEqual(['a1']);
    expect(d.waiting).toEqual([expect.objectContaining({ jobId: 'b1', kind: 'quota', position: null, reason: expect.stringContaining("team vision's quota allows 1 a100-80gb GPU at once; it holds or has queued ahead 1, and this job needs 1") })]);
    // An admin's override lets it past.
    const over = decide(state({ pools: [{ pool: POOL, gpus: 4 }], held: [held('hb', 'B', 1)], queued: [job('b1', 'B', 1, 'normal', { quotaOverride: true })], quotas }));
    expect(over.admit.map((a) => a.jobId)).toEqual(['b1']);
  });

  it('holds a job once its team has used its GPU-hours, or when its estimate would go past them', () => {
    const q = (used: number): TeamQuota[] => [{ teamId: 'A', gpuType: 'a100-80gb', gpuHours: 10, maxGpus: null, usedGpuHours: used, period: 'week' }];
    expect(decide(state({ queued: [job('a', 'A', 1)], quotas: q(10) })).waiting[0]).toMatchObject({ kind: 'quota', reason: expect.stringContaining('has used 10 of its 10 a100-80gb GPU-hours this week') });
    expect(decide(state({ queued: [job('a', 'A', 2, 'normal', { expectedMs: 3 * H })], quotas: q(5) })).waiting[0]).toMatchObject({ kind: 'quota', reason: expect.stringContaining('estimated at 6 more') });
    expect(decide(state({ queued: [job('a', 'A', 2, 'normal', { expectedMs: 2 * H })], quotas: q(5) })).admit).toHaveLength(1);
    // A quota of another GPU type or team does not apply; jobs without a team have none.
    expect(decide(state({ queued: [job('b', 'B', 1), job('n', null, 1)], quotas: q(10) })).admit).toHaveLength(2);
  });

  it('lets a job bigger than the whole pool wait for the pool to grow without holding back the rest', () => {
    const d = decide(state({ queued: [job('big', 'A', 4), job('small', 'A', 1)] }));
    expect(d.admit.map((a) => a.jobId)).toEqual(['small']);
    expect(d.waiting[0]).toMatchObject({ jobId: 'big', kind: 'oversize', reason: 'needs 4 a100-80gb GPUs and the pool has 2 in all: waiting for it to grow (the capacity API reports the demand)' });
    expect(d.pools[0]).toMatchObject({ waitingGpus: 4 });
  });

  it('has jobs for a pool no executor reports wait for one', () => {
    const d = decide(state({ pools: [], queued: [job('a', 'A', 1)] }));
    expect(d.waiting[0]).toMatchObject({ kind: 'no-pool', reason: 'no executor reports a100-80gb GPUs: waiting for a worker or node pool that has them' });
  });

  it('subtracts what running jobs hold, and estimates starts from their expected ends', () => {
    const d = decide(state({
      now: 0,
      held: [held('r1', 'A', 1, 2 * H), held('r2', 'A', 1, 5 * H)],
      queued: [job('w1', 'A', 1, 'normal', { expectedMs: 1 * H }), job('w2', 'A', 2, 'normal', { expectedMs: H }), job('w3', 'A', 1)],
    }));
    expect(d.admit).toEqual([]);
    const at = Object.fromEntries(d.waiting.map((w) => [w.jobId, w.estimatedStartAt === null ? null : w.estimatedStartAt / H]));
    // w1 takes r1's GPU at 2 h and ends at 3 h; w2 needs both: r2 ends at 5 h; w3 follows w2, which ends at 6 h.
    expect(at).toEqual({ w1: 2, w2: 5, w3: 6 });
    // A serve job (no end) makes every later estimate unknown.
    const serving = decide(state({ held: [held('s', 'A', 2, null)], queued: [job('w', 'A', 1)] }));
    expect(serving.waiting[0]!.estimatedStartAt).toBeNull();
  });

  it('decides pools independently', () => {
    const other = 'kubernetes/h100-sxm-80gb';
    const d = decide(state({ pools: [{ pool: POOL, gpus: 1 }, { pool: other, gpus: 8 }], queued: [job('a', 'A', 2), { ...job('k', 'A', 8), pool: other }] }));
    expect(d.admit.map((a) => a.jobId)).toEqual(['k']);
    expect(d.waiting.map((w) => w.kind)).toEqual(['oversize']);
  });
});
