import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DispatchError } from '../errors';
import { checkLocalWrites, checkRenderedJob, isInside, jobFilePath } from '../policy/job';
import type { RenderedJob } from '../render/types';
import type { JobKind } from '../specs';
import { LineSplitter, LogBuffer } from './lines';
import type { Executor, JobHandle, JobPhase, JobResult, JobStatus, LogLine, PoolCapacity, StartOptions } from './types';

export interface LocalExecutorOptions {
  /** Each job runs in <workRoot>/<jobId>, where its rendered files are written. */
  workRoot: string;
  /**
   * Environment the job's own env is laid over: only the names in BASE_ENV (PATH, HOME, locale, time
   * zone), so the worker's own settings and secrets (DATABASE_URL, REDIS_URL, CTXLAB_SECRET_KEY) never
   * reach a job. Nothing in this library reads process.env.
   */
  baseEnv: Record<string, string | undefined>;
  /** Time from SIGTERM to SIGKILL when a process group is stopped. Default 10 s. */
  killGraceMs?: number;
  /** Log lines kept in memory per job. Default 100,000. */
  maxLogLines?: number;
  /** Host serve jobs' health checks go to. Default 127.0.0.1. */
  healthHost?: string;
  /**
   * GPUs on this machine by type (e.g. `{ 'a100-80gb': 2 }`), as capacity() reports them. Jobs are
   * not bound to them — a local job sees every GPU of the machine — so the counts only tell a
   * scheduler how much work to start here at once. Default: none.
   */
  gpus?: Record<string, number>;
}

const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** What a local job inherits from its worker: where programs are, a home, the locale and time zone. */
export const BASE_ENV: readonly string[] = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ'];

/** A GPU type name: what a scheduler matches jobs' GPU types against; "=", "," and spaces would break the inventory format. */
const GPU_TYPE_NAME = /^[^\s=,]+$/;

function checkGpuEntry(gpuType: string, count: unknown, entry: string): void {
  if (!GPU_TYPE_NAME.test(gpuType)) {
    throw new DispatchError('INVALID_SPEC', `GPU inventory entry ${entry}: the GPU type must be a non-empty name without spaces, "=" or ","`, 'gpus');
  }
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
    throw new DispatchError('INVALID_SPEC', `GPU inventory entry ${entry}: the count must be a whole number, 0 or more`, 'gpus');
  }
}

/**
 * Reads a worker's GPU inventory, written `type=count[,type=count…]` (e.g. "a100-80gb=2,l40s-48gb=1"),
 * into LocalExecutorOptions.gpus. Spaces around entries, names and counts are allowed, and so is an
 * empty entry (a trailing comma); a blank text is no GPUs.
 */
export function parseGpuInventory(text: string): Record<string, number> {
  const gpus = new Map<string, number>();
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const eq = entry.indexOf('=');
    if (eq < 0) throw new DispatchError('INVALID_SPEC', `GPU inventory entry "${entry}" is not type=count (e.g. "a100-80gb=2")`, 'gpus');
    const gpuType = entry.slice(0, eq).trim();
    const countText = entry.slice(eq + 1).trim();
    checkGpuEntry(gpuType, /^\d+$/.test(countText) ? Number(countText) : NaN, `"${entry}"`);
    if (gpus.has(gpuType)) throw new DispatchError('INVALID_SPEC', `GPU inventory entry "${entry}": GPU type "${gpuType}" is listed twice`, 'gpus');
    gpus.set(gpuType, Number(countText));
  }
  return Object.fromEntries(gpus);
}

/** Validates a job id as a directory name / label ingredient. */
export function checkJobId(jobId: string): void {
  if (!JOB_ID.test(jobId)) {
    throw new DispatchError('INVALID_SPEC', `job id "${jobId}" must be 1–128 letters, digits, ".", "_" or "-", starting with a letter or digit`, 'jobId');
  }
}

/**
 * Writes a rendered file into the job directory. A symlink left there (by an earlier run of the job,
 * or in a subdirectory) is not followed: the file is replaced, and its directory must really be
 * inside the job directory.
 */
async function writeJobFile(workDir: string, rel: string, content: string): Promise<void> {
  const path = join(workDir, jobFilePath(rel));
  await mkdir(dirname(path), { recursive: true });
  if (!(await isInside(workDir, dirname(path)))) {
    throw new DispatchError('OUTSIDE_ROOT', `rendered file "${rel}" would be written outside the job directory (through a symlink)`, 'files');
  }
  await rm(path, { force: true });
  await writeFile(path, content, { flag: 'wx' });
}

