/** The API on a real local HTTP socket, as the portal serves it, for CLI and client tests. */
import { apiDeps, handleTrpcRequest } from '@ctxlab/api';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { testSettings } from './db';

export async function startApiServer(
  opts: { queuePrefix?: string; maxHeaderSize?: number } = {},
): Promise<{ url: string; close: () => Promise<void> }> {
  const deps = apiDeps({ ...testSettings(), ...(opts.queuePrefix ? { queuePrefix: opts.queuePrefix } : {}) });
  const server = http.createServer(opts.maxHeaderSize ? { maxHeaderSize: opts.maxHeaderSize } : {}, async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? Buffer.concat(chunks) : undefined;
    const request = new Request(`http://127.0.0.1${req.url}`, {
      method: req.method,
      headers: req.headers as Record<string, string>,
      ...(body && req.method !== 'GET' ? { body } : {}),
    });
    const response = await handleTrpcRequest(request, deps);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => {
    server.close(() => r());
    // Idle keep-alive connections would hold close() open.
    server.closeAllConnections();
  }) };
}

/**
 * The same server in a child process (tools/testing/api-server-main.ts). `exited()` says whether
 * and how it ended, so a test can tell a crash from a slow answer.
 */
export async function startApiServerProcess(
  opts: { queuePrefix?: string; maxHeaderSize?: number } = {},
): Promise<{ url: string; pid: number; exited: () => string | null; output: () => string; close: () => Promise<void> }> {
  const { databaseUrl, redisUrl } = testSettings();
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, 'api-server-main.ts')], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      ...(opts.queuePrefix ? { QUEUE_PREFIX: opts.queuePrefix } : {}),
      ...(opts.maxHeaderSize ? { MAX_HEADER_SIZE: String(opts.maxHeaderSize) } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let ended: string | null = null;
  child.on('exit', (code, signal) => (ended = signal ? `killed by ${signal}` : `exited with code ${code}`));
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`the API server did not start within 60 s:\n${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = /listening (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d));
    child.once('exit', () => {
      clearTimeout(timer);
      rej(new Error(`the API server ${ended}:\n${out}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    exited: () => ended,
    output: () => out,
    close: async () => {
      if (ended) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await done;
    },
  };
}
