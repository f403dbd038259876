/**
 * An S3 endpoint on a real local socket for tests: s3rver (the S3 REST protocol over a directory),
 * plus the two multipart calls it lacks, and a TCP proxy that drops connections on demand.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

/** s3rver's built-in account; it accepts any well-formed SigV4 signature made with this key id. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** One request the server answered, as the test wants to see it. */
export interface S3RequestRecord {
  method: string;
  /** Decoded path: /bucket/key. */
  path: string;
  query: URLSearchParams;
  range: string | undefined;
  status: number;
  /** The declared body length of the response, when there was one. */
  contentLength: number | undefined;
}

export interface S3TestServer {
  /** http://127.0.0.1:PORT (path-style addressing only). */
  endpoint: string;
  port: number;
  /** s3rver's data directory. */
  directory: string;
  /** What a child process needs in its environment to reach this server (see s3ConfigFromEnv). */
  env: Record<string, string>;
  /** Every request answered so far, oldest first. */
  requests: S3RequestRecord[];
  /** Where s3rver keeps an object's bytes, for tests that corrupt them behind the protocol's back. */
  objectPath(bucket: string, key: string): string;
  close(): Promise<void>;
}

// s3rver's filesystem layout: `<dir>/<bucket>/<key dirs>/<last segment>._S3rver_<resource>`;
// multipart uploads live in `<dir>/<bucket>/._S3rver_uploads/<uploadId>/` (a `key` file and the parts).
const resourcePath = (dir: string, bucket: string, key: string, resource: string) => {
  const parts = key.split('/');
  const last = parts.pop() ?? '';
  return join(dir, bucket, ...parts, `${last}._S3rver_${resource}`);
};

const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

function sendXml(res: http.ServerResponse, status: number, body: string) {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
  res.end(xml);
}

const s3Error = (res: http.ServerResponse, status: number, code: string, message: string) =>
  sendXml(res, status, `<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`);

/**
 * AbortMultipartUpload and ListMultipartUploads, which s3rver 3.7 answers with 405 and 501. Both
 * read and write s3rver's own upload directories, so an upload begun through s3rver is the one
 * these see. Returns false for every other request. Like s3rver, they check no signature.
 */
