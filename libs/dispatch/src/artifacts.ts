import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { DispatchError } from './errors';
import { fileUri, parseUri, s3Uri } from './uri';

/**
 * Artifacts — models, adapters, datasets, job outputs — are addressed by URI. file:///… URIs live
 * under a local root (a disk or a shared mount); s3://bucket/key URIs under a configured bucket and
 * prefix, served by the store plugged in for them (S3ArtifactStore, ./s3.ts).
 */

/** One file of a directory artifact. */
export interface ArtifactFile {
  /** POSIX path relative to the artifact. */
  path: string;
  size: number;
  sha256: string;
}

/** What an artifact is, by content. */
export interface ArtifactInfo {
  uri: string;
  kind: 'file' | 'directory';
  /** Bytes: the file's size, or the sum over a directory's files. */
  size: number;
  /**
   * Hex SHA-256. A file: of its bytes. A directory: of its manifest — one line
   * `<sha256 of file>  <relative path>\n` per file, sorted by path bytes (what `sha256sum` prints),
   * so the digest changes when any file's content, name or presence does, and not with mtimes.
   */
  sha256: string;
  /** Directories only: every file, in manifest order. */
  files?: ArtifactFile[];
}

/** Storage for one URI scheme. */
export interface ArtifactStore {
  readonly scheme: 'file' | 's3';
  /** Writes bytes to a file artifact (atomically where the backend can). */
  write(uri: string, data: string | Uint8Array): Promise<ArtifactInfo>;
  read(uri: string): Promise<Buffer>;
  exists(uri: string): Promise<boolean>;
  /** Size and SHA-256 of a file, or of a directory's sorted file list (see ArtifactInfo.sha256). */
  digest(uri: string): Promise<ArtifactInfo>;
  remove(uri: string): Promise<void>;
}

const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Hex SHA-256 of a local file, streamed. */
export async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

const byPathBytes = (a: ArtifactFile, b: ArtifactFile) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path));

/** The directory manifest whose SHA-256 is a directory artifact's digest. */
export function directoryManifest(files: readonly ArtifactFile[]): string {
  return [...files]
    .sort(byPathBytes)
    .map((f) => `${f.sha256}  ${f.path}\n`)
    .join('');
}

/**
 * Every file under the local directory `dir`, hashed, in manifest order. Symlinks are followed
 * (Hugging Face snapshots are symlinks into a blob store), each directory once.
 */
export async function directoryFiles(dir: string): Promise<ArtifactFile[]> {
  const out: ArtifactFile[] = [];
  const seen = new Set([await realpath(dir)]);
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at)) {
      const path = join(at, entry);
      const st = await stat(path);
      if (st.isDirectory()) {
        const real = await realpath(path);
        if (seen.has(real)) continue;
        seen.add(real);
        await walk(path);
      } else if (st.isFile()) {
        out.push({ path: relative(dir, path).split(sep).join('/'), size: st.size, sha256: await fileSha256(path) });
      }
    }
  };
  await walk(dir);
  return out.sort(byPathBytes);
}

/** Local files under `root`; file:// URIs outside it are refused (OUTSIDE_ROOT). */
export class LocalArtifactStore implements ArtifactStore {
  readonly scheme = 'file' as const;
  readonly root: string;

  constructor(root: string) {
    if (!isAbsolute(root)) throw new DispatchError('INVALID_SPEC', `artifact root "${root}" must be an absolute path`, 'root');
    this.root = resolve(root);
  }

