import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  Log,
  Observable,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type ObservableMiddleware,
  type V1ContainerStatus,
  type V1Deployment,
  type V1Job,
  type V1ObjectMeta,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import { DispatchError } from '../../errors';
import type { RenderedJob } from '../../render/types';
import type { JobKind } from '../../specs';
import { checkJobId } from '../local';
import { LineSplitter } from '../lines';
import type { Executor, JobHandle, JobResult, JobStatus, LogLine, PoolCapacity, StartOptions } from '../types';
import { poolCapacity } from './capacity';
import {
  ANNOTATION_JOB_ID,
  COMPLETION_INDEX_LABEL,
  CONTAINER_NAME,
  gpuTolerations,
  jobIdLabel,
  kubeName,
  LABEL_JOB_ID,
  LABEL_KIND,
  ownedBy,
  renderKubeObjects,
  type KubeManifestOptions,
  type KubeObjects,
} from './manifests';

export interface KubernetesExecutorOptions extends KubeManifestOptions {
  kubeConfig: KubeConfig;
  /** How often job and pod status is read. Default 2 s. */
  pollIntervalMs?: number;
  /** Consecutive failed API calls (5xx, 429, network) tolerated while following a job. Default 5. */
  maxConsecutiveErrors?: number;
  /** A serve pod restarted this often in CrashLoopBackOff fails the serve job (which is then scaled to zero). Default 3. */
  crashLoopRestarts?: number;
  /** Time capacity() waits for the API server, all its requests together, before it fails with KUBE_UNAVAILABLE. Default 30 s. */
  capacityTimeoutMs?: number;
}

// ---------------------------------------------------------------------------------------------
// API errors
// ---------------------------------------------------------------------------------------------

interface StatusBody {
  message?: string;
  reason?: string;
  details?: { causes?: { field?: string; message?: string; reason?: string }[] };
}

function statusOf(e: unknown): { code: number | undefined; body: StatusBody | undefined } {
  const err = e as { code?: unknown; body?: unknown };
  const code = typeof err?.code === 'number' ? err.code : undefined;
  let body: StatusBody | undefined;
  if (typeof err?.body === 'string') {
    try {
      body = JSON.parse(err.body) as StatusBody;
    } catch {
      body = { message: err.body };
    }
  } else if (err?.body && typeof err.body === 'object') body = err.body as StatusBody;
  return { code, body };
}

/** An API failure as a DispatchError; 422s name the first field Kubernetes objected to. */
export function kubeError(e: unknown, what: string): DispatchError {
  if (e instanceof DispatchError) return e;
  const { code, body } = statusOf(e);
  const msg = body?.message ?? (e as Error)?.message ?? String(e);
  if (code === 422) {
    const field = body?.details?.causes?.find((c) => c.field)?.field;
    return new DispatchError('KUBE_INVALID', `Kubernetes rejected ${what}: ${msg}`, field, { cause: e });
  }
  if (code === 409) return new DispatchError('KUBE_CONFLICT', `${what}: ${msg}`, undefined, { cause: e });
  if (code === 404) return new DispatchError('KUBE_NOT_FOUND', `${what}: ${msg}`, undefined, { cause: e });
  if (code === 401 || code === 403) return new DispatchError('KUBE_FORBIDDEN', `${what}: the API server refused the credentials (${code}): ${msg}`, undefined, { cause: e });
  if (code === 400) return new DispatchError('INVALID_SPEC', `${what}: ${msg}`, undefined, { cause: e });
  return new DispatchError('KUBE_UNAVAILABLE', `${what}: ${code ? `HTTP ${code}: ` : ''}${msg}`, undefined, { cause: e });
}

const codeOf = (e: unknown) => statusOf(e).code;

