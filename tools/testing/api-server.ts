/** The API on a real local HTTP socket, as the portal serves it, for CLI and client tests. */
import { apiDeps, handleTrpcRequest } from '@ctxlab/api';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
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
