import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type HeadObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { directoryFiles, directoryManifest, fileSha256, type ArtifactFile, type ArtifactInfo, type ArtifactStore } from './artifacts';
import { DispatchError, type DispatchErrorCode } from './errors';
import { S3_CREDENTIALS_HELP, type S3StoreConfig } from './s3-config';
import { parseS3Prefix, parseUri, s3Uri } from './uri';

/**
 * Artifacts in one S3 (or S3-compatible) bucket.
 *
 * A file artifact is one object whose SHA-256 rides along as user metadata (`x-amz-meta-sha256`),
 * checked on every read and download. A directory artifact is the objects under `<key>/` plus a
 * manifest, `<key>/.ctxlab-manifest`: the directory's sha256sum-style manifest (directoryManifest),
 * so its SHA-256 is the directory's digest. The manifest is written last and removed first: a
 * directory without one is an incomplete upload, which exists() denies and digest() refuses.
 */

/** The object that marks a directory artifact complete. */
export const MANIFEST_NAME = '.ctxlab-manifest';
/** Multipart part size for uploads. */
export const UPLOAD_PART_SIZE = 8 * 1024 * 1024;
/** Presigned URLs: the default lifetime, and the longest SigV4 allows. */
export const PRESIGN_DEFAULT_SECONDS = 15 * 60;
export const PRESIGN_MAX_SECONDS = 7 * 24 * 60 * 60;

// Transfers at once: files in a directory operation, and parts of each file, each part buffered
// in memory, so an upload holds at most 4 × 4 × 8 MiB = 128 MiB.
const FILE_CONCURRENCY = 4;
const PARTS_IN_FLIGHT = 4;
const SHA256 = /^[0-9a-f]{64}$/;

const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** The size lines whose hash a manifest object carries, so that one listing checks every file's size. */
const sizesDigest = (files: readonly { path: string; size: number }[]) => sha256Hex(files.map((f) => `${f.size}  ${f.path}\n`).join(''));

const recordedSha256 = (head: { Metadata?: Record<string, string> }): string | undefined => {
  const v = head.Metadata?.sha256?.toLowerCase();
  return v && SHA256.test(v) ? v : undefined;
};

/** A manifest path is a relative POSIX path that stays inside the directory it is downloaded into. */
function safeManifestPath(path: string): boolean {
  if (/[\u0000-\u001f\u007f\\]/.test(path) || path.startsWith('/')) return false;
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/** Runs `f` over `items`, `limit` at a time; after the first failure starts no more and rethrows it. */
async function eachLimit<T>(items: readonly T[], limit: number, f: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++] as T;
      try {
        await f(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

/** A pass-through that hashes and counts what flows through it. */
function hashing(hash: Hash, counted: { bytes: number }, onEnd?: () => Error | null): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      counted.bytes += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      done(onEnd?.() ?? null);
    },
  });
}

export class S3ArtifactStore implements ArtifactStore {
  readonly scheme = 's3' as const;
  readonly bucket: string;
  /** Where new artifacts go in the bucket (see S3StoreConfig.prefix). */
  readonly prefix: string;
  /** The endpoint requests go to, as messages name it. */
  readonly endpoint: string;
  /** The SDK client, for what the store does not wrap. */
  readonly client: S3Client;