async function orNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (e) {
    if (codeOf(e) === 404) return null;
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Shared plumbing
// ---------------------------------------------------------------------------------------------

interface Ctx {
  batch: BatchV1Api;
  core: CoreV1Api;
  apps: AppsV1Api;
  log: Log;
  ns: string;
  pollMs: number;
  maxErrors: number;
  crashLoopRestarts: number;
  /** Aborted by KubernetesExecutor.close(): every follower stops. */
  closed: AbortSignal;
}

interface Target {
  jobId: string;
  kind: JobKind;
  name: string;
  podSelector: string;
  /** Selector for the pod whose log and exit status stand for the job (rank 0 of multi-machine jobs). */
  logSelector: string;
}

const mainStatus = (p: V1Pod): V1ContainerStatus | undefined => p.status?.containerStatuses?.find((c) => c.name === CONTAINER_NAME);
/** The Job's Complete or Failed condition, once it has one. */
const finishedCondition = (job: V1Job) => job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
const podTerminal = (p: V1Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

/** Why a pod is not running yet, in the scheduler's and kubelet's words. */
function pendingReason(pods: V1Pod[]): string | undefined {
  for (const p of pods) {
    const unsched = p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    if (unsched) return `${unsched.reason ?? 'Unschedulable'}: ${unsched.message ?? ''}`.trim();
    const waiting = mainStatus(p)?.state?.waiting;
    if (waiting?.reason && waiting.reason !== 'ContainerCreating') return `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
  }
  return undefined;
}

/** RFC3339(Nano) timestamp → sortable key with 9 fractional digits (Kubernetes trims trailing zeros). */
function tsKey(ts: string): string | null {
  const m = ts.match(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}` : null;
}

const anySignal = (a: AbortSignal | undefined, b: AbortSignal): AbortSignal => (a ? AbortSignal.any([a, b]) : b);

function detached(what: string): DispatchError {
  return new DispatchError('DETACHED', `stopped following ${what}: the executor was closed (the work goes on on the cluster; attach() to follow it again)`);
}

/** Pollable wait that ends early on abort. */
async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : undefined);
  } catch {
    // aborted
  }
}

/**
 * Follows one pod's container log through the Log API (follow, timestamps). When the stream ends
 * early — an API server restart, a kubelet log rotation — it reconnects with sinceTime and drops
 * the lines it already yielded; when the pod is replaced (a serve pod restarted by its Deployment)
 * it moves to the new one. Ends when `done()` says the job is over and the last pod's log is read.
 */
