/**
 * What every sweep against an endpoint shares (NIAH, RULER, topic retrieval): cells written in
 * batches under the job's lease, the endpoint's client, cancel by pub/sub and by status poll,
 * progress on the job and its run, the request loop that sends only while the lease is held, and
 * the run's end — failed cells recorded, never scored, and named in the job's final message.
 */
import { LeaseLostError, type Repositories } from '@ctxlab/db';
import { canStart, canTransition, type JobLease, leased } from '@ctxlab/jobs';
import { failedCellsMessage, OpenAIClient } from '@ctxlab/niah';
import { decryptSecret, sharedGuardedFetch } from '@ctxlab/contracts/security';
import type { Job } from 'bullmq';

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
}

type RunWithEndpoint = NonNullable<Awaited<ReturnType<Repositories['evals']['withEndpoint']>>>;
export type EvalRunRow = Omit<RunWithEndpoint, 'endpoint'>;
export type EndpointRow = NonNullable<RunWithEndpoint['endpoint']>;
/** One cell as a sweep stores it (EvalCell's columns; task '' for NIAH). */
export interface CellRow {
  evalRunId: string;
  task?: string;
  contextLength: number;
  depth: number;
  sample: number;
  promptTokens: number | null;
  needleToken?: number | null;
  needle?: string | null;
  expected: string | null;
  response: string | null;
  score: number | null;
  latencyMs: number | null;
  error: string | null;
  attempts?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Writes cells in batches under the job's lease; keeps them and retries with backoff while
 * PostgreSQL is unreachable. A run that lost the lease writes nothing more: the job is its new
 * holder's. Cells are unique per run and key, and a duplicate is skipped: a cell is stored once.
 */
export class CellWriter {
  private buffer: CellRow[] = [];
  private flushing: Promise<void> | null = null;
  constructor(
    private readonly repos: Repositories,
    private readonly lease: JobLease,
    private readonly onFlushed: (n: number) => Promise<void>,
  ) {}

  add(row: CellRow) {
    this.buffer.push(row);
    if (this.buffer.length >= 200) void this.flush();
  }

  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.flushing = (async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.lease.write((tx) => this.repos.evals.storeCells(batch, tx));
          break;
        } catch (e) {
          if (e instanceof LeaseLostError) return;
          if (attempt >= 60) throw e;
          await sleep(Math.min(250 * 2 ** attempt, 5000));
        }
      }
      await this.onFlushed(batch.length).catch(() => undefined);
    })();
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
    }
  }
}

/** A run that lost its lease stops and leaves the job to the new holder: not a failure of the job. */
export async function leftToHolder(repos: Repositories, lease: JobLease) {
  const to = lease.lostTo ?? 'nobody yet';
  await repos.jobs.note(lease.jobId, 'lease', `${lease.holder.owner} lost the job to ${to} and stopped sending requests`).catch(() => undefined);
  return { leftTo: to };
}

/**
 * A sweep in progress: started (or resumed) on the job and run, cancellable by pub/sub and by the
 * job's status in PostgreSQL, aborted when the lease is lost, with progress written to the job,
 * the run and the queue, and cells written through its CellWriter.
 */
export class Sweep {
  readonly ctl = new AbortController();
  cancelled = false;
  done = 0;
  failed = 0;
  private scoreSum = 0;
  private readonly startDone: number;
  private readonly t0 = Date.now();
  readonly writer: CellWriter;
  private readonly disposers: (() => void)[] = [];

  private constructor(
    private readonly deps: SweepDeps,
    private readonly bullJob: Job,
    readonly jobId: string,
    readonly run: EvalRunRow & { endpoint: EndpointRow },
    readonly lease: JobLease,
    readonly total: number,
    finished: readonly { score: number | null }[],
  ) {
    this.done = this.startDone = finished.length;
    this.scoreSum = finished.reduce((a, c) => a + (c.score ?? 0), 0);
    this.writer = new CellWriter(deps.repos, lease, () => this.progress());
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
    const ticker = setInterval(() => void this.writer.flush().catch(() => undefined), 250);
    this.disposers.push(() => clearInterval(poll), () => clearInterval(ticker));
  }