async function multipartExtension(dir: string, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<boolean> {
  const [bucket = '', ...keyParts] = url.pathname.slice(1).split('/').map(decodeURIComponent);
  const key = keyParts.join('/');
  const uploadsDir = join(dir, bucket, '._S3rver_uploads');
  if (req.method === 'DELETE' && key && url.searchParams.has('uploadId')) {
    const uploadId = url.searchParams.get('uploadId') ?? '';
    const uploadDir = join(uploadsDir, uploadId);
    const storedKey = /^[A-Za-z0-9_-]+$/.test(uploadId) ? await readFile(join(uploadDir, 'key'), 'utf8').catch(() => null) : null;
    if (storedKey !== key) {
      s3Error(res, 404, 'NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.');
    } else {
      await rm(uploadDir, { recursive: true, force: true });
      res.writeHead(204).end();
    }
    return true;
  }
  if (req.method === 'GET' && !key && url.searchParams.has('uploads')) {
    if (!(await stat(join(dir, bucket)).catch(() => null))) {
      s3Error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
      return true;
    }
    const prefix = url.searchParams.get('prefix') ?? '';
    const uploads: string[] = [];
    for (const id of (await readdir(uploadsDir).catch(() => [])).sort()) {
      const uploadKey = await readFile(join(uploadsDir, id, 'key'), 'utf8').catch(() => null);
      if (uploadKey === null || !uploadKey.startsWith(prefix)) continue;
      const initiated = (await stat(join(uploadsDir, id))).birthtime.toISOString();
      uploads.push(`<Upload><Key>${xmlEscape(uploadKey)}</Key><UploadId>${id}</UploadId><Initiated>${initiated}</Initiated></Upload>`);
    }
    sendXml(
      res,
      200,
      `<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${xmlEscape(bucket)}</Bucket>` +
        `<Prefix>${xmlEscape(prefix)}</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>${uploads.join('')}</ListMultipartUploadsResult>`,
    );
    return true;
  }
  return false;
}

/**
 * s3rver on 127.0.0.1 (a free port) over a fresh temporary directory, with `buckets` created.
 * Known gap: s3rver makes ListObjectsV2 continuation tokens with DES, which Node 24's OpenSSL 3
 * lacks, so a listing that would be truncated (more than 1,000 keys, or MaxKeys) answers 500.
 */
export async function startS3Server(opts: { buckets: string[]; region?: string }): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 'ctxlab-s3-'));
  const s3rver = new S3rver({ directory, silent: true, vhostBuckets: false, configureBuckets: opts.buckets.map((name) => ({ name })) });
  await s3rver.configureBuckets();
  const handle = s3rver.callback();
  const requests: S3RequestRecord[] = [];

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://s3.local');
    res.on('finish', () => {
      const length = res.getHeader('content-length');
      requests.push({
        method: req.method ?? '',
        path: decodeURIComponent(url.pathname),
        query: url.searchParams,
        range: req.headers.range,
        status: res.statusCode,
        contentLength: length === undefined ? undefined : Number(length),
      });
    });
    multipartExtension(directory, req, res, url).then(
      (answered) => answered || handle(req, res),
      (e: unknown) => s3Error(res, 500, 'InternalError', (e as Error).message),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const region = opts.region ?? 'us-east-1';

  return {
    endpoint,
    port,
    directory,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      CTXLAB_S3_FORCE_PATH_STYLE: 'true',
      ...(opts.buckets[0] ? { CTXLAB_ARTIFACT_BUCKET: `s3://${opts.buckets[0]}` } : {}),
    },
    requests,
    objectPath: (bucket, key) => resourcePath(directory, bucket, key, 'object'),
    close: async () => {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      s3rver.logger.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Bytes a connection may send towards the server before the proxy cuts it; undefined: no limit. */
export type DropRule = number | undefined | ((connection: number) => number | undefined);

export interface FaultProxy {
  /** http://127.0.0.1:PORT: point the client here instead of at the target. */
  endpoint: string;
  port: number;
  /**
   * Changes the rule at runtime. A number or undefined applies to open connections as well as new
   * ones; a function is asked once per connection (numbered from 0 in the order they opened).
   */
  setDropAfterBytes(rule: DropRule): void;
  /** Counters since the proxy started (or since resetStats). */
  readonly stats: { connections: number; dropped: number; bytesToServer: number; bytesToClient: number };
  resetStats(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy to `target` (a URL or host and port) on 127.0.0.1 that resets a connection once it
 * has carried `dropAfterBytes` request bytes: the bytes up to the limit reach the server, then
 * both sides see the connection reset, as when a network path fails in the middle of a body.
 */
export async function startFaultProxy(target: string | { host: string; port: number }, opts: { dropAfterBytes?: DropRule } = {}): Promise<FaultProxy> {
  const to = typeof target === 'string' ? new URL(target) : null;
  const host = to ? to.hostname : (target as { host: string }).host;
  const port = to ? Number(to.port || 80) : (target as { port: number }).port;
  let rule: DropRule = opts.dropAfterBytes;
  const stats = { connections: 0, dropped: 0, bytesToServer: 0, bytesToClient: 0 };
  const open = new Set<{ limit: number | undefined; client: net.Socket; upstream: net.Socket }>();
  let opened = 0;
  const limitFor = (index: number) => (typeof rule === 'function' ? rule(index) : rule);

  const server = net.createServer((client) => {
    const conn = { limit: limitFor(opened++), client, upstream: net.connect(port, host) };
    stats.connections += 1;
    open.add(conn);
    let sent = 0;
    const { upstream } = conn;
    const cut = () => {
      stats.dropped += 1;
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    };
    client.on('data', (chunk: Buffer) => {
      if (conn.limit !== undefined && sent + chunk.length > conn.limit) {
        const allowed = chunk.subarray(0, Math.max(0, conn.limit - sent));
        sent += allowed.length;
        stats.bytesToServer += allowed.length;
        if (allowed.length) upstream.write(allowed, cut);
        else cut();
        return;
      }
      sent += chunk.length;
      stats.bytesToServer += chunk.length;
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (chunk: Buffer) => {
      stats.bytesToClient += chunk.length;
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    const close = () => {
      open.delete(conn);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const proxyPort = (server.address() as net.AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${proxyPort}`,
    port: proxyPort,
    setDropAfterBytes(next) {
      rule = next;
      if (typeof next !== 'function') for (const conn of open) conn.limit = next;
    },
    stats,
    resetStats() {
      Object.assign(stats, { connections: 0, dropped: 0, bytesToServer: 0, bytesToClient: 0 });
    },
    close: async () => {
      for (const conn of open) {
        conn.client.destroy();
        conn.upstream.destroy();
      }
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
