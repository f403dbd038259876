import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { testSettings } from './db';

const main = resolve(import.meta.dirname, '../../apps/worker/src/main.ts');

/** A real worker process, as `npm start` runs it, with settings suited to tests. */
export function startWorker(prefix: string, env: Record<string, string> = {}): ChildProcess & { output: () => string } {
  const { databaseUrl, redisUrl } = testSettings();
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      WORKER_LOCK_MS: '3000',
      REQUEST_TIMEOUT_MS: '3000',
      REQUEST_ATTEMPTS: '2',
      RECONCILE_MS: '1000',
      SHUTDOWN_GRACE_MS: '2000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  return Object.assign(child, { output: () => out });
}

export async function stopWorker(w: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') {
  if (w.exitCode !== null || w.signalCode !== null) return;
  const done = new Promise((r) => w.once('exit', r));
  w.kill(signal);
  await done;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  while (Date.now() - t0 < timeoutMs) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

/** Resolves with the job once it has ended (succeeded, failed or cancelled). */
export function jobFinished<J extends { status: string }>(repos: { jobs: { get(id: string): Promise<J> } }, jobId: string, timeoutMs = 60_000, everyMs = 200): Promise<J> {
  return waitFor(`job ${jobId} to finish`, async () => {
    const j = await repos.jobs.get(jobId);
    return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : null;
  }, timeoutMs, everyMs);
}
