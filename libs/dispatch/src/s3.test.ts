import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startFaultProxy, startS3Server, S3RVER_CREDENTIALS, type S3TestServer } from '@ctxlab/testing/object-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Artifacts, directoryManifest, LocalArtifactStore } from './artifacts';
import { MANIFEST_NAME, S3ArtifactStore } from './s3';
import { s3ConfigFromEnv, type S3StoreConfig } from './s3-config';
import { rejection, thrown } from './testing/thrown';
import { fileUri } from './uri';

const BUCKET = 'ctxlab-test';
const MiB = 1024 * 1024;
const sha = (b: string | Uint8Array) => createHash('sha256').update(b).digest('hex');
const uri = (key: string) => `s3://${BUCKET}/${key}`;
const run = promisify(execFile);

let server: S3TestServer;
let store: S3ArtifactStore;
let work: string;
let config: S3StoreConfig;

beforeAll(async () => {
  server = await startS3Server({ buckets: [BUCKET] });
  config = { bucket: BUCKET, endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { ...S3RVER_CREDENTIALS } };
  store = new S3ArtifactStore(config);
  work = mkdtempSync(join(tmpdir(), 'ctxlab-s3-test-'));
});
afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

/** Requests the server answered since `from` (an index into server.requests). */
const requestsSince = (from: number) => server.requests.slice(from);

/** A local file of `size` random bytes. */
function randomFile(name: string, size: number): { path: string; bytes: Buffer } {
  const bytes = randomBytes(size);
  const path = join(work, name);
  writeFileSync(path, bytes);
  return { path, bytes };
}

async function pendingUploads(prefix: string) {
  const out = await store.client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: prefix }));
  return out.Uploads ?? [];
}

