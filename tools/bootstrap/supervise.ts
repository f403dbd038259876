/**
 * Keeps `npm start`'s long-running processes (portal, worker, model server) up: a process that
 * exits is started again after an exponential back-off, so one crash no longer takes PostgreSQL,
 * Redis and the other processes down with it. Only `stop()` (Ctrl-C / SIGTERM) ends them all.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
}

export interface SupervisorOptions {
  /** Delay before the first restart after a crash; doubles with each crash in a row. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A process that stayed up this long before exiting counts as healthy: its back-off starts over. */
  stableAfterMs?: number;
  /** After this many crashes in a row, each within stableAfterMs of starting, restarting is pointless. */
  maxCrashes?: number;
  log?: (msg: string) => void;
  /** Receives each line the process writes (stdout and stderr). */
  onLine?: (name: string, line: string) => void;
  now?: () => number;
}

export type SupervisorEvent =
  | { type: 'spawn'; name: string; pid: number | undefined; run: number }
  | { type: 'exit'; name: string; code: number | null; signal: NodeJS.Signals | null; uptimeMs: number }
  | { type: 'restart'; name: string; delayMs: number; crashes: number }
  | { type: 'gave-up'; name: string; crashes: number };

/** Back-off before restart number `crashes` (1-based) of a run of crashes: initial · 2^(n-1), capped. */
export function backoffMs(crashes: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, crashes - 1));
}

const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

/**
 * Signals each process's group (started detached, it leads one: `next start` forks a server that
 * must stop too), waits up to graceMs for all of them, then kills what is left.
 */
export async function stopProcesses(children: readonly ChildProcess[], graceMs = 12_000): Promise<void> {
  const signalGroup = (c: ChildProcess, sig: NodeJS.Signals) => {
    try {
      if (c.pid) process.kill(-c.pid, sig);
    } catch {
      c.kill(sig); // not a group leader (a foreground step): signal the process itself
    }
  };
  for (const c of children) if (running(c)) signalGroup(c, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (children.some(running) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const c of children) if (running(c)) signalGroup(c, 'SIGKILL');
}

export class Supervisor {
  private readonly current = new Map<string, ChildProcess>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly listeners: ((e: SupervisorEvent) => void)[] = [];
  private stopping = false;
  private readonly o: Required<SupervisorOptions>;

  constructor(opts: SupervisorOptions = {}) {
    this.o = {
      initialBackoffMs: 1_000,
      maxBackoffMs: 30_000,
      stableAfterMs: 60_000,
      maxCrashes: 5,
      log: (msg) => process.stderr.write(`${msg}\n`),
      onLine: (name, line) => process.stderr.write(`${name} ${line}\n`),
      now: Date.now,
      ...opts,
    };
  }

  on(listener: (e: SupervisorEvent) => void) {
    this.listeners.push(listener);
  }

  /** The processes running now (one per supervised name at most). */
  get children(): ChildProcess[] {
    return [...this.current.values()];
  }

  /** Starts the process and keeps it running until stop(). */
  start(spec: ProcessSpec) {
    this.launch(spec, 0, 1);
  }

  /** Ends supervision: no more restarts, every process (and its group) stopped. */
  async stop(graceMs?: number) {
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await stopProcesses(this.children, graceMs);
  }

  private emit(e: SupervisorEvent) {
    for (const l of this.listeners) l(e);
  }

  private launch(spec: ProcessSpec, crashes: number, run: number) {
    const startedAt = this.o.now();
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.current.set(spec.name, child);
    for (const s of [child.stdout, child.stderr]) {
      let buf = '';
      s?.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const l of lines) this.o.onLine(spec.name, l);
      });
    }
    this.emit({ type: 'spawn', name: spec.name, pid: child.pid, run });
    let ended = false;
    const onEnd = (code: number | null, signal: NodeJS.Signals | null) => {
      if (ended) return;
      ended = true;
      if (this.current.get(spec.name) === child) this.current.delete(spec.name);
      const uptimeMs = this.o.now() - startedAt;
      this.emit({ type: 'exit', name: spec.name, code, signal, uptimeMs });
      if (this.stopping) return;
      const how = signal ? `was killed by ${signal}` : code === null ? 'could not be started' : `exited with code ${code}`;
      // A process that ran for a while before failing starts a fresh series of back-offs.
      const n = uptimeMs >= this.o.stableAfterMs ? 1 : crashes + 1;
      if (n >= this.o.maxCrashes && uptimeMs < this.o.stableAfterMs) {
        this.o.log(
          `${spec.name} ${how} after ${(uptimeMs / 1000).toFixed(1)} s: it crashed ${n} times in a row, each within ${this.o.stableAfterMs / 1000} s of starting, so it is not restarted again. ` +
            'Everything else keeps running; read its output above, fix the cause and start again.',
        );
        this.emit({ type: 'gave-up', name: spec.name, crashes: n });
        return;
      }
      const delayMs = backoffMs(n, this.o.initialBackoffMs, this.o.maxBackoffMs);
      this.o.log(`${spec.name} ${how} after ${(uptimeMs / 1000).toFixed(1)} s; restarting it in ${(delayMs / 1000).toFixed(1)} s (crash ${n} of at most ${this.o.maxCrashes} in a row)`);
      this.emit({ type: 'restart', name: spec.name, delayMs, crashes: n });
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (!this.stopping) this.launch(spec, n, run + 1);
      }, delayMs);
      this.timers.add(t);
    };
    child.on('exit', onEnd);
    // A command that cannot be started at all (ENOENT, EACCES) emits 'error' and never 'exit'.
    child.on('error', (e) => {
      this.o.log(`${spec.name}: ${e.message}`);
      if (child.pid === undefined) onEnd(null, null);
    });
  }
}