  constructor(config: S3StoreConfig) {
    this.bucket = parseS3Prefix(`s3://${config.bucket}`, 'bucket').bucket;
    this.prefix = (config.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.endpoint = config.endpoint ?? `https://s3.${config.region}.amazonaws.com`;
    this.client = new S3Client({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.forcePathStyle ?? false,
      // A copy: the SDK annotates the credentials object it is given.
      ...(config.credentials ? { credentials: { ...config.credentials } } : {}),
      maxAttempts: config.maxAttempts ?? 3,
      // Fail fast on an endpoint that does not answer; a stalled transfer fails after 2 idle minutes.
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
    });
  }

  /** The object key of an s3:// URI in this store's bucket (a trailing "/" dropped). */
  keyOf(uri: string): string {
    const p = parseUri(uri);
    if (p.scheme !== 's3') throw new DispatchError('NO_STORE', `the S3 artifact store holds s3:// URIs, not ${uri}`);
    if (p.bucket !== this.bucket) throw new DispatchError('NO_STORE', `${uri} is in bucket "${p.bucket}"; this store serves bucket "${this.bucket}"`);
    return p.key.replace(/\/+$/, '');
  }

  async write(uri: string, data: string | Uint8Array): Promise<ArtifactInfo> {
    const key = this.keyOf(uri);
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    const sha256 = sha256Hex(body);
    await this.call(uri, () => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: body.byteLength, Metadata: { sha256 } })));
    return { uri, kind: 'file', size: body.byteLength, sha256 };
  }

  /**
   * Uploads a local file, streamed, in 8 MiB parts when it is larger than one. Its SHA-256 is
   * taken first (S3 takes metadata before the first byte) and again as the bytes are sent; a file
   * that changes in between fails the upload. A failed multipart upload is aborted, so no parts
   * are left behind (unless the abort itself cannot reach the store).
   */
  async uploadFile(localPath: string, uri: string): Promise<ArtifactInfo> {
    const key = this.keyOf(uri);
    const st = await this.localStat(localPath, uri);
    if (!st.isFile()) throw new DispatchError('UNSUPPORTED', `${localPath} is not a file; uploadDirectory uploads a directory to ${uri}`);
    const file = { size: st.size, sha256: await fileSha256(localPath) };
    await this.putFile(uri, key, localPath, file);
    return { uri, kind: 'file', ...file };
  }

  /**
   * Uploads every file under `localDir` (symlinks followed) to `<key>/<path>`, removes objects a
   * previous upload left there that the directory no longer has, and writes the manifest last.
   */
  async uploadDirectory(localDir: string, uri: string): Promise<ArtifactInfo> {
    const key = this.keyOf(uri);
    const st = await this.localStat(localDir, uri);
    if (!st.isDirectory()) throw new DispatchError('UNSUPPORTED', `${localDir} is not a directory; uploadFile uploads a file to ${uri}`);
    const files = await directoryFiles(localDir);
    const odd = files.find((f) => !safeManifestPath(f.path));
    if (odd) throw new DispatchError('UNSUPPORTED', `${localDir}: the file name ${JSON.stringify(odd.path)} has control characters or backslashes, which a manifest line cannot hold; rename it`);
    if (files.some((f) => f.path === MANIFEST_NAME)) {
      throw new DispatchError('INVALID_SPEC', `${localDir} holds a file named ${MANIFEST_NAME}, the name S3 directory artifacts keep their manifest under; rename it`);
    }
    const manifestKey = `${key}/${MANIFEST_NAME}`;
    // A manifest from an earlier upload would vouch for objects this one is about to replace, and
    // an object at the key itself would make the URI read as a file.
    await this.deleteKeys(uri, [manifestKey, key]);
    await eachLimit(files, FILE_CONCURRENCY, (f) => this.putFile(s3Uri(this.bucket, `${key}/${f.path}`), `${key}/${f.path}`, join(localDir, ...f.path.split('/')), f));
    const wanted = new Set(files.map((f) => `${key}/${f.path}`));
    await this.deleteKeys(uri, (await this.list(uri, `${key}/`)).filter((o) => !wanted.has(o.key)).map((o) => o.key));

    const manifest = directoryManifest(files);
    const sha256 = sha256Hex(manifest);
    const size = files.reduce((a, f) => a + f.size, 0);
    const body = Buffer.from(manifest);
    await this.call(uri, () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: manifestKey,
          Body: body,
          ContentLength: body.byteLength,
          ContentType: 'text/plain; charset=utf-8',
          Metadata: { sha256, size: String(size), files: String(files.length), sizes: sizesDigest(files) },
        }),
      ),
    );
    return { uri, kind: 'directory', size, sha256, files };
  }

  /** The whole object, its SHA-256 checked against the one recorded at upload (DIGEST_MISMATCH). */
  async read(uri: string): Promise<Buffer> {
    const key = this.keyOf(uri);
    const got = await this.getBytes(uri, key);
    if (!got) {
      if (await this.head(uri, `${key}/${MANIFEST_NAME}`)) throw new DispatchError('UNSUPPORTED', `${uri} is a directory; read takes a file (downloadDirectory fetches a directory)`);
      throw new DispatchError('ARTIFACT_NOT_FOUND', `${uri} does not exist`);
    }
    this.verify(uri, got.sha256, sha256Hex(got.bytes));
    return got.bytes;
  }

  /**
   * Downloads a file artifact to `localPath` through `localPath.part`. A `.part` left by an earlier
   * try is continued with a ranged GET when the object is the same one (its ETag and size, kept in
   * `localPath.part.json`; without that record, when the recorded SHA-256 can vouch for the
   * result). The SHA-256 is checked before the file is renamed into place.
   */
  async downloadFile(uri: string, localPath: string): Promise<ArtifactInfo> {
    const key = this.keyOf(uri);
    const head = await this.head(uri, key);
    if (!head) {
      if (await this.head(uri, `${key}/${MANIFEST_NAME}`)) throw new DispatchError('UNSUPPORTED', `${uri} is a directory; downloadDirectory downloads it`);
      throw new DispatchError('ARTIFACT_NOT_FOUND', `${uri} does not exist`);
    }
    return this.fetchTo(uri, key, localPath, head, recordedSha256(head));
  }

  /**
   * Downloads a complete directory artifact into `localDir`: every file its manifest lists,
   * skipping files already there with the right SHA-256, each checked against the manifest.
   * Files in `localDir` that the manifest does not list are left alone.
   */
  async downloadDirectory(uri: string, localDir: string): Promise<ArtifactInfo> {
    const key = this.keyOf(uri);
    const info = await this.directoryInfo(uri, key);
    const files = info.files ?? [];
    const unsafe = files.find((f) => !safeManifestPath(f.path));
    if (unsafe) throw new DispatchError('STORE_ERROR', `${uri}: its manifest names "${unsafe.path}", which is not a plain relative path; refusing to download it`);
    await eachLimit(files, FILE_CONCURRENCY, async (f) => {
      const local = join(localDir, ...f.path.split('/'));
      const present = await stat(local).catch(() => null);
      if (present?.isFile() && present.size === f.size && (await fileSha256(local)) === f.sha256) return;
      const fileUri = s3Uri(this.bucket, `${key}/${f.path}`);
      const head = await this.head(fileUri, `${key}/${f.path}`);
      if (!head) throw new DispatchError('ARTIFACT_NOT_FOUND', `${uri} is incomplete: ${fileUri}, listed in its manifest, does not exist`);
      await this.fetchTo(fileUri, `${key}/${f.path}`, local, head, f.sha256);
    });
    return info;
  }

  /**
   * A folder other tools wrote (`aws s3 cp --recursive`, a data pipeline: no ctxlab manifest), as
   * it is now: every object under `<key>/` downloaded into `localDir`, each checked against a
   * recorded SHA-256 when it has one. Returns the digest of what was downloaded. ctxlab's own
   * directory artifacts are read with downloadDirectory, whose manifest proves the upload complete.
   */
  async downloadPrefix(uri: string, localDir: string): Promise<ArtifactInfo> {
    const key = this.keyOf(uri);
    const objects = (await this.list(uri, `${key}/`)).filter((o) => !o.key.endsWith('/') && o.key !== `${key}/${MANIFEST_NAME}`);
    if (objects.length === 0) throw new DispatchError('ARTIFACT_NOT_FOUND', `${uri} holds no objects`);
    const files: ArtifactFile[] = [];
    await eachLimit(objects, FILE_CONCURRENCY, async (o) => {
      const path = o.key.slice(key.length + 1);
      if (!safeManifestPath(path)) throw new DispatchError('STORE_ERROR', `${uri}: object "${o.key}" is not under a plain relative path; refusing to download it`);
      const got = await this.downloadFile(s3Uri(this.bucket, o.key), join(localDir, ...path.split('/')));
      files.push({ path, size: got.size, sha256: got.sha256 });
    });
    files.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
    return { uri, kind: 'directory', size: files.reduce((a, f) => a + f.size, 0), sha256: sha256Hex(directoryManifest(files)), files };
  }

  /** True for an object, or for a directory whose manifest exists (a complete upload). */
  async exists(uri: string): Promise<boolean> {
    const key = this.keyOf(uri);
    return (await this.head(uri, key)) !== null || (await this.head(uri, `${key}/${MANIFEST_NAME}`)) !== null;
  }

  /**
   * A file: its size and recorded SHA-256 (hashed from its bytes when none was recorded). A
   * directory: from its manifest, after checking that every file it lists is in the bucket with
   * the sizes recorded at upload; without a manifest, ARTIFACT_NOT_FOUND (an incomplete upload
   * when objects exist under the prefix).
   */
  async digest(uri: string): Promise<ArtifactInfo> {
    const key = this.keyOf(uri);
    const head = await this.head(uri, key);
    if (!head) return this.directoryInfo(uri, key);
    const size = head.ContentLength ?? 0;
    const recorded = recordedSha256(head);
    if (recorded) return { uri, kind: 'file', size, sha256: recorded };
    const out = await this.call(uri, () => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })));
    const hash = createHash('sha256');
    await this.call(uri, async () => {
      for await (const chunk of out.Body as Readable) hash.update(chunk as Buffer);
    });
    return { uri, kind: 'file', size, sha256: hash.digest('hex') };
  }

  /** Removes the object at `uri` and every object under `<key>/`, a directory's manifest first. */
  async remove(uri: string): Promise<void> {
    const key = this.keyOf(uri);
    await this.deleteKeys(uri, [`${key}/${MANIFEST_NAME}`]);
    const under = await this.list(uri, `${key}/`);
    await this.deleteKeys(uri, [key, ...under.map((o) => o.key)]);
  }

  /**
   * A URL that GETs the file artifact without credentials until it expires (default 15 minutes,
   * at most 7 days), served as an attachment named after the key's last segment.
   */
  async presign(uri: string, opts: { expiresInSeconds?: number } = {}): Promise<string> {
    const key = this.keyOf(uri);
    const expiresIn = opts.expiresInSeconds ?? PRESIGN_DEFAULT_SECONDS;
    if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > PRESIGN_MAX_SECONDS) {
      throw new DispatchError('INVALID_SPEC', `a presigned URL lives 1 to ${PRESIGN_MAX_SECONDS} seconds (7 days), not ${expiresIn}`, 'expiresInSeconds');
    }
    if (!(await this.head(uri, key))) {
      if (await this.head(uri, `${key}/${MANIFEST_NAME}`)) throw new DispatchError('UNSUPPORTED', `${uri} is a directory; presign one of its files`);
      throw new DispatchError('ARTIFACT_NOT_FOUND', `${uri} does not exist`);
    }
    const name = key.slice(key.lastIndexOf('/') + 1);
    const plain = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
    const disposition = `attachment; filename="${plain}"; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
    return this.call(uri, () => getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key, ResponseContentDisposition: disposition }), { expiresIn }));
  }

  // ---- transfers

  private async putFile(uri: string, key: string, localPath: string, file: { size: number; sha256: string }): Promise<void> {
    const hash = createHash('sha256');
    const sent = { bytes: 0 };
    const source = createReadStream(localPath);
    const body = hashing(hash, sent, () => {
      const actual = hash.digest('hex');
      if (actual === file.sha256 && sent.bytes === file.size) return null;
      return new DispatchError('DIGEST_MISMATCH', `${localPath} changed while it was being uploaded to ${uri} (sha256 ${file.sha256} before, ${actual} as read); nothing was kept`);
    });
    source.on('error', (e) => body.destroy(e));
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: source.pipe(body), ContentLength: file.size, Metadata: { sha256: file.sha256 } },
      partSize: UPLOAD_PART_SIZE,
      queueSize: PARTS_IN_FLIGHT,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (e) {
      throw this.failure(uri, e);
    } finally {
      source.destroy();
      body.destroy();
    }
  }

  private async fetchTo(uri: string, key: string, localPath: string, head: HeadObjectCommandOutput, expected: string | undefined): Promise<ArtifactInfo> {
    const size = head.ContentLength ?? 0;
    const part = `${localPath}.part`;
    const record = `${part}.json`;
    const identity = { uri, etag: head.ETag ?? null, size };
    await mkdir(dirname(localPath), { recursive: true });

    let offset = await this.resumableBytes(part, record, identity, expected !== undefined);
    if (offset === 0) await writeFile(part, '');
    await writeFile(record, JSON.stringify(identity));
    let hash = createHash('sha256');
    if (offset > 0) for await (const chunk of createReadStream(part, { end: offset - 1 })) hash.update(chunk as Buffer);

    if (offset < size) {
      await this.call(uri, async () => {
        const out = await this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}), ...(head.ETag ? { IfMatch: head.ETag } : {}) }),
        );
        if (offset > 0 && !out.ContentRange) {
          // The server sent the whole object instead of the range: start the file over.
          await truncate(part, 0);
          hash = createHash('sha256');
          offset = 0;
        }
        await pipeline(out.Body as Readable, hashing(hash, { bytes: 0 }), createWriteStream(part, { flags: 'a' }));
      });
    }
    const got = (await stat(part)).size;
    if (got !== size) throw new DispatchError('STORE_UNAVAILABLE', `${uri}: the download ended after ${got} of ${size} bytes; try again to continue it`);
    const actual = hash.digest('hex');
    if (expected && actual !== expected) {
      await rm(part, { force: true });
      await rm(record, { force: true });
      const resumed = offset > 0 ? ` (continued from byte ${offset} of an earlier try; the next try starts over)` : '';
      throw new DispatchError('DIGEST_MISMATCH', `${uri}: downloaded bytes have sha256 ${actual}, expected ${expected}${resumed}`);
    }
    await rename(part, localPath);
    await rm(record, { force: true });
    return { uri, kind: 'file', size, sha256: actual };
  }

  /** How many bytes of `part` belong to this object version; 0 starts over. */
  private async resumableBytes(part: string, record: string, identity: { uri: string; etag: string | null; size: number }, verifiable: boolean): Promise<number> {
    const have = (await stat(part).catch(() => null))?.size ?? 0;
    if (have === 0 || have > identity.size) return 0;
    const previous = await readFile(record, 'utf8').then((t) => JSON.parse(t) as typeof identity, () => null);
    const same = previous ? previous.uri === identity.uri && previous.etag === identity.etag && previous.size === identity.size : verifiable;
    return same ? have : 0;
  }

  // ---- requests

  /** Object metadata, or null when there is no such object. */
  private async head(uri: string, key: string): Promise<HeadObjectCommandOutput | null> {
    try {
      return await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (e) {
      if (this.isNotFound(e)) return null;
      throw this.failure(uri, e);
    }
  }

  /** A whole object with its recorded SHA-256, or null when there is no such object. */
  private async getBytes(uri: string, key: string): Promise<{ bytes: Buffer; sha256: string | undefined; metadata: Record<string, string> } | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const bytes = Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
      return { bytes, sha256: recordedSha256(out), metadata: out.Metadata ?? {} };
    } catch (e) {
      if (this.isNotFound(e)) return null;
      throw this.failure(uri, e);
    }
  }

  /** Every object under `prefix`, with its size. */
  private async list(uri: string, prefix: string, opts: { firstPage?: boolean } = {}): Promise<{ key: string; size: number }[]> {
    const out: { key: string; size: number }[] = [];
    let token: string | undefined;
    do {
      const page = await this.call(uri, () => this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) })));
      for (const o of page.Contents ?? []) if (o.Key !== undefined) out.push({ key: o.Key, size: o.Size ?? 0 });
      token = page.IsTruncated && !opts.firstPage ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  private async deleteKeys(uri: string, keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const out = await this.call(uri, () => this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })));
      const failed = out.Errors?.[0];
      if (failed) throw new DispatchError('STORE_ERROR', `${uri}: ${this.endpoint} did not delete ${s3Uri(this.bucket, failed.Key ?? '')} (${failed.Code}: ${failed.Message})`);
    }
  }

  /** The directory artifact at `key`, checked complete (see digest). */
  private async directoryInfo(uri: string, key: string): Promise<ArtifactInfo> {
    const got = await this.getBytes(uri, `${key}/${MANIFEST_NAME}`);
    if (!got) {
      if ((await this.list(uri, `${key}/`, { firstPage: true })).length > 0) {
        throw new DispatchError('ARTIFACT_NOT_FOUND', `${uri} is an incomplete upload: objects exist under it but its manifest (${MANIFEST_NAME}, written last) does not; upload the directory again`);
      }
      throw new DispatchError('ARTIFACT_NOT_FOUND', `${uri} does not exist`);
    }
    const manifestUri = s3Uri(this.bucket, `${key}/${MANIFEST_NAME}`);
    const text = got.bytes.toString('utf8');
    const sha256 = sha256Hex(got.bytes);
    this.verify(manifestUri, got.sha256, sha256);
    const listed = text.split('\n').slice(0, -1).map((line, i) => {
      const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
      if (!m) throw new DispatchError('STORE_ERROR', `${manifestUri}: line ${i + 1} is not "<sha256>  <path>"; it is not a ctxlab manifest`);
      return { sha256: m[1] as string, path: m[2] as string };
    });
    const sizes = new Map((await this.list(uri, `${key}/`)).map((o) => [o.key, o.size]));
    const missing = listed.filter((f) => !sizes.has(`${key}/${f.path}`)).map((f) => f.path);
    if (missing.length > 0) {
      const some = missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, … (${missing.length} in all)` : '');
      throw new DispatchError('ARTIFACT_NOT_FOUND', `${uri} is incomplete: its manifest lists files that are not in the bucket: ${some}`);
    }
    const files: ArtifactFile[] = listed.map((f) => ({ path: f.path, size: sizes.get(`${key}/${f.path}`) ?? 0, sha256: f.sha256 }));
    const size = files.reduce((a, f) => a + f.size, 0);
    const recordedSizes = got.metadata.sizes;
    if (recordedSizes && recordedSizes !== sizesDigest(files)) {
      const total = got.metadata.size ? ` (${size} bytes in all now, ${got.metadata.size} recorded)` : '';
      throw new DispatchError('DIGEST_MISMATCH', `${uri}: its files no longer have the sizes recorded when it was uploaded${total}; a file was replaced or truncated since`);
    }
    return { uri, kind: 'directory', size, sha256, files };
  }

  private verify(uri: string, expected: string | undefined, actual: string): void {
    if (expected && expected !== actual) throw new DispatchError('DIGEST_MISMATCH', `${uri}: its bytes have sha256 ${actual}, but ${expected} was recorded when it was written`);
  }

  private async localStat(localPath: string, uri: string) {
    try {
      return await stat(localPath);
    } catch (e) {
      throw new DispatchError('ARTIFACT_NOT_FOUND', `cannot upload ${localPath} to ${uri}: ${(e as Error).message}`, undefined, { cause: e });
    }
  }

  // ---- failures

  private async call<T>(uri: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw this.failure(uri, e);
    }
  }

  private isNotFound(e: unknown): boolean {
    return e instanceof S3ServiceException && e.$metadata.httpStatusCode === 404 && e.name !== 'NoSuchBucket';
  }

  /** A DispatchError naming the URI and the endpoint for whatever the SDK, the network or the disk threw. */
  private failure(uri: string, e: unknown): DispatchError {
    if (e instanceof DispatchError) return e;
    const err = (e ?? {}) as Error & { code?: string; path?: string; syscall?: string };
    const at = `the S3 endpoint ${this.endpoint}`;
    const fail = (code: DispatchErrorCode, text: string) => new DispatchError(code, `${uri}: ${text}`, undefined, { cause: e });

    if (err.name === 'CredentialsProviderError') return fail('NO_CREDENTIALS', `no S3 credentials were found (${err.message}); ${S3_CREDENTIALS_HELP}`);
    if (e instanceof S3ServiceException) {
      const status = e.$metadata.httpStatusCode ?? 0;
      const detail = e.message && e.message !== 'UnknownError' && e.message !== e.name ? `${e.name}: ${e.message}` : e.name;
      if (e.name === 'NoSuchBucket') return fail('NO_STORE', `bucket "${this.bucket}" does not exist at ${at}`);
      if (status === 404) return new DispatchError('ARTIFACT_NOT_FOUND', `${uri} does not exist`, undefined, { cause: e });
      if (status === 401 || status === 403) return fail('STORE_FORBIDDEN', `${at} refused the request (${status} ${detail}); check the credentials and that they may use bucket "${this.bucket}"`);
      if (status === 412) return fail('STORE_ERROR', `the object changed while it was being downloaded; try again`);
      if (status >= 500 || status === 429) return fail('STORE_UNAVAILABLE', `${at} failed (${status} ${detail})`);
      return fail('STORE_ERROR', `${at} answered ${status} ${detail}`);
    }
    if (err.path && err.syscall) return fail('STORE_ERROR', `local file ${err.path}: ${err.message}`);
    switch (err.code) {
      case 'ECONNREFUSED':
        return fail('STORE_UNAVAILABLE', `${at} refused the connection`);
      case 'ECONNRESET':
      case 'EPIPE':
        return fail('STORE_UNAVAILABLE', `the connection to ${at} was dropped (${err.code})`);
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return fail('STORE_UNAVAILABLE', `the host of ${at} could not be resolved (${err.code})`);
      case 'ETIMEDOUT':
      case 'ECONNABORTED':
        return fail('STORE_UNAVAILABLE', `${at} did not answer in time (${err.code})`);
    }
    if (err.name === 'TimeoutError') return fail('STORE_UNAVAILABLE', `${at} did not answer in time (${err.message})`);
    return fail('STORE_ERROR', `request to ${at} failed: ${err.message ?? String(e)}`);
  }
}
