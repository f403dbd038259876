import { guardedFetch } from '@ctxlab/security';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkEndpoint } from './endpoint-health.handler';

const SECRET = 'requirepass-hunter2';
const listen = async <T extends Server>(s: T) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
};

describe('checkEndpoint never repeats what a server that is not an OpenAI model list sent', () => {
  const http = createHttpServer((req, res) => {
    if (req.url?.startsWith('/denied')) return void res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `token ${SECRET} rejected` } }));
    if (req.url?.startsWith('/admin')) return void res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`config dump: ${SECRET}`);
    if (req.url?.startsWith('/json')) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [SECRET] }));
    res.end(`<html>${SECRET}</html>`);
  });
  // Answers every connection as Redis does (not HTTP at all).
  const sockets = new Set<Socket>();
  const redisLike = createTcpServer((socket) => {
    sockets.add(socket);
    socket.end(`-ERR wrong password ${SECRET}\r\n`);
  });
  let httpUrl = '';
  let redisUrl = '';
  beforeAll(async () => {
    httpUrl = await listen(http);
    redisUrl = await listen(redisLike);
  });
  afterAll(async () => {
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => redisLike.close(r));
  });

  it.each([
    ['an HTTP error with a JSON body', '/denied', /^HTTP 401 \(application\/json\) from .* \(check the endpoint's API key\)$/],
    ['an HTTP error with a text body', '/admin', /^HTTP 500 \(text\/plain\) from /],
    ['JSON that is not a model list', '/json', /answered, but not with an OpenAI model list/],
    ['a web page', '/page', /did not answer with JSON/],
  ])('%s: status and content type only', async (_name, path, message) => {
    const h = await checkEndpoint(`${httpUrl}${path}`, undefined);
    expect(h).toMatchObject({ ok: false, models: [], error: expect.stringMatching(message) });
    expect(h.error).not.toContain(SECRET);
  });

  it('a service that does not speak HTTP (Redis): a failure that repeats none of its answer', async () => {
    const h = await checkEndpoint(redisUrl, undefined);
    expect(h.ok).toBe(false);
    expect(h.error).not.toContain(SECRET);
    expect(h.error).not.toContain('ERR');
  });

  it('the model server\'s port allow-listed: the Redis port next to it is refused without connecting', async () => {
    let connections = 0;
    redisLike.on('connection', () => connections++);
    const modelServerPort = Number(new URL(httpUrl).port);
    const h = await checkEndpoint(redisUrl, undefined, guardedFetch({ allow: [`127.0.0.1:${modelServerPort}`] }));
    expect(h).toMatchObject({ ok: false, error: expect.stringMatching(/Refusing to connect to 127\.0\.0\.1 port \d+: loopback address/) });
    expect(connections).toBe(0);
  });
});