  /**
   * Marks the job and run running (resumed when the job already was), drops the failed cells so
   * they are redone, and reads which cells are finished: `finished` selects their keys.
   */
  static async start<K extends { score: number | null }>(
    deps: SweepDeps,
    bullJob: Job,
    job: { id: string; status: string },
    run: EvalRunRow & { endpoint: EndpointRow },
    lease: JobLease,
    total: number,
    finished: () => Promise<K[]>,
  ): Promise<{ sweep: Sweep; finished: K[] }> {
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
    // Failed cells are redone; succeeded ones are skipped. One query of the keys, not of the results.
    await lease.write((tx) => repos.evals.dropFailedCells(run.id, tx));
    const rows = await finished();
    return { sweep: new Sweep(deps, bullJob, job.id, run, lease, total, rows), finished: rows };
  }

  /** Cancelled, or the lease went to another worker. */
  stopped(): boolean {
    return this.cancelled || this.lease.lostTo !== undefined;
  }

  /** Counts a finished cell (score null: its request failed) and queues it for writing. */
  record(row: CellRow) {
    this.done++;
    if (row.score === null) this.failed++;
    else this.scoreSum += row.score;
    this.writer.add(row);
  }

  async progress() {
    const rate = (this.done - this.startDone) / Math.max(0.001, (Date.now() - this.t0) / 1000);
    const p = {
      done: this.done,
      total: this.total,
      failed: this.failed,
      averageScore: this.done - this.failed > 0 ? this.scoreSum / (this.done - this.failed) : null,
      cellsPerSecond: rate,
      etaSeconds: rate > 0 ? (this.total - this.done) / rate : null,
    };
    await Promise.all([
      this.deps.repos.evals.recordProgress(this.run.id, this.done, p),
      this.deps.repos.jobs.setProgress(this.jobId, p),
      this.bullJob.updateProgress(p).catch(() => undefined),
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
    });
    const models = await client.listModels(this.ctl.signal);
    if (!models.ok && !this.stopped()) throw new Error(`endpoint ${endpoint.name} (${endpoint.url}) is unreachable: ${models.error}`);
    return client;
  }

  /**
   * Runs `pass` over the cells while the lease is held: the next cell is taken (and its request
   * sent) only while the last renewal covers now. When it no longer does (PostgreSQL slow or away
   * for a while), the pass drains, the lease is renewed, and the sweep goes on — or stops if lost.
   */
  async whileHeld<T>(cells: Iterator<T>, pass: (cells: Iterable<T>) => Promise<unknown>): Promise<void> {
    let exhausted = false;
    const lease = this.lease;
    const stopped = () => this.stopped();
    function* held() {
      while (lease.held() && !stopped()) {
        const next = cells.next();
        if (next.done) {
          exhausted = true;
          return;
        }
        yield next.value;
      }
    }
    while (!exhausted && !this.stopped()) {
      await pass(held());
      if (!exhausted && !this.stopped()) await lease.ensure();
    }
  }

