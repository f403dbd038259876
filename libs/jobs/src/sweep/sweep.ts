/**
 * What every sweep against an endpoint shares (NIAH, RULER, topic retrieval, the capability
 * suites): the job run under its lease, the endpoint's client, cancel by pub/sub and by status
 * poll, the cells run through @ctxlab/niah's sweep driver into the run's cells (sent only while the
 * lease is held), progress on the job, its run and the queue, and the run's end — failed cells
 * recorded, never scored, and named in the job's final message.
 */
import { LeaseLostError, type Repositories } from '@ctxlab/db';
import type { Artifacts } from '@ctxlab/dispatch';
import { failedCellsMessage, OpenAIClient, runSweep, type SweepTally } from '@ctxlab/niah';
import { decryptSecret, sharedGuardedFetch } from '@ctxlab/security';
import { ensureTokenizer } from '../artifact-staging';
import type { JobContext } from '../context';
import { type JobLease, leased } from '../lease';
import { canStart, canTransition } from '../statuses';
import { type CellRow, cellsSink, type StoredCellKey } from './cells-sink';
import { StageClock } from './stages';

export interface SweepDeps {
  repos: Repositories;
  workerName: string;
  /** Registers a cancel listener for a job; returns the function that removes it. */
  onCancel: (jobId: string, fn: () => void) => () => void;
  /** Per-request timeout and attempts against the endpoint. */
  requestTimeoutMs: number;
  requestAttempts: number;
  /** How often the run re-reads its job's status (a cancel that missed pub/sub still lands). */
  statusPollMs?: number;
  /** Decrypts endpoint API keys (CTXLAB_SECRET_KEY). */
  secretKey?: Buffer | null;
  /** Internal hosts endpoints may point at, besides the registry's allow-list (CTXLAB_OUTBOUND_ALLOW). */
  outboundAllow?: string[];
  /** How long a job's lease lives without renewal (JOB_LEASE_MS): how soon a dead worker's job is taken over. */
  leaseMs?: number;
  /** The artifact stores: imported tokenizers are fetched from the bucket when not on this machine. */
  artifacts?: Artifacts;
}

type RunWithEndpoint = NonNullable<Awaited<ReturnType<Repositories['evals']['withEndpoint']>>>;
export type EvalRunRow = Omit<RunWithEndpoint, 'endpoint'>;
export type EndpointRow = NonNullable<RunWithEndpoint['endpoint']>;

/** A run that lost its lease stops and leaves the job to the new holder: not a failure of the job. */
export async function leftToHolder(repos: Repositories, lease: JobLease) {
  const to = lease.lostTo ?? 'nobody yet';
  await repos.jobs.note(lease.jobId, 'lease', `${lease.holder.owner} lost the job to ${to} and stopped sending requests`).catch(() => undefined);
  return { leftTo: to };
}

/**
 * A sweep in progress: started (or resumed) on the job and run, cancellable by pub/sub and by the
 * job's status in PostgreSQL, aborted when the lease is lost, with progress written to the job,
 * the run and the queue as its cells are stored.
 */
export class Sweep {
  readonly ctl = new AbortController();
  cancelled = false;
  private tally: SweepTally;
  private readonly disposers: (() => void)[] = [];
  /** Where the sweep's time goes (see stages.ts), written with its progress. */
  readonly clock: StageClock;

  private constructor(
    private readonly deps: SweepDeps,
    private readonly ctx: JobContext,
    readonly jobId: string,
    readonly run: EvalRunRow & { endpoint: EndpointRow },
    readonly lease: JobLease,
    readonly total: number,
  ) {
    this.tally = { done: 0, total, failed: 0, averageScore: null, cellsPerSecond: 0, etaSeconds: null };
    this.clock = new StageClock(ctx);
    const cancel = () => {
      this.cancelled = true;
      this.ctl.abort(new Error('cancelled'));
    };
    this.disposers.push(deps.onCancel(jobId, cancel));
    // Another worker holds the job now: what is in flight is its business, not ours.
    this.disposers.push(lease.onLost(() => this.ctl.abort(new Error("the job's lease was lost"))));
    const poll = setInterval(() => {
      deps.repos.jobs
        .find(jobId)
        .then((j) => {
          if (j?.status === 'cancelled') cancel();
        })
        .catch(() => undefined);
    }, deps.statusPollMs ?? 2000);
    this.disposers.push(() => clearInterval(poll));
  }

  /**
   * Marks the job and run running (resumed when the job already was) and drops the failed cells so
   * they are redone; the sweep's `cells` then skips the finished ones.
   */
  static async start(deps: SweepDeps, ctx: JobContext, job: { id: string; status: string }, run: EvalRunRow & { endpoint: EndpointRow }, lease: JobLease, total: number): Promise<Sweep> {
    const { repos } = deps;
    const resumed = job.status === 'running';
    await repos.jobs.transition(
      job.id,
      'running',
      resumed ? `resumed by ${deps.workerName} (the previous worker stopped mid-run)` : `started by ${deps.workerName}`,
      canTransition,
      {},
      undefined,
      lease.holder,
    );
    await repos.evals.markRunning(run.id, run.startedAt);
    // Failed cells are redone; succeeded ones are skipped.
    await lease.write((tx) => repos.evals.dropFailedCells(run.id, tx));
    return new Sweep(deps, ctx, job.id, run, lease, total);
  }