  /** The local path of a file:// URI under the root. */
  pathOf(uri: string): string {
    const p = parseUri(uri);
    if (p.scheme !== 'file') throw new DispatchError('NO_STORE', `the local artifact store holds file:// URIs, not ${uri}`);
    const path = resolve(p.path);
    const rel = relative(this.root, path);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
      throw new DispatchError('OUTSIDE_ROOT', `${uri} is not under the artifact root ${fileUri(this.root)}`);
    }
    return path;
  }

  async write(uri: string, data: string | Uint8Array): Promise<ArtifactInfo> {
    const path = this.pathOf(uri);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}-${Date.now().toString(36)}`;
    await writeFile(tmp, data);
    await rename(tmp, path);
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    return { uri, kind: 'file', size: bytes.byteLength, sha256: sha256Hex(bytes) };
  }

  async read(uri: string): Promise<Buffer> {
    const path = this.pathOf(uri);
    try {
      return await readFile(path);
    } catch (e) {
      throw this.missing(uri, e);
    }
  }

  async exists(uri: string): Promise<boolean> {
    try {
      await stat(this.pathOf(uri));
      return true;
    } catch (e) {
      if (e instanceof DispatchError) throw e;
      return false;
    }
  }

  async digest(uri: string): Promise<ArtifactInfo> {
    const path = this.pathOf(uri);
    let st;
    try {
      st = await stat(path);
    } catch (e) {
      throw this.missing(uri, e);
    }
    if (st.isFile()) return { uri, kind: 'file', size: st.size, sha256: await fileSha256(path) };
    if (!st.isDirectory()) throw new DispatchError('UNSUPPORTED', `${uri} is neither a file nor a directory`);
    const files = await directoryFiles(path);
    return {
      uri,
      kind: 'directory',
      size: files.reduce((a, f) => a + f.size, 0),
      sha256: sha256Hex(directoryManifest(files)),
      files,
    };
  }

  async remove(uri: string): Promise<void> {
    await rm(this.pathOf(uri), { recursive: true, force: true });
  }

  private missing(uri: string, e: unknown): DispatchError {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return new DispatchError('ARTIFACT_NOT_FOUND', `${uri} does not exist`, undefined, { cause: e });
    if (code === 'EISDIR') return new DispatchError('UNSUPPORTED', `${uri} is a directory; read takes a file`, undefined, { cause: e });
    return new DispatchError('ARTIFACT_NOT_FOUND', `${uri} cannot be read: ${(e as Error).message}`, undefined, { cause: e });
  }
}

/** Where artifacts go: a local root, and optionally a bucket whose store is plugged in. */
export interface ArtifactConfig<S extends ArtifactStore = ArtifactStore> {
  /** Absolute local directory; file:// URIs are minted under it. */
  root: string;
  s3?: { bucket: string; prefix?: string; store?: S };
  /** Scheme `uriFor` mints; default 'file'. */
  defaultScheme?: 'file' | 's3';
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Mints artifact URIs and routes each URI to the store for its scheme. */
export class Artifacts<S extends ArtifactStore = ArtifactStore> {
  readonly local: LocalArtifactStore;
  private readonly s3Config: ArtifactConfig<S>['s3'];
  private readonly scheme: 'file' | 's3';

  constructor(config: ArtifactConfig<S>) {
    this.local = new LocalArtifactStore(config.root);
    this.s3Config = config.s3;
    this.scheme = config.defaultScheme ?? 'file';
    if (this.scheme === 's3' && !this.s3Config) throw new DispatchError('NO_STORE', 'defaultScheme s3 needs an s3 bucket in the artifact config', 's3');
  }

  /** The store plugged in for the configured bucket (with its own methods: uploads, downloads, presigned URLs), if any. */
  get s3(): S | undefined {
    return this.s3Config?.store;
  }

  /** URI for a new artifact from path segments, e.g. uriFor('models', 'llama-3-70b-1048k'). */
  uriFor(...segments: string[]): string {
    for (const s of segments) {
      if (!SEGMENT.test(s)) throw new DispatchError('INVALID_SPEC', `artifact path segment "${s}" must be letters, digits, ".", "_" or "-" (not starting with "." or "-")`);
    }
    if (segments.length === 0) throw new DispatchError('INVALID_SPEC', 'an artifact URI needs at least one path segment');
    if (this.scheme === 's3' && this.s3Config) {
      const prefix = (this.s3Config.prefix ?? '').replace(/^\/+|\/+$/g, '');
      return s3Uri(this.s3Config.bucket, [prefix, ...segments].filter(Boolean).join('/'));
    }
    return fileUri(join(this.local.root, ...segments));
  }

  /** The store for a URI: local for file://, the plugged-in store for the configured bucket; else NO_STORE. */
  storeFor(uri: string): ArtifactStore {
    const p = parseUri(uri);
    if (p.scheme === 'file') return this.local;
    if (p.scheme === 's3') {
      if (!this.s3Config || p.bucket !== this.s3Config.bucket) throw new DispatchError('NO_STORE', `no artifact store is configured for bucket "${p.bucket}" (${uri})`);
      if (!this.s3Config.store) throw new DispatchError('NO_STORE', `bucket "${p.bucket}" is configured for addressing only; plug in an s3 store to read or write ${uri}`);
      return this.s3Config.store;
    }
    throw new DispatchError('NO_STORE', `${uri} is a Hub repository, not a stored artifact`);
  }

  async write(uri: string, data: string | Uint8Array): Promise<ArtifactInfo> {
    return this.storeFor(uri).write(uri, data);
  }
  async read(uri: string): Promise<Buffer> {
    return this.storeFor(uri).read(uri);
  }
  async exists(uri: string): Promise<boolean> {
    return this.storeFor(uri).exists(uri);
  }
  async digest(uri: string): Promise<ArtifactInfo> {
    return this.storeFor(uri).digest(uri);
  }
  async remove(uri: string): Promise<void> {
    return this.storeFor(uri).remove(uri);
  }
}