describe('S3 artifact store: files', () => {
  it('writes, reads, digests and removes a small file, its sha256 kept as object metadata', async () => {
    const u = uri('runs/1/log.txt');
    const info = await store.write(u, 'hello\n');
    expect(info).toEqual({ uri: u, kind: 'file', size: 6, sha256: sha('hello\n') });
    expect((await store.read(u)).toString()).toBe('hello\n');
    expect(await store.digest(u)).toEqual(info);
    expect(await store.exists(u)).toBe(true);
    const meta = JSON.parse(readFileSync(server.objectPath(BUCKET, 'runs/1/log.txt').replace(/object$/, 'metadata.json'), 'utf8'));
    expect(meta['x-amz-meta-sha256']).toBe(sha('hello\n'));
    await store.remove(u);
    expect(await store.exists(u)).toBe(false);
    const missing = await rejection(store.read(u));
    expect([missing.code, missing.message]).toEqual(['ARTIFACT_NOT_FOUND', `${u} does not exist`]);
  });

  it('uploads a 20 MiB file in 8 MiB parts and downloads it, digests checked', async () => {
    const { path, bytes } = randomFile('big.bin', 20 * MiB);
    const u = uri('models/big/model.safetensors');
    const from = server.requests.length;
    const info = await store.uploadFile(path, u);
    expect(info).toEqual({ uri: u, kind: 'file', size: bytes.length, sha256: sha(bytes) });
    const parts = requestsSince(from).filter((r) => r.method === 'PUT' && r.query.has('partNumber'));
    expect(parts.map((r) => r.query.get('partNumber')).sort()).toEqual(['1', '2', '3']);
    expect(requestsSince(from).some((r) => r.method === 'POST' && r.query.has('uploadId'))).toBe(true); // completed

    expect(await store.digest(u)).toEqual(info);
    const local = join(work, 'big.copy');
    expect(await store.downloadFile(u, local)).toEqual(info);
    expect(readFileSync(local).equals(bytes)).toBe(true);
    expect(existsSync(`${local}.part`)).toBe(false);
    expect((await store.read(u)).equals(bytes)).toBe(true);
  });

  it('continues a half-downloaded .part with a ranged GET that fetches only the rest', async () => {
    const { path, bytes } = randomFile('resume.bin', 6 * MiB);
    const u = uri('datasets/resume.bin');
    await store.uploadFile(path, u);
    const proxy = await startFaultProxy(server.endpoint);
    try {
      const viaProxy = new S3ArtifactStore({ ...config, endpoint: proxy.endpoint });
      const local = join(work, 'resume.copy');
      const half = bytes.length / 2;
      writeFileSync(`${local}.part`, bytes.subarray(0, half));
      const from = server.requests.length;
      proxy.resetStats();
      expect((await viaProxy.downloadFile(u, local)).sha256).toBe(sha(bytes));
      expect(readFileSync(local).equals(bytes)).toBe(true);
      const gets = requestsSince(from).filter((r) => r.method === 'GET');
      expect(gets.map((r) => [r.range, r.status, r.contentLength])).toEqual([[`bytes=${half}-`, 206, half]]);
      // On the wire: the second half and a few headers, never the first half again.
      expect(proxy.stats.bytesToClient).toBeGreaterThanOrEqual(half);
      expect(proxy.stats.bytesToClient).toBeLessThan(half + 16 * 1024);

      // A .part recorded for another version of the object is not continued.
      writeFileSync(`${local}.part`, bytes.subarray(0, half));
      writeFileSync(`${local}.part.json`, JSON.stringify({ uri: u, etag: '"an-older-version"', size: bytes.length }));
      const again = server.requests.length;
      await viaProxy.downloadFile(u, local);
      expect(requestsSince(again).filter((r) => r.method === 'GET').map((r) => [r.range, r.status])).toEqual([[undefined, 200]]);
      expect(readFileSync(local).equals(bytes)).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('refuses bytes that do not match the recorded sha256, whether changed on disk or recorded wrong', async () => {
    const u = uri('corrupt/weights.bin');
    const bytes = randomBytes(64 * 1024);
    await store.write(u, bytes);
    const onDisk = server.objectPath(BUCKET, 'corrupt/weights.bin');
    const bad = Buffer.from(bytes);
    bad[100] = (bad[100] ?? 0) ^ 0xff;
    writeFileSync(onDisk, bad);

    const e = await rejection(store.read(u));
    expect(e.code).toBe('DIGEST_MISMATCH');
    expect(e.message).toBe(`${u}: its bytes have sha256 ${sha(bad)}, but ${sha(bytes)} was recorded when it was written`);
    const local = join(work, 'corrupt.bin');
    const d = await rejection(store.downloadFile(u, local));
    expect(d.code).toBe('DIGEST_MISMATCH');
    expect(d.message).toContain(`expected ${sha(bytes)}`);
    expect([existsSync(local), existsSync(`${local}.part`)]).toEqual([false, false]);

    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'corrupt/labelled.txt', Body: 'abc', Metadata: { sha256: sha('abd') } }));
    expect((await rejection(store.read(uri('corrupt/labelled.txt')))).code).toBe('DIGEST_MISMATCH');
  });

  it('fails a multipart upload whose connection drops with a clear error, leaving no object and no parts', async () => {
    const { path } = randomFile('dropped.bin', 20 * MiB);
    // Each connection may carry 1 MiB: the upload starts, every 8 MiB part is cut off mid-body.
    const proxy = await startFaultProxy(server.endpoint, { dropAfterBytes: MiB });
    try {
      const viaProxy = new S3ArtifactStore({ ...config, endpoint: proxy.endpoint });
      const u = uri('models/dropped/model.bin');
      const from = server.requests.length;
      const e = await rejection(viaProxy.uploadFile(path, u));
      const seen = requestsSince(from);
      expect(seen.filter((r) => r.method === 'POST' && r.query.has('uploads')).length).toBe(1); // the upload began
      expect(seen.filter((r) => r.method === 'DELETE' && r.query.has('uploadId')).map((r) => r.status)).toEqual([204]); // and was aborted
      expect(e.code).toBe('STORE_UNAVAILABLE');
      expect(e.message).toMatch(new RegExp(`^${u}: the connection to the S3 endpoint ${proxy.endpoint} was dropped \\((ECONNRESET|EPIPE)\\)$`));
      expect(proxy.stats.dropped).toBeGreaterThan(0);
      expect(await store.exists(u)).toBe(false);
      // s3rver 3.7 has no AbortMultipartUpload or ListMultipartUploads; the harness adds both over
      // s3rver's own upload directories, so this sees what the store's abort left.
      expect(await pendingUploads('models/dropped/')).toEqual([]);

      // Once the network heals, the same upload goes through.
      proxy.setDropAfterBytes(undefined);
      expect((await viaProxy.uploadFile(path, u)).sha256).toBe(sha(readFileSync(path)));
      expect(await store.exists(u)).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});

describe('S3 artifact store: directories', () => {
  function modelDir(name: string): string {
    const dir = join(work, name);
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'config.json'), '{"rope_theta": 500000}');
    writeFileSync(join(dir, 'a.bin'), randomBytes(3000));
    writeFileSync(join(dir, 'sub', 'b.bin'), randomBytes(10));
    writeFileSync(join(dir, 'empty'), '');
    return dir;
  }

  it('uploads a directory with its manifest last, digests it as the local store does, and downloads it', async () => {
    const dir = modelDir('model-a');
    const local = await new LocalArtifactStore(work).digest(fileUri(dir));
    const u = uri('models/model-a');
    const from = server.requests.length;
    const info = await store.uploadDirectory(dir, u);
    expect(info).toEqual({ ...local, uri: u });
    const puts = requestsSince(from).filter((r) => r.method === 'PUT');
    expect(puts.at(-1)?.path).toBe(`/${BUCKET}/models/model-a/${MANIFEST_NAME}`);
    expect((await store.read(uri(`models/model-a/${MANIFEST_NAME}`))).toString()).toBe(directoryManifest(local.files ?? []));

    expect(await store.exists(u)).toBe(true);
    expect(await store.digest(u)).toEqual(info);
    const into = join(work, 'model-a.copy');
    expect(await store.downloadDirectory(u, into)).toEqual(info);
    expect((await new LocalArtifactStore(work).digest(fileUri(into))).sha256).toBe(local.sha256);

    // Files already there with the right sha256 are not fetched again; a changed one is.
    writeFileSync(join(into, 'config.json'), '{"rope_theta": 10000}');
    const again = server.requests.length;
    await store.downloadDirectory(u, into);
    const fetched = requestsSince(again).filter((r) => r.method === 'GET' && r.path.startsWith(`/${BUCKET}/models/`) && !r.path.endsWith(MANIFEST_NAME));
    expect(fetched.map((r) => r.path)).toEqual([`/${BUCKET}/models/model-a/config.json`]);
    expect(readFileSync(join(into, 'config.json'), 'utf8')).toBe('{"rope_theta": 500000}');

    // Uploading a smaller version drops the files it no longer has.
    rmSync(join(dir, 'sub'), { recursive: true });
    const v2 = await store.uploadDirectory(dir, u);
    expect((await store.digest(u)).files?.map((f) => f.path)).toEqual(['a.bin', 'config.json', 'empty']);
    expect(v2.sha256).toBe((await new LocalArtifactStore(work).digest(fileUri(dir))).sha256);

    await store.remove(u);
    expect(await store.exists(u)).toBe(false);
    expect((await rejection(store.digest(u))).message).toBe(`${u} does not exist`);
  });

  it('treats a directory whose manifest is missing, or whose files went or changed size, as incomplete', async () => {
    const dir = modelDir('model-b');
    const u = uri('models/model-b');
    await store.uploadDirectory(dir, u);
    await store.write(uri('models/model-b/sub/b.bin'), 'a different length');
    const resized = await rejection(store.digest(u));
    expect(resized.code).toBe('DIGEST_MISMATCH');
    expect(resized.message).toMatch(/no longer have the sizes recorded/);

    await store.remove(uri('models/model-b/sub/b.bin'));
    const gone = await rejection(store.digest(u));
    expect([gone.code, gone.message]).toEqual(['ARTIFACT_NOT_FOUND', `${u} is incomplete: its manifest lists files that are not in the bucket: sub/b.bin`]);

    await store.remove(uri(`models/model-b/${MANIFEST_NAME}`));
    expect(await store.exists(u)).toBe(false);
    expect((await rejection(store.digest(u))).message).toMatch(/^s3:\/\/ctxlab-test\/models\/model-b is an incomplete upload: objects exist under it but its manifest/);
  });

  it('leaves no manifest and no parts when a connection drops in the middle of a directory upload', async () => {
    const dir = modelDir('model-c');
    writeFileSync(join(dir, 'weights.bin'), randomBytes(17 * MiB));
    const proxy = await startFaultProxy(server.endpoint, { dropAfterBytes: MiB });
    try {
      const u = uri('models/model-c');
      const e = await rejection(new S3ArtifactStore({ ...config, endpoint: proxy.endpoint }).uploadDirectory(dir, u));
      expect(e.message).toContain('was dropped');
      expect(await store.exists(u)).toBe(false);
      expect((await rejection(store.digest(u))).message).toMatch(/incomplete upload/);
      expect(await pendingUploads('models/model-c/')).toEqual([]);
      const into = join(work, 'model-c.copy');
      expect((await rejection(store.downloadDirectory(u, into))).code).toBe('ARTIFACT_NOT_FOUND');
    } finally {
      await proxy.close();
    }
  });
});

describe('S3 artifact store: configuration, failures and presigned URLs', () => {
  it('reads its configuration from the environment the harness hands a child process', async () => {
    const fromEnv = s3ConfigFromEnv({ ...server.env, CTXLAB_ARTIFACT_BUCKET: `s3://${BUCKET}/prod/` });
    expect(fromEnv).toEqual({ ...config, prefix: 'prod' });
    expect(s3ConfigFromEnv(server.env).prefix).toBe('');
    const a = new Artifacts({ root: work, s3: { bucket: BUCKET, prefix: fromEnv.prefix, store: new S3ArtifactStore(fromEnv) }, defaultScheme: 's3' });
    const u = a.uriFor('runs', 'r1', 'summary.json');
    expect(u).toBe(uri('prod/runs/r1/summary.json'));
    await a.write(u, '{}');
    expect((await a.digest(u)).sha256).toBe(sha('{}'));
    expect(await a.s3?.presign(u)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/ctxlab-test\/prod\/runs\/r1\/summary\.json\?/);
  });

  it('says which variables to set when there are no credentials', () => {
    const none = thrown(() => s3ConfigFromEnv({ CTXLAB_ARTIFACT_BUCKET: `s3://${BUCKET}` }));
    expect(none.code).toBe('NO_CREDENTIALS');
    expect(none.message).toMatch(/^no S3 credentials for s3:\/\/ctxlab-test: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    const half = thrown(() => s3ConfigFromEnv({ CTXLAB_ARTIFACT_BUCKET: `s3://${BUCKET}`, AWS_ACCESS_KEY_ID: 'AKIA' }));
    expect(half.message).toBe('S3 credentials for s3://ctxlab-test: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; set both');
    expect(thrown(() => s3ConfigFromEnv({})).message).toMatch(/CTXLAB_ARTIFACT_BUCKET is not set/);
    expect(thrown(() => s3ConfigFromEnv({ ...server.env, CTXLAB_S3_FORCE_PATH_STYLE: 'yes' })).message).toMatch(/must be true, false, 1 or 0/);
    // A profile or role is left to the SDK's chain.
    expect(s3ConfigFromEnv({ CTXLAB_ARTIFACT_BUCKET: `s3://${BUCKET}`, AWS_PROFILE: 'lab' }).credentials).toBeUndefined();
  });

  it('maps the SDK finding no credentials anywhere to the same advice', async () => {
    // A child process, so that the SDK's chain sees an environment and home directory with nothing in them.
    const script = `import { S3ArtifactStore } from ${JSON.stringify(join(import.meta.dirname, 's3.ts'))};
      const store = new S3ArtifactStore({ bucket: '${BUCKET}', endpoint: '${server.endpoint}', region: 'us-east-1', forcePathStyle: true });
      await store.exists('${uri('k')}').then(() => console.log('no error'), (e) => console.log(JSON.stringify([e.code, e.message])));`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { NODE_ENV: 'test', PATH: process.env.PATH ?? '', HOME: work, AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: join(work, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(work, 'none') },
    });
    const [code, message] = JSON.parse(stdout) as [string, string];
    expect(code).toBe('NO_CREDENTIALS');
    expect(message).toMatch(/^s3:\/\/ctxlab-test\/k: no S3 credentials were found \(.+\); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  });

  it('names the URI and the endpoint when the endpoint refuses the connection', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const { port } = closed.address() as AddressInfo;
    await new Promise((r) => closed.close(r));
    const nowhere = new S3ArtifactStore({ ...config, endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 });
    const e = await rejection(nowhere.exists(uri('k')));
    expect([e.code, e.message]).toEqual(['STORE_UNAVAILABLE', `${uri('k')}: the S3 endpoint http://127.0.0.1:${port} refused the connection`]);
  });

  it('presigns a GET that plain fetch can use until it expires', async () => {
    const u = uri('exports/report final.csv');
    await store.write(u, 'a,b\n1,2\n');
    const res = await fetch(await store.presign(u));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('a,b\n1,2\n');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="report final.csv"; filename*=UTF-8''report%20final.csv`);

    const short = await store.presign(u, { expiresInSeconds: 1 });
    await new Promise((r) => setTimeout(r, 2_000));
    const late = await fetch(short);
    expect(late.status).toBe(403);
    expect(await late.text()).toContain('Request has expired');

    expect((await rejection(store.presign(u, { expiresInSeconds: 8 * 24 * 3600 }))).code).toBe('INVALID_SPEC');
    expect((await rejection(store.presign(uri('exports/none.csv')))).code).toBe('ARTIFACT_NOT_FOUND');
  });
});
