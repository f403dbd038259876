import { LeaseLostError } from '@ctxlab/db';
import { describe, expect, it } from 'vitest';
import { testRepos } from '@ctxlab/testing/db';
import { waitFor } from '@ctxlab/testing/worker';
import { JobLease, leased } from './lease';
import { canTransition } from './statuses';

const repos = testRepos();
const newJob = async () => (await repos.jobs.create({ kind: 'niah-eval', spec: { test: 'lease' } })).job;
/** A holder that stopped renewing (paused, cut off) for longer than its lease: its expiry is in the past. */
const lapse = (jobId: string) => repos.db.job.update({ where: { id: jobId }, data: { leaseExpiresAt: new Date(Date.now() - 60_000) } });

describe('job leases in PostgreSQL', () => {
  it('one holder at a time; a lapsed lease is taken over with a higher fence, and the old holder can neither write nor move the job', async () => {
    const job = await newJob();
    const a = await repos.jobs.acquireLease(job.id, 'worker-a/1', 30_000);
    expect(a).toEqual({ holder: { owner: 'worker-a/1', fence: 1 } });
    const refused = await repos.jobs.acquireLease(job.id, 'worker-b/1', 30_000);
    expect(refused).toMatchObject({ heldBy: 'worker-a/1' });
    // Held: the reconciler leaves the job alone whatever the queue says.
    expect((await repos.jobs.unfinished(['niah-eval'])).map((j) => j.id)).not.toContain(job.id);

    await lapse(job.id);
    expect((await repos.jobs.unfinished(['niah-eval'])).map((j) => j.id)).toContain(job.id);
    const b = await repos.jobs.acquireLease(job.id, 'worker-b/1', 30_000);
    expect(b).toEqual({ holder: { owner: 'worker-b/1', fence: 2 } });
    if (!('holder' in a) || !('holder' in b)) throw new Error('unreachable');

    expect(await repos.jobs.renewLease(job.id, a.holder, 30_000)).toBe(false);
    expect(await repos.jobs.renewLease(job.id, b.holder, 30_000)).toBe(true);
    const write = (holder: typeof a.holder) =>
      repos.jobs.underLease(job.id, holder, 30_000, (tx) => tx.jobEvent.create({ data: { jobId: job.id, type: 'probe', message: holder.owner } }));
    const stale = await write(a.holder).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(LeaseLostError);
    expect((stale as Error).message).toBe(`job ${job.id}: worker-a/1 (fence 1) no longer holds it; worker-b/1 does (fence 2)`);
    await write(b.holder);
    const probes = (await repos.jobs.events(job.id)).filter((e) => e.type === 'probe').map((e) => e.message);
    expect(probes).toEqual(['worker-b/1']);

    await expect(repos.jobs.transition(job.id, 'running', 'stale', canTransition, {}, undefined, a.holder)).rejects.toBeInstanceOf(LeaseLostError);
    expect((await repos.jobs.get(job.id)).status).toBe('queued');
    await repos.jobs.transition(job.id, 'running', 'started by worker-b', canTransition, {}, undefined, b.holder);
    expect((await repos.jobs.get(job.id)).status).toBe('running');

    const leases = (await repos.jobs.events(job.id)).filter((e) => e.type === 'lease').map((e) => e.message);
    expect(leases).toEqual(['worker-a/1 holds the job (fence 1)', 'worker-b/1 took over from worker-a/1, whose lease had lapsed (fence 2)']);

    // Released: the next worker need not wait for it to lapse.
    await repos.jobs.releaseLease(job.id, b.holder);
    expect(await repos.jobs.acquireLease(job.id, 'worker-c/1', 30_000)).toEqual({ holder: { owner: 'worker-c/1', fence: 3 } });
  });

  it('two workers racing for the same job: exactly one gets it', async () => {
    const job = await newJob();
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => repos.jobs.acquireLease(job.id, `w${i}/x`, 30_000)));
    expect(results.filter((r) => 'holder' in r)).toHaveLength(1);
    expect((await repos.jobs.get(job.id)).fence).toBe(1);
  });

  it('a run renews its lease on a heartbeat, and once another worker took the job over it stops: held() false and its listeners told', async () => {
    const job = await newJob();
    const a = await JobLease.acquire(repos, job.id, 'worker-a', 600);
    if (!(a instanceof JobLease)) throw new Error(`not acquired: held by ${a.heldBy}`);
    try {
      expect(a.held()).toBe(true);
      // The heartbeat keeps it: well past the lease's duration, nobody else can take it.
      const first = (await repos.jobs.get(job.id)).leaseExpiresAt!.getTime();
      await waitFor('a renewal', async () => (await repos.jobs.get(job.id)).leaseExpiresAt!.getTime() > first, 10_000, 50);
      expect(await JobLease.acquire(repos, job.id, 'worker-b', 600)).toMatchObject({ heldBy: a.holder.owner });

      let told = 0;
      a.onLost(() => told++);
      // worker-a stalls longer than its lease (as if cut off); worker-b takes over.
      await lapse(job.id);
      const b = await JobLease.acquire(repos, job.id, 'worker-b', 600);
      if (!(b instanceof JobLease)) throw new Error('worker-b should have taken the lapsed lease');
      try {
        expect(await a.renew()).toBe(false);
        expect(a.held()).toBe(false);
        expect(a.lostTo).toBe(b.holder.owner);
        expect(told).toBe(1);
        expect(await a.ensure()).toBe(false);
        await expect(a.write((tx) => tx.jobEvent.create({ data: { jobId: job.id, type: 'probe', message: 'stale' } }))).rejects.toBeInstanceOf(LeaseLostError);
        expect(b.held()).toBe(true);
      } finally {
        await b.release();
      }
      expect((await repos.jobs.get(job.id)).leaseOwner).toBeNull();
    } finally {
      await a.release();
    }
  });

  it('a processor wrapped in the lease runs a job only when nobody else holds it (a second delivery is skipped)', async () => {
    const job = await newJob();
    const seen: (string | null)[] = [];
    const process = leased(repos, 'worker-b', 30_000, (b: { data: { jobId: string } }) => b.data.jobId, async (_b, lease) => {
      seen.push(lease && (await repos.jobs.get(job.id)).leaseOwner === lease.holder.owner ? 'held' : null);
      return 'ran';
    });
    const other = await repos.jobs.acquireLease(job.id, 'worker-a/1', 30_000);
    if (!('holder' in other)) throw new Error('unreachable');
    expect(await process({ data: { jobId: job.id } })).toMatchObject({ skipped: expect.stringMatching(/^job \S+ is held by worker-a\/1 until /) });
    expect(seen).toEqual([]);
    await repos.jobs.releaseLease(job.id, other.holder);
    expect(await process({ data: { jobId: job.id } })).toBe('ran');
    expect(seen).toEqual(['held']);
    // Given up at the end: the next delivery need not wait for it to lapse.
    expect((await repos.jobs.get(job.id)).leaseOwner).toBeNull();
  });
});