  /**
   * The end of a sweep that ran out of cells: the job and run succeed, or fail naming the failed
   * cells (kept for a retry to redo). `summary` adds the suite's own figures to the counts.
   */
  async finish(summaryOf: () => Promise<Record<string, unknown>>) {
    const { repos } = this.deps;
    await this.writer.flush();
    if (this.lease.lostTo !== undefined) return leftToHolder(repos, this.lease);
    await this.progress();
    if (this.cancelled) return { cancelled: true, done: this.done, total: this.total };
    const outcome = await repos.evals.cellOutcome(this.run.id);
    const summary = { done: this.total, total: this.total, failed: outcome.errors.length, averageScore: outcome.averageScore, scoredCells: outcome.scoredCells, ...(await summaryOf()) };
    const holder = this.lease.holder;
    if (outcome.errors.length > 0) {
      const reason = `${failedCellsMessage(this.total, outcome.errors)}; finished cells are kept — retry the job to redo the failed ones`;
      await repos.jobs.transition(this.jobId, 'failed', reason, canTransition, { error: reason, result: summary }, undefined, holder);
      await repos.evals.markEnded(this.run.id, 'failed', summary);
      return summary;
    }
    await repos.jobs.transition(this.jobId, 'succeeded', `all ${this.total} cells done, average score ${outcome.averageScore?.toFixed(1)}`, canTransition, { result: summary }, undefined, holder);
    await repos.evals.markEnded(this.run.id, 'succeeded', summary);
    return summary;
  }

  /**
   * A sweep that threw: its cells so far are kept; the job retries with backoff, or fails on its
   * last attempt. Cancel and a lost lease are not failures.
   */
  async afterError(e: unknown) {
    const { repos } = this.deps;
    await this.writer.flush().catch(() => undefined);
    if (this.cancelled) return { cancelled: true };
    if (e instanceof LeaseLostError || this.lease.lostTo !== undefined) return leftToHolder(repos, this.lease);
    const message = (e as Error).message;
    const attempts = this.bullJob.opts.attempts ?? 1;
    const final = this.bullJob.attemptsMade + 1 >= attempts;
    const current = await repos.jobs.get(this.jobId);
    const holder = this.lease.holder;
    if (current.status === 'running') {
      if (final) {
        const reason = `${message} (the job was tried ${attempts} time${attempts === 1 ? '' : 's'})`;
        await repos.jobs.transition(this.jobId, 'failed', reason, canTransition, { error: reason }, undefined, holder);
        await repos.evals.markEnded(this.run.id, 'failed');
      } else {
        await repos.jobs.transition(this.jobId, 'retrying', `${message}; try ${this.bullJob.attemptsMade + 2} of ${attempts} of the job follows with backoff`, canTransition, {}, undefined, holder);
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
 * A sweep queue's processor: the job run only under its lease (a second delivery by the queue — a
 * Redis that lost it and a reconciler that put it back, a stalled lock — finds it held and leaves
 * it to its holder), skipped when it no longer exists or cannot start, and left to the new holder
 * when the lease is lost mid-run.
 */
export function sweepProcessor(
  deps: SweepDeps,
  payloadOf: (bullJob: Job) => { jobId: string; evalRunId: string },
  handle: (bullJob: Job, job: { id: string; status: string }, evalRunId: string, lease: JobLease) => Promise<unknown>,
) {
  const { repos } = deps;
  return leased(repos, deps.workerName, deps.leaseMs ?? 30_000, (bullJob: Job) => payloadOf(bullJob).jobId, async (bullJob, lease) => {
    const { jobId, evalRunId } = payloadOf(bullJob);
    const job = await repos.jobs.find(jobId);
    // The API rolls back a run whose job could not be queued; a message for it is stale.
    if (!job || !lease) return { skipped: `job ${jobId} does not exist` };
    if (!canStart(job.status)) return { skipped: `job ${jobId} is ${job.status}` };
    try {
      return await handle(bullJob, job, evalRunId, lease);
    } catch (e) {
      if (e instanceof LeaseLostError) return leftToHolder(repos, lease);
      throw e;
    }
  });
}

/** The run with its endpoint; a job whose run or endpoint is gone fails at once. */
export async function runWithEndpoint(deps: SweepDeps, jobId: string, evalRunId: string, lease: JobLease) {
  const run = await deps.repos.evals.withEndpoint(evalRunId);
  if (run?.endpoint) return { ...run, endpoint: run.endpoint };
  await deps.repos.jobs.transition(jobId, 'failed', 'the eval run or its endpoint no longer exists', canTransition, { error: 'eval run or endpoint missing' }, undefined, lease.holder);
  return null;
}