  /** Cancelled, or the lease went to another worker. */
  stopped(): boolean {
    return this.cancelled || this.lease.lostTo !== undefined;
  }

  /**
   * Runs the cells not yet stored — `idOf` names a stored cell as `cells` names its keys — while
   * the lease is held (when PostgreSQL is slow or away for a while, the requests drain, the lease
   * is renewed, and the sweep goes on, or stops if lost), each result stored as a cell.
   */
  async cells<C>(o: {
    idOf: (cell: StoredCellKey) => string;
    cells: (skip: ReadonlySet<string>) => Iterable<C>;
    send: (cells: Iterable<C>, signal: AbortSignal, onResult: (row: CellRow) => void) => Promise<unknown>;
  }): Promise<void> {
    const sink = cellsSink(this.deps.repos, this.lease, { evalRunId: this.run.id, jobId: this.jobId }, o.idOf, () => ({ done: this.tally.done, doc: this.progressDoc() }), this.clock);
    await runSweep({
      sink,
      total: this.total,
      cells: (skip) => this.clock.prompts(o.cells(skip)),
      send: o.send,
      score: (row) => row.score,
      signal: this.ctl.signal,
      hold: this.lease,
      onStart: (t) => void (this.tally = t),
      onResult: (t) => void (this.tally = t),
      // The registry got the progress with the batch; the queue's own view follows.
      onWritten: (t) => this.ctx.progress?.(this.progressDoc((this.tally = t))).catch(() => undefined),
    });
  }

  /** The progress as the job, its run and the queue show it: the tallies and where the time went. */
  private progressDoc(p: SweepTally = this.tally) {
    return { ...p, stages: this.clock.snapshot() };
  }

  private async progress(p: SweepTally) {
    const doc = this.progressDoc(p);
    await Promise.all([
      this.deps.repos.evals.recordProgress(this.run.id, p.done, doc),
      this.deps.repos.jobs.setProgress(this.jobId, doc),
      this.ctx.progress?.(doc).catch(() => undefined),
    ]);
  }

  /**
   * The endpoint's client. Endpoint URLs are user input: internal addresses are refused at every
   * hop and at connect time unless allow-listed; the stored API key is decrypted only here.
   */
  async client(concurrency: number): Promise<OpenAIClient> {
    const { repos, secretKey } = this.deps;
    const endpoint = this.run.endpoint;
    const allowed = await repos.accounts.allowedHostEntries();
    const encryptedKey = await repos.endpoints.encryptedApiKey(endpoint.id);
    if (encryptedKey && !secretKey) throw new Error(`endpoint ${endpoint.name} has an API key but CTXLAB_SECRET_KEY is not set on worker ${this.deps.workerName}`);
    const client = new OpenAIClient({
      // The transport's own limits follow REQUEST_TIMEOUT_MS, so a long prefill is not cut at undici's 300 s.
      fetch: sharedGuardedFetch([...(this.deps.outboundAllow ?? []), ...allowed], { timeoutMs: this.deps.requestTimeoutMs }),
      ...(encryptedKey && secretKey ? { apiKey: decryptSecret(encryptedKey, secretKey) } : {}),
      baseUrl: endpoint.url,
      model: endpoint.servedModelName,
      concurrency,
      timeoutMs: this.deps.requestTimeoutMs,
      maxAttempts: this.deps.requestAttempts,
      onRequestEnd: (ms) => this.clock.request(ms),
    });
    this.clock.s.concurrency = concurrency;
    const models = await client.listModels(this.ctl.signal);
    if (!models.ok && !this.stopped()) throw new Error(`endpoint ${endpoint.name} (${endpoint.url}) is unreachable: ${models.error}`);
    return client;
  }

  /**
   * The end of a sweep that ran out of cells: the job and run succeed, or fail naming the failed
   * cells (kept for a retry to redo). `summary` adds the suite's own figures to the counts.
   */
  async finish(summaryOf: () => Promise<Record<string, unknown>>) {
    const { repos } = this.deps;
    if (this.lease.lostTo !== undefined) return leftToHolder(repos, this.lease);
    await this.progress(this.tally);
    if (this.cancelled) return { cancelled: true, done: this.tally.done, total: this.total };
    const outcome = await repos.evals.cellOutcome(this.run.id);
    const summary = { done: this.total, total: this.total, failed: outcome.errors.length, averageScore: outcome.averageScore, scoredCells: outcome.scoredCells, ...(await summaryOf()) };
    const holder = this.lease.holder;
    if (outcome.errors.length > 0) {
      const reason = `${failedCellsMessage(this.total, outcome.errors)}; finished cells are kept — retry the job to redo the failed ones`;
      await repos.jobs.endWithRun(this.jobId, 'failed', reason, canTransition, { error: reason, result: summary }, holder, { id: this.run.id, summary });
      return summary;
    }
    await repos.jobs.endWithRun(this.jobId, 'succeeded', `all ${this.total} cells done, average score ${outcome.averageScore?.toFixed(1)}`, canTransition, { result: summary }, holder, { id: this.run.id, summary });
    return summary;
  }

