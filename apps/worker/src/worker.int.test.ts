import { checkWorkers } from '@ctxlab/jobs';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testSettings } from '@ctxlab/testing/db';

const main = resolve(import.meta.dirname, 'main.ts');

describe('worker process', () => {
  it('answers a health job through Redis and shuts down cleanly on SIGTERM', async () => {
    const { databaseUrl, redisUrl } = testSettings();
    const prefix = `wtest-${process.pid}`;
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      env: { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, WORKER_NAME: 'w-under-test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    try {
      const r = await checkWorkers({ redisUrl, queuePrefix: prefix }, 'test', 30_000);
      expect(r.worker).toBe('w-under-test');
      expect(r.pid).toBe(child.pid);
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    expect(code, output).toBe(0);
    expect(output).toContain('[worker] stopped');
  });

  it('refuses to start with a clear message when its settings are wrong', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', main], { env: { ...process.env, DATABASE_URL: 'nope', REDIS_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    expect(code).not.toBe(0);
    expect(err).toMatch(/worker configuration: DATABASE_URL: DATABASE_URL must be a postgresql:\/\/ URL/);
  });

  it('a health check with no worker running fails with a reason a person understands', async () => {
    const { redisUrl } = testSettings();
    await expect(checkWorkers({ redisUrl, queuePrefix: `nobody-${process.pid}` }, 'test', 1500)).rejects.toThrow(/no worker answered within 1.5 s/);
  });

  it('with Redis down, producers fail fast instead of hanging', async () => {
    const t0 = Date.now();
    await expect(checkWorkers({ redisUrl: 'redis://127.0.0.1:1' }, 'test', 10_000)).rejects.toThrow(/queue \(Redis\) is unavailable/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
