/**
 * One worker at a time per job, whatever the queue says. Redis may forget a job (a restart without
 * persistence) or hand it out twice (a stalled lock); PostgreSQL's lease on the job row decides who
 * runs it. The holder renews the lease on a heartbeat and checks, before every model request, that
 * the last renewal still covers the present moment — a check that costs nothing, and that is exact:
 * nobody else can take the lease before it lapses. A holder that lost the lease stops at once and
 * leaves the job to the new holder.
 */
import { LeaseLostError, type LeaseHolder, type Repositories } from '@ctxlab/db';
import { randomBytes } from 'node:crypto';

/** A transaction of the registry's, as repositories hand it to a callback. */
type Tx = Parameters<Parameters<Repositories['jobs']['underLease']>[3]>[0];

/** A renewal counts only for this fraction of the lease, leaving room for the round trip and clock-rate drift. */
const SAFETY = 0.8;

export class JobLease {
  private validUntil: number;
  private lost: { by: string | null } | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly lostListeners = new Set<() => void>();

  private constructor(
    private readonly repos: Repositories,
    readonly jobId: string,
    readonly holder: LeaseHolder,
    readonly ms: number,
    since: number,
  ) {
    this.validUntil = since + ms * SAFETY;
  }

  /**
   * Takes the job's lease for this run (owner: the worker's name and a token of its own, so two
   * runs in one process are two owners) and starts the heartbeat; or says who holds it.
   */
  static async acquire(repos: Repositories, jobId: string, workerName: string, ms: number): Promise<JobLease | { heldBy: string; until: Date }> {
    const since = performance.now();
    const r = await repos.jobs.acquireLease(jobId, `${workerName}/${randomBytes(4).toString('hex')}`, ms);
    if (!('holder' in r)) return r;
    const lease = new JobLease(repos, jobId, r.holder, ms, since);
    lease.heartbeat = setInterval(() => void lease.renew().catch(() => undefined), Math.max(50, Math.floor(ms / 3)));
    return lease;
  }

  /** True while this run may send requests: the lease was not lost and the last renewal still covers now. */
  held(): boolean {
    return !this.lost && performance.now() < this.validUntil;
  }

  /** Who took the job over, once the lease is lost (null: nobody yet, it was given up or reset). */
  get lostTo(): string | null | undefined {
    return this.lost?.by;
  }

  /** Called once when the lease is found lost (abort in-flight requests there). */
  onLost(fn: () => void): () => void {
    this.lostListeners.add(fn);
    return () => this.lostListeners.delete(fn);
  }

  /** Renews the lease now: true while held, false once lost. Throws when PostgreSQL cannot be reached. */
  async renew(): Promise<boolean> {
    if (this.lost) return false;
    const since = performance.now();
    if (await this.repos.jobs.renewLease(this.jobId, this.holder, this.ms)) {
      this.validUntil = Math.max(this.validUntil, since + this.ms * SAFETY);
      return true;
    }
    const now = await this.repos.jobs.get(this.jobId).catch(() => null);
    this.markLost(now?.leaseOwner ?? null);
    return false;
  }

  /**
   * Held, or renewed now (after PostgreSQL was out of reach longer than a heartbeat): what a run
   * asks before going on. Waits out an unreachable PostgreSQL for up to `patienceMs`.
   */
  async ensure(patienceMs = 5 * 60_000): Promise<boolean> {
    const t0 = Date.now();
    for (let n = 0; ; n++) {
      if (this.held()) return true;
      try {
        return await this.renew();
      } catch (e) {
        if (Date.now() - t0 > patienceMs) throw e;
        await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** n, 5000)));
      }
    }
  }

  /**
   * Runs `fn`'s writes in a transaction that holds the lease (see jobsRepo.underLease); a holder
   * that lost it writes nothing and learns so.
   */
  async write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const since = performance.now();
    try {
      const r = await this.repos.jobs.underLease(this.jobId, this.holder, this.ms, fn);
      this.validUntil = Math.max(this.validUntil, since + this.ms * SAFETY);
      return r;
    } catch (e) {
      if (e instanceof LeaseLostError) this.markLost(e.now?.owner ?? null);
      throw e;
    }
  }

  /** Stops the heartbeat and gives the lease up, so the next worker need not wait for it to lapse. */
  async release(): Promise<void> {
    this.stop();
    if (!this.lost) await this.repos.jobs.releaseLease(this.jobId, this.holder).catch(() => undefined);
  }

  private stop(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private markLost(by: string | null) {
    if (this.lost) return;
    this.lost = { by };
    this.stop();
    for (const fn of this.lostListeners) fn();
  }
}

export { LeaseLostError };

/**
 * Runs a processor only while this worker holds the job's lease: a second delivery of a job that
 * someone holds is skipped, and the lease is given up when the processor ends. Processors that
 * send requests check the lease they are handed before each one; others (GPU jobs: one executor
 * start per job) are guarded by the start alone.
 */
export function leased<B, R>(
  repos: Repositories,
  workerName: string,
  ms: number,
  jobIdOf: (bullJob: B) => string,
  processor: (bullJob: B, lease: JobLease | null) => Promise<R>,
): (bullJob: B) => Promise<R | { skipped: string }> {
  return async (bullJob) => {
    const jobId = jobIdOf(bullJob);
    // A message for a job that no longer exists (the API rolled it back) is the processor's to skip.
    if (!(await repos.jobs.find(jobId))) return processor(bullJob, null);
    const lease = await JobLease.acquire(repos, jobId, workerName, ms);
    if (!(lease instanceof JobLease)) return { skipped: `job ${jobId} is held by ${lease.heldBy} until ${lease.until.toISOString()}` };
    try {
      return await processor(bullJob, lease);
    } finally {
      await lease.release();
    }
  };
}
