/**
 * Redis as ctxlab runs it keeps BullMQ's jobs across a restart. The test starts its own Redis on a
 * free port, in a scratch directory, exactly as `npm start` and `npm test` start theirs.
 */
import { enqueueNiahEval, niahQueue } from '@ctxlab/jobs';
import { queueReady, redisConnection } from '@ctxlab/queue';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '@ctxlab/testing/worker';
import { portOpen, shutdownRedis, startRedisDaemon } from './services';

const dir = mkdtempSync(join(tmpdir(), 'ctxlab-redis-aof-'));
let port = 0;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

async function stopRedis() {
  shutdownRedis(port);
  await waitFor('Redis to stop', async () => !(await portOpen(port)), 30_000, 50);
}

/** A producer connection, as the API uses, once it is ready (producers do not queue commands). */
async function connect(url: string) {
  const conn = redisConnection(url, 'producer');
  conn.on('error', () => undefined); // reconnect attempts while Redis restarts are expected
  await queueReady(conn);
  return conn;
}

afterAll(async () => {
  if (port && (await portOpen(port))) await stopRedis();
  rmSync(dir, { recursive: true, force: true });
});

describe('Redis as ctxlab runs it', () => {
  it('keeps a queued BullMQ job across a shutdown and start, with noeviction', async () => {
    port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    await startRedisDaemon(port, dir);

    const producer = await connect(url);
    const config = Object.fromEntries(pairs((await producer.config('GET', '*')) as string[]));
    expect({ appendonly: config.appendonly, appendfsync: config.appendfsync, policy: config['maxmemory-policy'] }).toEqual({
      appendonly: 'yes',
      appendfsync: 'everysec',
      policy: 'noeviction',
    });
    const job = await enqueueNiahEval(producer, { jobId: 'survivor', evalRunId: 'run-1' });
    await niahQueue(producer).close();
    await producer.quit();

    await stopRedis();
    await startRedisDaemon(port, dir);

    const reader = await connect(url);
    try {
      const again = await niahQueue(reader).getJob(job.id!);
      expect(again?.data).toEqual({ jobId: 'survivor', evalRunId: 'run-1' });
      expect(await again?.getState()).toBe('waiting');
    } finally {
      await niahQueue(reader).close();
      await reader.quit();
    }
    await stopRedis();
  });
});

/** CONFIG GET answers [name, value, name, value, …]. */
function pairs(flat: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}