async function* followLogs(ctx: Ctx, t: Target, done: () => Promise<boolean>, signal?: AbortSignal): AsyncGenerator<LogLine> {
  let pod: string | null = null;
  let lastKey = '';
  let seenAtLast = new Set<string>();
  /** Pods whose log has been read to the end after they terminated. */
  const finished = new Set<string>();
  let errors = 0;
  let over = false;
  while (!signal?.aborted) {
    let current: V1Pod | undefined;
    try {
      const pods = (await ctx.core.listNamespacedPod({ namespace: ctx.ns, labelSelector: t.logSelector })).items.filter(
        (p) => !finished.has(p.metadata?.name ?? '') && p.status?.phase !== 'Pending',
      );
      const created = (p: V1Pod) => (p.metadata?.creationTimestamp ? new Date(p.metadata.creationTimestamp).getTime() : 0);
      // The pod we were following, else the newest one that has started.
      current = pods.find((p) => p.metadata?.name === pod) ?? pods.sort((a, b) => created(b) - created(a))[0];
      errors = 0;
    } catch (e) {
      if (++errors >= ctx.maxErrors) throw kubeError(e, `listing pods of ${t.name}`);
      await pause(ctx.pollMs, signal);
      continue;
    }
    if (!current) {
      // The job may have ended between the listing and this check (a pod that started, wrote and
      // failed in one poll): list once more after seeing it over, so its log is still read.
      if (over) return;
      over = await done();
      if (!over) await pause(ctx.pollMs, signal);
      continue;
    }
    const name = current.metadata!.name!;
    if (name !== pod) {
      pod = name;
      lastKey = '';
      seenAtLast = new Set();
    }
    const terminal = podTerminal(current);
    const stream = new PassThrough();
    let controller: AbortController | undefined;
    try {
      controller = await ctx.log.log(ctx.ns, name, CONTAINER_NAME, stream, {
        follow: !terminal,
        timestamps: true,
        ...(lastKey ? { sinceTime: `${lastKey.slice(0, 19)}Z` } : {}),
      });
    } catch (e) {
      // 400: not started yet; 404: gone; others: transient. Look again.
      if (codeOf(e) === 404) finished.add(name);
      else if (codeOf(e) !== 400 && ++errors >= ctx.maxErrors) throw kubeError(e, `reading the log of pod ${name}`);
      await pause(ctx.pollMs, signal);
      continue;
    }
    const onAbort = () => {
      controller?.abort();
      stream.end();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    // A stream whose connection breaks without ending (node-fetch does not end the destination on
    // error) would hang: once the pod is over, stop waiting for more.
    let strikes = 0;
    const watchdog = setInterval(() => {
      void ctx.core
        .readNamespacedPod({ name, namespace: ctx.ns })
        .then((p) => podTerminal(p), (e: unknown) => codeOf(e) === 404)
        .then((over) => {
          if (over && ++strikes >= 3) {
            controller?.abort();
            stream.end();
          }
        });
    }, ctx.pollMs);
    const splitter = new LineSplitter();
    try {
      for await (const chunk of stream) {
        for (const raw of splitter.push(chunk as Buffer)) {
          const sp = raw.indexOf(' ');
          const key = sp > 0 ? tsKey(raw.slice(0, sp)) : null;
          const text = key ? raw.slice(sp + 1) : raw;
          if (key) {
            if (key < lastKey || (key === lastKey && seenAtLast.has(text))) continue;
            if (key > lastKey) {
              lastKey = key;
              seenAtLast = new Set();
            }
            seenAtLast.add(text);
          }
          yield { stream: 'container', text };
        }
      }
    } finally {
      clearInterval(watchdog);
      signal?.removeEventListener('abort', onAbort);
      controller?.abort();
    }
    for (const text of splitter.end()) yield { stream: 'container', text };
    // A terminated pod's log was read whole (no follow). A followed stream that ended while the pod
    // ran was cut short (API server restart, log rotation): look again, from where it stopped.
    if (terminal) finished.add(name);
  }
}

/** Sleeps between polls; throws DETACHED once the executor is closed. */
async function tick(ctx: Ctx, what: string): Promise<void> {
  await pause(ctx.pollMs, ctx.closed);
  if (ctx.closed.aborted) throw detached(what);
}

async function createOrAttach<T extends { metadata?: { annotations?: Record<string, string> } }>(
  jobId: string,
  what: string,
  create: () => Promise<T>,
  read: () => Promise<T>,
): Promise<{ obj: T; created: boolean }> {
  try {
    return { obj: await create(), created: true };
  } catch (e) {
    if (codeOf(e) !== 409) throw kubeError(e, `creating ${what}`);
  }
  const existing = await read().catch((e: unknown) => {
    throw kubeError(e, `reading ${what}`);
  });
  const owner = existing.metadata?.annotations?.[ANNOTATION_JOB_ID];
  if (owner !== jobId) {
    throw new DispatchError('KUBE_CONFLICT', `${what} already exists and belongs to ${owner ? `ctxlab job "${owner}"` : 'something other than ctxlab'}, not job "${jobId}"`);
  }
  return { obj: existing, created: false };
}

/** Sets a serve job's Deployment to `replicas` pods. */
async function scaleDeployment(ctx: Ctx, name: string, replicas: number): Promise<void> {
  await ctx.apps.patchNamespacedDeploymentScale({ name, namespace: ctx.ns, body: { spec: { replicas } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
}

/** Creates a dependent object; one that already exists (a retried start) is kept. */
async function ensure(what: string, create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (e) {
    if (codeOf(e) !== 409) throw kubeError(e, `creating ${what}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Following a job's objects
// ---------------------------------------------------------------------------------------------

/**
 * Reads an object every tick and asks `decide` what it means until that gives an answer. An API
 * server that is unavailable (KUBE_UNAVAILABLE) is waited out until maxErrors failures come in a
 * row — each successful read starts the count over; any other error is thrown, as `doing` says.
 * With `loop.more`, it is asked before each read and the loop gives up (undefined) once it says no;
 * `loop.after` runs after each round that gave no answer, before the tick.
 */
function followKube<O, T>(ctx: Ctx, t: Target, doing: string, read: () => Promise<O>, decide: (o: O) => Promise<T | undefined>): Promise<T>;
function followKube<O, T>(
  ctx: Ctx,
  t: Target,
  doing: string,
  read: () => Promise<O>,
  decide: (o: O) => Promise<T | undefined>,
  loop: { more: () => boolean; after: () => void },
): Promise<T | undefined>;
async function followKube<O, T>(
  ctx: Ctx,
  t: Target,
  doing: string,
  read: () => Promise<O>,
  decide: (o: O) => Promise<T | undefined>,
  loop?: { more: () => boolean; after: () => void },
): Promise<T | undefined> {
  let errors = 0;
  while (loop?.more() ?? true) {
    try {
      const o = await read();
      errors = 0;
      const answer = await decide(o);
      if (answer !== undefined) return answer;
    } catch (e) {
      const err = kubeError(e, doing);
      if (err.code !== 'KUBE_UNAVAILABLE' || ++errors >= ctx.maxErrors) throw err;
    }
    loop?.after();
    await tick(ctx, t.name);
  }
  return undefined;
}

/**
 * What the handles of both kinds share: following the job from construction (subclasses call
 * begin() once their own fields are set), waiting for its result, and stopping it — `halting`
 * holds the reason once a cancel has begun.
 */
abstract class KubeHandle {
  readonly jobId: string;
  protected halting: string | null = null;
  protected settled: JobResult | null = null;
  private result!: Promise<JobResult>;

  constructor(
    protected readonly ctx: Ctx,
    protected readonly t: Target,
  ) {
    this.jobId = t.jobId;
  }

  protected abstract follow(): Promise<JobResult>;

  protected begin(): void {
    this.result = this.follow().then((r) => (this.settled = r));
    this.result.catch(() => undefined); // surfaced through wait()
  }

  wait(): Promise<JobResult> {
    return this.result;
  }

  /** Cancels with `stop` (an object already gone counts as stopped), then waits for the follower to see the end. */
  protected async halt(reason: string, doing: string, stop: () => Promise<unknown>): Promise<void> {
    if (this.settled) return;
    this.halting = reason;
    try {
      await stop();
    } catch (e) {
      if (codeOf(e) !== 404) throw kubeError(e, doing);
    }
    await this.result;
  }

  /** The job's object read for status(): null once it is gone; an API failure is thrown, as `doing` says. */
  protected readForStatus<O>(doing: string, read: () => Promise<O | null>): Promise<O | null> {
    return read().catch((e: unknown) => {
      throw kubeError(e, doing);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Batch jobs: a batch/v1 Job
// ---------------------------------------------------------------------------------------------

class KubeBatchHandle extends KubeHandle implements JobHandle {
  readonly kind: JobKind;

  constructor(ctx: Ctx, t: Target) {
    super(ctx, t);
    this.kind = t.kind;
    this.begin();
  }

  private readJob(): Promise<V1Job | null> {
    return orNull(this.ctx.batch.readNamespacedJob({ name: this.t.name, namespace: this.ctx.ns }));
  }

  /** The pod whose exit stands for the job: a failed one if any failed, else rank 0 / the only pod. */
  private async deciding(): Promise<V1Pod | undefined> {
    const pods = (await this.ctx.core.listNamespacedPod({ namespace: this.ctx.ns, labelSelector: this.t.podSelector })).items;
    const failed = pods.find((p) => p.status?.phase === 'Failed' && mainStatus(p)?.state?.terminated);
    if (failed) return failed;
    const rank0 = pods.filter((p) => [undefined, '0'].includes(p.metadata?.labels?.[COMPLETION_INDEX_LABEL]));
    return rank0.find((p) => mainStatus(p)?.state?.terminated) ?? rank0[0];
  }

  private async outcome(job: V1Job): Promise<JobResult | null> {
    const cond = finishedCondition(job);
    if (!cond) return null;
    const term = mainStatus((await this.deciding()) ?? {})?.state?.terminated;
    const exitCode = term?.exitCode ?? (cond.type === 'Complete' ? 0 : null);
    if (cond.type === 'Complete') return { exitCode, reason: 'succeeded' };
    const pod = term ? ` (container ${term.reason ?? 'terminated'}, exit ${term.exitCode}${term.message ? `: ${term.message}` : ''})` : '';
    const message = `${cond.reason ?? 'Failed'}: ${cond.message ?? ''}${pod}`.trim();
    return { exitCode, reason: cond.reason === 'DeadlineExceeded' ? 'timeout' : 'failed', message };
  }

  protected follow(): Promise<JobResult> {
    return followKube(this.ctx, this.t, `following Job ${this.t.name}`, () => this.readJob(), async (job): Promise<JobResult | undefined> => {
      if (!job) {
        if (this.halting !== null) return { exitCode: null, reason: 'cancelled', message: this.halting };
        return { exitCode: null, reason: 'failed', message: `Job ${this.t.name} was deleted outside ctxlab` };
      }
      // While a cancel is in progress the Job stays, marked for deletion, until its pods are gone.
      if (!job.metadata?.deletionTimestamp) return (await this.outcome(job)) ?? undefined;
      return undefined;
    });
  }

  logs(options: { signal?: AbortSignal } = {}): AsyncIterable<LogLine> {
    return followLogs(this.ctx, this.t, async () => this.settled !== null || (await this.isOver()), anySignal(options.signal, this.ctx.closed));
  }

  private async isOver(): Promise<boolean> {
    const job = await this.readJob().catch(() => undefined);
    if (job === undefined) return false;
    if (job === null) return true;
    return finishedCondition(job) !== undefined;
  }

  /** Deletes the Job with propagationPolicy Foreground: it disappears only after its pods have. */
  cancel(reason = 'cancelled'): Promise<void> {
    return this.halt(reason, `deleting Job ${this.t.name}`, () =>
      this.ctx.batch.deleteNamespacedJob({ name: this.t.name, namespace: this.ctx.ns, propagationPolicy: 'Foreground' }),
    );
  }

  async status(): Promise<JobStatus> {
    if (this.settled) return finalStatus(this.settled);
    const job = await this.readForStatus(`reading Job ${this.t.name}`, () => this.readJob());
    if (!job) return { phase: this.halting !== null ? 'cancelled' : 'failed', message: this.halting ?? `Job ${this.t.name} no longer exists` };
    if (job.metadata?.deletionTimestamp) return { phase: 'cancelled', message: 'deleting' };
    const r = await this.outcome(job);
    if (r) return finalStatus(r);
    const pods = (await this.ctx.core.listNamespacedPod({ namespace: this.ctx.ns, labelSelector: this.t.podSelector })).items;
    if (pods.some((p) => p.status?.phase === 'Running')) return { phase: 'running' };
    const why = pendingReason(pods);
    return { phase: 'pending', ...(why ? { message: why } : {}) };
  }

  ready(): Promise<{ url: string }> {
    return Promise.reject(new DispatchError('UNSUPPORTED', `job ${this.jobId} is a ${this.kind} job; only serve jobs have a health check`));
  }
}

function finalStatus(r: JobResult): JobStatus {
  const phase = r.reason === 'succeeded' ? 'succeeded' : r.reason === 'stopped' ? 'stopped' : r.reason === 'cancelled' ? 'cancelled' : 'failed';
  return { phase, exitCode: r.exitCode, ...(r.message ? { message: r.message } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Serve jobs: a Deployment + Service
// ---------------------------------------------------------------------------------------------

class KubeServeHandle extends KubeHandle implements JobHandle {
  readonly kind: JobKind = 'serve';

  constructor(
    ctx: Ctx,
    t: Target,
    private readonly port: number,
  ) {
    super(ctx, t);
    this.begin();
  }

  private readDeployment(): Promise<V1Deployment | null> {
    return orNull(this.ctx.apps.readNamespacedDeployment({ name: this.t.name, namespace: this.ctx.ns }));
  }

  private pods(): Promise<V1Pod[]> {
    return this.ctx.core.listNamespacedPod({ namespace: this.ctx.ns, labelSelector: this.t.podSelector }).then((l) => l.items);
  }

  protected follow(): Promise<JobResult> {
    return followKube(this.ctx, this.t, `following Deployment ${this.t.name}`, () => this.readDeployment(), async (d): Promise<JobResult | undefined> => {
      if (!d) return this.halting !== null ? { exitCode: null, reason: 'stopped', message: this.halting } : { exitCode: null, reason: 'failed', message: `Deployment ${this.t.name} was deleted outside ctxlab` };
      const pods = await this.pods();
      if (this.halting !== null) {
        if ((d.spec?.replicas ?? 1) === 0 && pods.length === 0) return { exitCode: null, reason: 'stopped', message: this.halting };
        return undefined;
      }
      const crashing = pods.map(mainStatus).find((s) => s?.state?.waiting?.reason === 'CrashLoopBackOff' && (s.restartCount ?? 0) >= this.ctx.crashLoopRestarts);
      if (!crashing) return undefined;
      const last = crashing.lastState?.terminated;
      this.halting = 'crash loop';
      await scaleDeployment(this.ctx, this.t.name, 0);
      return {
        exitCode: last?.exitCode ?? null,
        reason: 'failed',
        message: `CrashLoopBackOff after ${crashing.restartCount} restarts${last ? ` (last exit ${last.exitCode}${last.reason ? ` ${last.reason}` : ''})` : ''}${crashing.state?.waiting?.message ? `: ${crashing.state.waiting.message}` : ''}; scaled to zero`,
      };
    });
  }

  logs(options: { signal?: AbortSignal } = {}): AsyncIterable<LogLine> {
    return followLogs(
      this.ctx,
      this.t,
      async () => {
        if (this.settled) return true;
        const d = await this.readDeployment().catch(() => undefined);
        return d === null || (d !== undefined && (d.spec?.replicas ?? 1) === 0 && (d.status?.replicas ?? 0) === 0);
      },
      anySignal(options.signal, this.ctx.closed),
    );
  }

  /** Stops serving: scales the Deployment to zero (the Deployment and Service stay, ready to scale back). */
  cancel(reason = 'stopped'): Promise<void> {
    return this.halt(reason, `scaling Deployment ${this.t.name} to zero`, () => scaleDeployment(this.ctx, this.t.name, 0));
  }

  async status(): Promise<JobStatus> {
    if (this.settled) return finalStatus(this.settled);
    const d = await this.readForStatus(`reading Deployment ${this.t.name}`, () => this.readDeployment());
    if (!d) return { phase: this.halting !== null ? 'stopped' : 'failed', message: `Deployment ${this.t.name} no longer exists` };
    if (this.halting !== null) return { phase: 'running', message: 'stopping' };
    if ((d.status?.readyReplicas ?? 0) >= 1) return { phase: 'ready' };
    const pods = await this.pods();
    const why = pendingReason(pods);
    return { phase: pods.some((p) => p.status?.phase === 'Running') ? 'running' : 'pending', ...(why ? { message: why } : {}) };
  }

  /** Resolves once a pod passes its readiness probe (GET /health answers 200) — the URL is the Service's. */
  async ready(options: { timeoutMs?: number } = {}): Promise<{ url: string }> {
    const timeoutMs = options.timeoutMs ?? 60 * 60_000;
    const deadline = Date.now() + timeoutMs;
    const url = `http://${this.t.name}.${this.ctx.ns}.svc:${this.port}`;
    const isReady = async (d: V1Deployment | null) => (d && (d.status?.readyReplicas ?? 0) >= 1 && this.halting === null ? { url } : undefined);
    const ready = await followKube(this.ctx, this.t, `reading Deployment ${this.t.name}`, () => this.readDeployment(), isReady, {
      more: () => !this.settled,
      after: () => {
        if (Date.now() >= deadline) throw new DispatchError('NOT_READY', `serve job ${this.jobId}: no pod passed its /health readiness probe within ${timeoutMs} ms`);
      },
    });
    if (ready) return ready;
    const r = this.settled as JobResult;
    throw new DispatchError('NOT_READY', `serve job ${this.jobId} ended (${r.reason}${r.message ? `: ${r.message}` : ''}) before it was ready`);
  }
}

// ---------------------------------------------------------------------------------------------
// The executor
// ---------------------------------------------------------------------------------------------

/**
 * Runs jobs on Kubernetes through @kubernetes/client-node: batch jobs as batch/v1 Jobs, serve jobs
 * as a Deployment + Service. Job ids are idempotency keys: starting an id whose objects exist
 * attaches to them (409 AlreadyExists → read, check the ctxlab.dev/job-id annotation, follow).
 * Status is polled; logs stream from the Log API.
 */
export class KubernetesExecutor implements Executor {
  readonly name = 'kubernetes' as const;
  private readonly ctx: Ctx;
  private readonly closing = new AbortController();

  constructor(private readonly options: KubernetesExecutorOptions) {
    const kc = options.kubeConfig;
    this.ctx = {
      batch: kc.makeApiClient(BatchV1Api),
      core: kc.makeApiClient(CoreV1Api),
      apps: kc.makeApiClient(AppsV1Api),
      log: new Log(kc),
      ns: options.namespace,
      pollMs: options.pollIntervalMs ?? 2000,
      maxErrors: options.maxConsecutiveErrors ?? 5,
      crashLoopRestarts: options.crashLoopRestarts ?? 3,
      closed: this.closing.signal,
    };
  }

  /**
   * Stops following: pending wait()/ready() calls reject with DETACHED and log iterators end. The
   * jobs themselves go on running on the cluster (a worker restart must not cancel training).
   */
  close(): void {
    this.closing.abort();
  }

  private target(jobId: string, kind: JobKind, multi: boolean): Target {
    const name = kubeName(jobId);
    const podSelector = `${LABEL_JOB_ID}=${jobIdLabel(jobId)}`;
    return { jobId, kind, name, podSelector, logSelector: multi ? `${podSelector},${COMPLETION_INDEX_LABEL}=0` : podSelector };
  }

  /**
   * Creates a job's main object (a Job or a Deployment) or attaches to it (createOrAttach), then
   * what it owns — the ConfigMap of its files and its Service, which Kubernetes' garbage collector
   * removes with it. Without them its pods would wait forever: a main object this call created is
   * taken back when they cannot be created.
   */
  private async createWithOwned<T extends { metadata?: V1ObjectMeta }>(
    jobId: string,
    objs: KubeObjects,
    main: { apiVersion: string; kind: string; create: () => Promise<T>; read: () => Promise<T>; remove: () => Promise<unknown> },
    service: V1Service | undefined,
  ): Promise<{ obj: T; created: boolean }> {
    const ns = this.ctx.ns;
    const made = await createOrAttach(jobId, `${main.kind} ${objs.name}`, main.create, main.read);
    const owner = { apiVersion: main.apiVersion, kind: main.kind, metadata: made.obj.metadata };
    try {
      if (objs.configMap) await ensure(`ConfigMap ${objs.configMap.metadata?.name}`, () => this.ctx.core.createNamespacedConfigMap({ namespace: ns, body: ownedBy(objs.configMap!, owner) }));
      if (service) await ensure(`Service ${objs.name}`, () => this.ctx.core.createNamespacedService({ namespace: ns, body: ownedBy(service, owner) }));
    } catch (e) {
      if (made.created) await main.remove().catch(() => undefined);
      throw e;
    }
    return made;
  }

  async start(jobId: string, job: RenderedJob, options: StartOptions = {}): Promise<JobHandle> {
    checkJobId(jobId);
    const ns = this.ctx.ns;
    const objs = renderKubeObjects(jobId, job, this.options, options.timeoutMs !== undefined ? { activeDeadlineSeconds: Math.max(1, Math.ceil(options.timeoutMs / 1000)) } : {});
    const { apps, batch } = this.ctx;
    // The main object (a Deployment for serving, a Job otherwise) by name; deleting it takes its dependents along.
    const at = { name: objs.name, namespace: ns };

    if (objs.deployment && objs.service) {
      const deploymentApi = {
        apiVersion: 'apps/v1', kind: 'Deployment',
        create: () => apps.createNamespacedDeployment({ namespace: ns, body: objs.deployment! }),
        read: () => apps.readNamespacedDeployment(at),
        remove: () => apps.deleteNamespacedDeployment({ ...at, propagationPolicy: 'Foreground' }),
      };
      const { obj: deployment, created } = await this.createWithOwned(jobId, objs, deploymentApi, objs.service);
      const handle = new KubeServeHandle(this.ctx, this.target(jobId, 'serve', false), job.service!.port);
      // Starting a serve job that was stopped (scaled to zero) serves it again.
      if (!created && (deployment.spec?.replicas ?? 1) === 0) {
        await scaleDeployment(this.ctx, objs.name, 1).catch((e: unknown) => {
          throw kubeError(e, `scaling Deployment ${objs.name} back to one`);
        });
      }
      return handle;
    }

    const jobApi = {
      apiVersion: 'batch/v1', kind: 'Job',
      create: () => batch.createNamespacedJob({ namespace: ns, body: objs.job! }),
      read: () => batch.readNamespacedJob(at),
      remove: () => batch.deleteNamespacedJob({ ...at, propagationPolicy: 'Foreground' }),
    };
    await this.createWithOwned(jobId, objs, jobApi, objs.headlessService);
    return new KubeBatchHandle(this.ctx, this.target(jobId, job.kind, job.resources.nodes > 1));
  }

  /** Finds a job's objects on the cluster (after a worker restart) and follows them; null when there are none. */
  async attach(jobId: string): Promise<JobHandle | null> {
    checkJobId(jobId);
    const name = kubeName(jobId);
    const mine = (o: { metadata?: { annotations?: Record<string, string> } } | null) => o && o.metadata?.annotations?.[ANNOTATION_JOB_ID] === jobId;
    try {
      const job = await orNull(this.ctx.batch.readNamespacedJob({ name, namespace: this.ctx.ns }));
      if (mine(job)) {
        const kind = (job!.metadata?.labels?.[LABEL_KIND] ?? 'train') as JobKind;
        return new KubeBatchHandle(this.ctx, this.target(jobId, kind, (job!.spec?.completions ?? 1) > 1));
      }
      const d = await orNull(this.ctx.apps.readNamespacedDeployment({ name, namespace: this.ctx.ns }));
      if (mine(d)) {
        const port = d!.spec?.template.spec?.containers[0]?.ports?.[0]?.containerPort ?? 8000;
        return new KubeServeHandle(this.ctx, this.target(jobId, 'serve', false), port);
      }
      return null;
    } catch (e) {
      throw kubeError(e, `looking for job ${jobId}`);
    }
  }

  /**
   * The cluster's GPU pools, grouped by the GPU-type node label (see poolCapacity): lists the
   * labelled nodes and the pods of every namespace that have not ended, so the worker's service
   * account needs a ClusterRole that may list nodes and pods. ctxlab's own job pods — the ones with
   * the job-id label in this executor's namespace — are left out of foreignUsed; those of another
   * ctxlab installation sharing the nodes are foreign here.
   */
  async capacity(): Promise<PoolCapacity[]> {
    const timeoutMs = this.options.capacityTimeoutMs ?? 30_000;
    const signal = AbortSignal.timeout(timeoutMs);
    // The generated client takes per-call middleware; this one is the only way to give its fetch a signal.
    const abortable: ObservableMiddleware = {
      pre: (request) => {
        request.setSignal(signal);
        return new Observable(Promise.resolve(request));
      },
      post: (response) => new Observable(Promise.resolve(response)),
    };
    const withTimeout = { middleware: [abortable], middlewareMergeStrategy: 'append' as const };
    const call = async <T>(doing: string, request: () => Promise<T>): Promise<T> => {
      try {
        return await request();
      } catch (e) {
        if (signal.aborted) throw new DispatchError('KUBE_UNAVAILABLE', `${doing}: the API server did not answer within ${timeoutMs} ms`, undefined, { cause: e });
        throw kubeError(e, doing);
      }
    };
    const gpuTypeLabel = this.options.gpuTypeLabel ?? 'ctxlab.dev/gpu-type';
    const gpuResource = this.options.gpuResource ?? 'nvidia.com/gpu';
    const nodes = await call('listing nodes for GPU capacity', () => this.ctx.core.listNode({ labelSelector: gpuTypeLabel }, withTimeout));
    const pods: V1Pod[] = [];
    if (nodes.items.length > 0) {
      let next: string | undefined;
      do {
        const page = await call('listing pods for GPU capacity', () =>
          this.ctx.core.listPodForAllNamespaces({ fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed', limit: 500, ...(next ? { _continue: next } : {}) }, withTimeout),
        );
        pods.push(...page.items);
        next = page.metadata?._continue || undefined;
      } while (next);
    }
    return poolCapacity(nodes.items, pods, {
      gpuTypeLabel,
      gpuResource,
      tolerations: gpuTolerations(gpuResource),
      isOwnJob: (p) => p.metadata?.namespace === this.ctx.ns && p.metadata?.labels?.[LABEL_JOB_ID] !== undefined,
    });
  }

  /** Deletes everything a job created (Job, or Deployment + Service; ConfigMaps go with their owner). */
  async remove(jobId: string): Promise<void> {
    checkJobId(jobId);
    const name = kubeName(jobId);
    const ns = this.ctx.ns;
    const ignore404 = (what: string) => (e: unknown) => {
      if (codeOf(e) !== 404) throw kubeError(e, `deleting ${what}`);
    };
    await this.ctx.batch.deleteNamespacedJob({ name, namespace: ns, propagationPolicy: 'Foreground' }).catch(ignore404(`Job ${name}`));
    await this.ctx.apps.deleteNamespacedDeployment({ name, namespace: ns, propagationPolicy: 'Foreground' }).catch(ignore404(`Deployment ${name}`));
    await this.ctx.core.deleteNamespacedService({ name, namespace: ns }).catch(ignore404(`Service ${name}`));
  }
}
