/**
 * The portal as `npm start` runs it, for browser tests: a production build (reused while its inputs
 * are unchanged, with the same stamp tools/bootstrap/main.ts writes) served by `next start` on a
 * free port against the test database, plus headless Chromium.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { markPortalBuilt, portalBuildIsCurrent, portalSourceHash } from '@ctxlab/testing/portal-build';

export const root = resolve(import.meta.dirname, '../../..');
const nextBin = join(root, 'node_modules/next/dist/bin/next');

/** `next build apps/portal` unless the stamped build matches the sources. Returns whether it built. */
export function ensurePortalBuild(): boolean {
  const want = portalSourceHash();
  if (portalBuildIsCurrent(want)) return false;
  const r = spawnSync(process.execPath, [nextBin, 'build', 'apps/portal'], { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1' }, maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`next build failed (${r.status}):\n${(r.stdout ?? '').slice(-4000)}\n${(r.stderr ?? '').slice(-4000)}`);
  markPortalBuilt(want);
  return true;
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => res(port));
    });
  });
}

export interface Portal {
  url: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** `next start apps/portal` on a free port with the given settings (and any more, e.g. ARTIFACTS_DIR); resolves once it answers. */
export async function startPortal(env: { DATABASE_URL: string; REDIS_URL: string; QUEUE_PREFIX: string } & Record<string, string>): Promise<Portal> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [nextBin, 'start', 'apps/portal', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: root,
    env: { ...process.env, ...env, NODE_ENV: 'production', PORT: String(port), NEXT_TELEMETRY_DISABLED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`next start exited (${child.exitCode}):\n${out}`);
    try {
      const r = await fetch(`${url}/api/trpc/health`, { signal: AbortSignal.timeout(2000) });
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - t0 > 60_000) {
      await stop();
      throw new Error(`the portal did not answer within 60 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, output: () => out, stop };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Where screenshots and downloads go (git-ignored). */
export function artifactsDir(): string {
  const d = join(root, 'test-results/e2e');
  mkdirSync(d, { recursive: true });
  return d;
}

/** The lab model server (apps/model-server) as `npm start` runs it, on a free port; resolves once it serves. */
export async function startModelServer(): Promise<{ url: string; output: () => string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, '../../model-server/src/main.ts')], {
    env: { ...process.env, MODEL_SERVER_PORT: String(port), MODEL_SERVER_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const t0 = Date.now();
  while (!(child.exitCode === null && /serving .* at /.test(out))) {
    if (child.exitCode !== null || Date.now() - t0 > 120_000) throw new Error(`the model server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url: `http://127.0.0.1:${port}/v1`,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await done;
    },
  };
}
