import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { testSettings } from './db';

const main = resolve(import.meta.dirname, '../../apps/worker/src/main.ts');

/** The shipped lab models' architecture, as a registry model config takes it (add ropeTheta and maxPositionEmbeddings). */
export const LAB_MODEL_CONFIG = { numLayers: 4, hiddenSize: 128, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 384, vocabSize: 259, tokenizer: 'byte', dtype: 'fp32', tieWordEmbeddings: true } as const;

/** A TCP port on 127.0.0.1 that was free a moment ago (for a server a job starts). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const port = (s.address() as { port: number }).port;
  await new Promise((ok) => s.close(ok));
  return port;
}

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
      SCHEDULER_EVERY_MS: '300',
      POOL_REPORT_EVERY_MS: '1000',
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