/**
 * Whether any live (non-zombie) process is in process group `pgid`. Linux: from /proc, because a
 * killed grandchild re-parented to a PID 1 that does not reap stays a zombie, which kill(-pgid, 0)
 * still counts. Elsewhere: kill(-pgid, 0).
 */
export async function processGroupAlive(pgid: number): Promise<boolean> {
  if (existsSync('/proc/self/stat')) {
    let entries: string[];
    try {
      entries = await readdir('/proc');
    } catch {
      entries = [];
    }
    for (const e of entries) {
      if (!/^\d+$/.test(e)) continue;
      let stat: string;
      try {
        stat = await readFile(`/proc/${e}/stat`, 'utf8');
      } catch {
        continue; // exited while we looked
      }
      // pid (comm) state ppid pgrp …; comm may contain spaces and parentheses, so parse after the last ")".
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
    }
    return false;
  }
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGTERM to the group, SIGKILL after the grace period, until no live process is left in it.
 * False when nothing in the group was alive.
 */
async function stopGroup(pgid: number, graceMs: number): Promise<boolean> {
  if (!(await processGroupAlive(pgid))) return false;
  killGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (await processGroupAlive(pgid)) {
    if (Date.now() >= deadline) {
      killGroup(pgid, 'SIGKILL');
      // SIGKILL cannot be ignored; give the kernel a moment, then stop looking.
      for (let i = 0; i < 50 && (await processGroupAlive(pgid)); i++) await sleep(20);
      return true;
    }
    await sleep(50);
  }
  return true;
}

/** A process's start time (clock ticks since boot, /proc/PID/stat field 22): with the pid, it names one process, whatever pids are reused later. */
async function processStartTime(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Where a job directory records the process group its run started, so a later run can find it. */
const GROUP_FILE = '.ctxlab-group.json';

/**
 * A worker killed outright (SIGKILL, a crash) leaves its jobs' process groups running: a trainer
 * would go on writing the output the job's next run writes too. Before a job starts again, the
 * group its last run recorded is stopped — if its leader is still the same process (pid and start
 * time both match, so a reused pid is never touched). Returns what it did, for the job's log.
 */
async function stopLeftoverGroup(workDir: string, graceMs: number): Promise<string | null> {
  let recorded: { pgid?: unknown; start?: unknown };
  try {
    recorded = JSON.parse(await readFile(join(workDir, GROUP_FILE), 'utf8')) as typeof recorded;
  } catch {
    return null;
  }
  const pgid = Number(recorded.pgid);
  if (!Number.isInteger(pgid) || pgid <= 1 || typeof recorded.start !== 'string') return null;
  if ((await processStartTime(pgid)) !== recorded.start || !(await stopGroup(pgid, graceMs))) return null;
  return `[ctxlab] stopped process group ${pgid}, left running by an earlier run of this job (its worker stopped without ending it)`;
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

class LocalJobHandle implements JobHandle {
  readonly kind: JobKind;
  private phase: JobPhase = 'running';
  private readonly buffer: LogBuffer;
  private readonly result: Promise<JobResult>;
  private stopRequested: { reason: 'cancelled' | 'timeout' | 'stopped'; message: string } | null = null;
  private terminating: Promise<void> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  constructor(
    readonly jobId: string,
    private readonly job: RenderedJob,
    private readonly child: ChildProcess & { pid: number },
    private readonly opts: Required<Pick<LocalExecutorOptions, 'killGraceMs' | 'maxLogLines' | 'healthHost'>>,
    start: StartOptions,
  ) {
    this.kind = job.kind;
    this.buffer = new LogBuffer(opts.maxLogLines);
    const streamsClosed = Promise.all([this.pipe('stdout'), this.pipe('stderr')]);
    const exited = new Promise<void>((resolveExit) =>
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolveExit();
      }),
    );
    if (start.timeoutMs !== undefined) {
      this.timer = setTimeout(() => void this.stop('timeout', `ran longer than ${start.timeoutMs} ms`), start.timeoutMs);
    }
    this.result = this.finish(exited, streamsClosed);
    child.on('error', (e) => this.buffer.push({ stream: 'stderr', text: `[ctxlab] ${e.message}` }));
  }

  private async finish(exited: Promise<void>, streamsClosed: Promise<unknown>): Promise<JobResult> {
    await exited;
    clearTimeout(this.timer);
    // Whatever the main process left behind in its group (dataloader workers, a server it forked)
    // would keep GPUs busy: the job ends when its whole group has.
    await this.terminateGroup();
    // Streams close once every holder of the pipes is gone; a process that escaped the group
    // (setsid) could hold them forever, so do not wait on it past the grace period.
    const giveUp = new AbortController();
    await Promise.race([streamsClosed, sleep(this.opts.killGraceMs + 2000, undefined, { signal: giveUp.signal }).catch(() => undefined)]);
    giveUp.abort();
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
    this.buffer.close();
    const r = this.outcome();
    this.phase = r.reason === 'succeeded' ? 'succeeded' : r.reason === 'stopped' ? 'stopped' : r.reason === 'failed' ? 'failed' : 'cancelled';
    return r;
  }

  private pipe(stream: 'stdout' | 'stderr'): Promise<void> {
    const src = this.child[stream];
    if (!src) return Promise.resolve();
    const splitter = new LineSplitter();
    src.on('data', (chunk: Buffer) => {
      for (const text of splitter.push(chunk)) this.buffer.push({ stream, text });
    });
    return new Promise((resolveClose) => {
      src.once('close', () => {
        for (const text of splitter.end()) this.buffer.push({ stream, text });
        resolveClose();
      });
    });
  }

  private outcome(): JobResult {
    const code = this.exit?.code ?? null;
    const signal = this.exit?.signal ?? null;
    if (this.stopRequested) return { exitCode: code, signal, reason: this.stopRequested.reason, message: this.stopRequested.message };
    if (code === 0) return { exitCode: 0, signal, reason: 'succeeded' };
    return { exitCode: code, signal, reason: 'failed', message: signal ? `killed by ${signal}` : `exited with status ${code}` };
  }

  /** Stops the job's whole process group (see stopGroup). */
  private terminateGroup(): Promise<void> {
    this.terminating ??= stopGroup(this.child.pid, this.opts.killGraceMs).then(() => undefined);
    return this.terminating;
  }

  private async stop(reason: 'cancelled' | 'timeout' | 'stopped', message: string): Promise<void> {
    if (this.exit || this.stopRequested) return;
    this.stopRequested = { reason, message };
    await this.terminateGroup();
  }

  /** A line of the executor's own in the job's log. */
  note(text: string): void {
    this.buffer.push({ stream: 'stderr', text });
  }

  logs(options: { signal?: AbortSignal } = {}): AsyncIterable<LogLine> {
    return this.buffer.follow(options.signal);
  }

  wait(): Promise<JobResult> {
    return this.result;
  }

  async cancel(reason = 'cancelled'): Promise<void> {
    await this.stop(this.kind === 'serve' ? 'stopped' : 'cancelled', reason);
    await this.result;
  }

  async status(): Promise<JobStatus> {
    if (this.exit) {
      const r = await this.result;
      return { phase: this.phase, exitCode: r.exitCode, ...(r.message ? { message: r.message } : {}) };
    }
    return { phase: this.phase };
  }

  async ready(options: { timeoutMs?: number } = {}): Promise<{ url: string }> {
    const service = this.job.service;
    if (!service) throw new DispatchError('UNSUPPORTED', `job ${this.jobId} is a ${this.kind} job; only serve jobs have a health check`);
    const url = `http://${this.opts.healthHost}:${service.port}`;
    const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
    let ended = false;
    void this.result.then(() => (ended = true));
    while (!ended) {
      try {
        const res = await fetch(url + service.healthPath, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.ok) {
          if (!this.exit) this.phase = 'ready';
          return { url };
        }
      } catch {
        // not listening yet
      }
      if (Date.now() >= deadline) throw new DispatchError('NOT_READY', `${url}${service.healthPath} did not answer 200 within ${options.timeoutMs ?? 1_800_000} ms`);
      await sleep(100);
    }
    const r = await this.result;
    throw new DispatchError('NOT_READY', `serve job ${this.jobId} ended (${r.reason}${r.message ? `: ${r.message}` : ''}) before ${service.healthPath} answered`);
  }
}

/**
 * Runs jobs as local process groups. Each job's process is the leader of a new group (spawn with
 * detached), so stopping a job reaches everything it started: SIGTERM to the group, SIGKILL after
 * the grace period.
 */
export class LocalExecutor implements Executor {
  readonly name = 'local' as const;
  private readonly handles = new Map<string, LocalJobHandle>();
  private readonly opts: Required<Pick<LocalExecutorOptions, 'killGraceMs' | 'maxLogLines' | 'healthHost'>>;
  /** A copy, checked once: the caller's object may change later. */
  private readonly gpus: [string, number][];

  constructor(private readonly options: LocalExecutorOptions) {
    if (!isAbsolute(options.workRoot)) throw new DispatchError('INVALID_SPEC', `workRoot "${options.workRoot}" must be an absolute path`, 'workRoot');
    const extra = Object.keys(options.baseEnv).filter((k) => !BASE_ENV.includes(k));
    if (extra.length) {
      throw new DispatchError('INVALID_SPEC', `baseEnv may hold only ${BASE_ENV.join(', ')}; ${extra.join(', ')} would reach every job (a job's own variables come from its spec)`, 'baseEnv');
    }
    this.gpus = Object.entries(options.gpus ?? {});
    for (const [gpuType, count] of this.gpus) checkGpuEntry(gpuType, count, `${JSON.stringify(gpuType)}: ${JSON.stringify(count)}`);
    this.opts = { killGraceMs: options.killGraceMs ?? 10_000, maxLogLines: options.maxLogLines ?? 100_000, healthHost: options.healthHost ?? '127.0.0.1' };
  }

  /** The configured GPUs (LocalExecutorOptions.gpus) as this machine's pools; other work on the machine is not seen, so foreignUsed is 0. */
  capacity(): Promise<PoolCapacity[]> {
    const pools = this.gpus
      .filter(([, gpus]) => gpus > 0)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([gpuType, gpus]) => ({ gpuType, gpus, nodes: 1, foreignUsed: 0 }));
    return Promise.resolve(pools);
  }

  /** The job's working directory. */
  workDir(jobId: string): string {
    checkJobId(jobId);
    return resolve(this.options.workRoot, jobId);
  }

  /** Stops every job this executor runs (SIGTERM to each process group, SIGKILL after the grace period): local jobs end with their worker. */
  async close(reason = 'executor closed'): Promise<void> {
    await Promise.all([...this.handles.values()].map((h) => h.cancel(reason)));
  }

  /** The handle of a job this executor started, if any. */
  get(jobId: string): JobHandle | undefined {
    return this.handles.get(jobId);
  }

  async start(jobId: string, job: RenderedJob, options: StartOptions = {}): Promise<JobHandle> {
    const existing = this.handles.get(jobId);
    if (existing) return existing;
    if (job.resources.nodes > 1) {
      throw new DispatchError('UNSUPPORTED', `job ${jobId} spans ${job.resources.nodes} machines; the local executor runs single-machine jobs (use the kubernetes executor)`, 'resources.nodes');
    }
    checkRenderedJob(job);
    const [cmd, ...args] = job.argv as [string, ...string[]];
    const workDir = this.workDir(jobId);
    await checkLocalWrites(job, workDir, options.writableRoots ?? []);
    await mkdir(workDir, { recursive: true });
    const leftover = await stopLeftoverGroup(workDir, this.opts.killGraceMs);
    for (const f of job.files) await writeJobFile(workDir, f.path, f.content);
    // Typed as NodeJS.ProcessEnv: where Next's types are loaded that type requires NODE_ENV.
    const env = {} as NodeJS.ProcessEnv;
    for (const [k, v] of Object.entries({ ...this.options.baseEnv, ...job.env })) if (v !== undefined) env[k] = v;
    const child = spawn(cmd, args, { cwd: workDir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((ok, fail) => {
      child.once('spawn', ok);
      child.once('error', (e) => fail(new DispatchError('SPAWN_FAILED', `cannot start "${cmd}" for job ${jobId}: ${e.message}`, 'argv', { cause: e })));
    });
    // The handle listens for output and exit at once: a quick tool may be done before the next await.
    const handle = new LocalJobHandle(jobId, job, child as ChildProcess & { pid: number }, this.opts, options);
    if (leftover) handle.note(leftover);
    this.handles.set(jobId, handle);
    const start = child.pid ? await processStartTime(child.pid) : null;
    if (child.pid && start) await writeFile(join(workDir, GROUP_FILE), JSON.stringify({ pgid: child.pid, start }));
    return handle;
  }
}