  /**
   * A sweep that threw: its cells so far are kept; the job retries with backoff, or fails on its
   * last attempt. Cancel and a lost lease are not failures.
   */
  async afterError(e: unknown) {
    const { repos } = this.deps;
    if (this.cancelled) return { cancelled: true };
    if (e instanceof LeaseLostError || this.lease.lostTo !== undefined) return leftToHolder(repos, this.lease);
    const message = (e as Error).message;
    const { attempts, attemptsMade } = this.ctx;
    const final = attemptsMade + 1 >= attempts;
    const current = await repos.jobs.get(this.jobId);
    const holder = this.lease.holder;
    if (current.status === 'running') {
      if (final) {
        const reason = `${message} (the job was tried ${attempts} time${attempts === 1 ? '' : 's'})`;
        await repos.jobs.endWithRun(this.jobId, 'failed', reason, canTransition, { error: reason }, holder, { id: this.run.id });
      } else {
        await repos.jobs.transition(this.jobId, 'retrying', `${message}; try ${attemptsMade + 2} of ${attempts} of the job follows with backoff`, canTransition, {}, undefined, holder);
      }
    }
    throw e;
  }

  dispose() {
    for (const d of this.disposers) d();
  }

  /** Runs the body of a sweep: its failure handled as `afterError` says, its timers and listeners removed at the end. */
  async guard<R>(body: () => Promise<R>): Promise<R | { cancelled: boolean } | { leftTo: string }> {
    try {
      return await body();
    } catch (e) {
      return await this.afterError(e);
    } finally {
      this.dispose();
    }
  }
}

/**
 * An eval queue's processor: the job run only under its lease (a second delivery by the queue — a
 * Redis that lost it and a reconciler that put it back, a stalled lock — finds it held and leaves
 * it to its holder), skipped when it no longer exists or cannot start, and left to the new holder
 * when the lease is lost mid-run.
 */
export function evalRunProcessor<P extends { jobId: string; evalRunId: string }, R>(
  deps: Pick<SweepDeps, 'repos' | 'workerName' | 'leaseMs'>,
  handle: (payload: P, ctx: JobContext, job: { id: string; status: string }, lease: JobLease) => Promise<R>,
) {
  const { repos } = deps;
  return async (payload: P, ctx: JobContext) => {
    const run = leased(repos, deps.workerName, deps.leaseMs ?? 30_000, (p: P) => p.jobId, async (p, lease) => {
      const job = await repos.jobs.find(p.jobId);
      // The API rolls back a run whose job could not be queued; a message for it is stale.
      if (!job || !lease) return { skipped: `job ${p.jobId} does not exist` };
      if (!canStart(job.status)) return { skipped: `job ${p.jobId} is ${job.status}` };
      try {
        return await handle(p, ctx, job, lease);
      } catch (e) {
        if (e instanceof LeaseLostError) return leftToHolder(repos, lease);
        throw e;
      }
    });
    return run(payload);
  };
}

/** The run a sweep processor works on: its stored config read, its endpoint (API key left out) attached. */
export type EndpointRun = NonNullable<Awaited<ReturnType<typeof runWithEndpoint>>>;

/**
 * An eval job that sweeps its run against the run's endpoint (a NIAH sweep, a suite run): the job
 * handled as `evalRunProcessor` says, its run read with its endpoint first — a run or endpoint
 * that is gone fails the job at once.
 */
export function endpointRunProcessor<P extends { jobId: string; evalRunId: string }>(
  deps: SweepDeps,
  sweep: (run: EndpointRun, ctx: JobContext, job: { id: string; status: string }, lease: JobLease) => Promise<unknown>,
) {
  return evalRunProcessor<P, unknown>(deps, async ({ evalRunId }, ctx, job, lease) => {
    const run = await runWithEndpoint(deps, job.id, evalRunId, lease);
    if (!run) return { failed: 'missing run or endpoint' };
    // An imported tokenizer the portal stored on another machine comes from the bucket first.
    const tokenizer = (run.config as { spec?: { tokenizer?: unknown } }).spec?.tokenizer;
    if (typeof tokenizer === 'string') await ensureTokenizer(deps.artifacts, tokenizer);
    return sweep(run, ctx, job, lease);
  });
}

/** The run with its endpoint; a job whose run or endpoint is gone fails at once. */
export async function runWithEndpoint(deps: SweepDeps, jobId: string, evalRunId: string, lease: JobLease) {
  const run = await deps.repos.evals.withEndpoint(evalRunId);
  if (run?.endpoint) return { ...run, endpoint: run.endpoint };
  await deps.repos.jobs.transition(jobId, 'failed', 'the eval run or its endpoint no longer exists', canTransition, { error: 'eval run or endpoint missing' }, undefined, lease.holder);
  return null;
}
