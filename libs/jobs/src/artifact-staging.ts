/**
 * Artifacts a worker reads or writes by URI, staged on its disk: file:// URIs are local already;
 * s3:// ones are downloaded before the work (resumable, each file's digest checked) and uploaded
 * after it (the directory's manifest last, so a failed upload leaves nothing that counts as stored).
 */
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type ArtifactInfo, Artifacts, defaultUriResolver, DispatchError, parseUri, S3ArtifactStore, s3ConfigFromEnv, type UriResolver } from '@ctxlab/dispatch';

/**
 * The artifact stores of a process (API or worker): file:// under `root`, and with
 * CTXLAB_ARTIFACT_BUCKET set (s3://bucket/prefix), that bucket on S3 through the usual AWS_*
 * variables — then new artifacts are minted there. Without it everything stays on local files.
 */
export function artifactsFromEnv(root: string, env: Readonly<Record<string, string | undefined>> = process.env): Artifacts {
  if (!env.CTXLAB_ARTIFACT_BUCKET?.trim()) return new Artifacts({ root });
  const config = s3ConfigFromEnv(env);
  return new Artifacts({ root, s3: { bucket: config.bucket, prefix: config.prefix ?? '', store: new S3ArtifactStore(config) }, defaultScheme: 's3' });
}

function s3StoreFor(artifacts: Artifacts, uri: string): S3ArtifactStore {
  const store = artifacts.storeFor(uri);
  if (!(store instanceof S3ArtifactStore)) throw new DispatchError('NO_STORE', `${uri}: the store for it cannot stage files`);
  return store;
}

/** Every s3:// URI a job spec names (inputs and outputs), wherever it sits in the spec. */
export function s3UrisOf(v: unknown): string[] {
  if (typeof v === 'string') return v.startsWith('s3://') ? [v] : [];
  if (Array.isArray(v)) return [...new Set(v.flatMap(s3UrisOf))];
  if (v && typeof v === 'object') return [...new Set(Object.values(v).flatMap(s3UrisOf))];
  return [];
}

/** Where an s3:// URI is staged under `root`: <root>/<bucket>/<key>. */
export function stagedPath(root: string, uri: string): string {
  const p = parseUri(uri);
  if (p.scheme === 'file') return p.path;
  if (p.scheme !== 's3') throw new DispatchError('UNRESOLVED_URI', `${uri} is not a stored artifact (file:// or s3://)`);
  return join(root, p.bucket, ...p.key.replace(/\/+$/, '').split('/'));
}

/** Renders s3:// URIs as their staged paths under `root` (file:// and hf:// as usual). */
export function stagingResolver(root: string): UriResolver {
  return (uri, field) => (uri.startsWith('s3://') ? stagedPath(root, uri) : defaultUriResolver(uri, field));
}

/**
 * The local path of an input artifact: a file:// URI's own path; an s3:// URI's file or directory
 * downloaded to its staged path under `root` (files already there with the right digest are kept).
 * With `foreign`, an s3:// folder that other tools wrote (no ctxlab manifest: training data a
 * person uploaded) is read as it is; otherwise only complete ctxlab artifacts are.
 */
export async function stageIn(artifacts: Artifacts, uri: string, root: string, opts: { foreign?: boolean } = {}): Promise<{ path: string; info: ArtifactInfo | null }> {
  const p = parseUri(uri);
  if (p.scheme === 'file') return { path: p.path, info: null };
  const store = s3StoreFor(artifacts, uri);
  const path = stagedPath(root, uri);
  await mkdir(dirname(path), { recursive: true });
  let info: ArtifactInfo;
  try {
    info = await store.digest(uri);
  } catch (e) {
    if (opts.foreign && e instanceof DispatchError && e.code === 'ARTIFACT_NOT_FOUND') return { path, info: await store.downloadPrefix(uri, path) };
    throw e;
  }
  if (info.kind === 'directory') await store.downloadDirectory(uri, path);
  else await store.downloadFile(uri, path);
  return { path, info };
}

const isDirectory = async (path: string) => (await stat(path)).isDirectory();

/**
 * Publishes a finished local output at `uri`: s3:// is uploaded (a directory's manifest last);
 * file:// is moved into place (refused if something is already there). Returns its digest.
 */
export async function stageOut(artifacts: Artifacts, localPath: string, uri: string): Promise<ArtifactInfo> {
  const p = parseUri(uri);
  if (p.scheme === 's3') {
    const store = s3StoreFor(artifacts, uri);
    return (await isDirectory(localPath)) ? store.uploadDirectory(localPath, uri) : store.uploadFile(localPath, uri);
  }
  if (p.scheme !== 'file') throw new DispatchError('UNRESOLVED_URI', `${uri}: outputs go to file:// or s3:// locations`);
  const target = artifacts.local.pathOf(uri);
  if (await artifacts.local.exists(uri)) throw new DispatchError('INVALID_SPEC', `${uri} already exists; an output never overwrites one`);
  await mkdir(dirname(target), { recursive: true });
  await rename(localPath, target);
  return artifacts.local.digest(uri);
}

/** Takes back an output published by stageOut (its registration failed). */
export async function unpublish(artifacts: Artifacts, uri: string): Promise<void> {
  await artifacts.remove(uri).catch(() => undefined);
}

/** Removes a job's staging directory. */
export async function clearStaging(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true }).catch(() => undefined);
}

/** Where an imported tokenizer folder (ARTIFACTS_DIR/tokenizers/<id>) is kept in the bucket. */
const tokenizerUri = (artifacts: Artifacts, dir: string) => artifacts.uriFor('tokenizers', basename(dir));

/** Stores an imported tokenizer folder in the bucket too, when there is one (once per folder). */
export async function publishTokenizer(artifacts: Artifacts, dir: string): Promise<void> {
  const store = artifacts.s3;
  if (!(store instanceof S3ArtifactStore)) return;
  const uri = tokenizerUri(artifacts, dir);
  if (!(await store.exists(uri))) await store.uploadDirectory(dir, uri);
}

/**
 * Makes an `hf:<dir>` tokenizer loadable on this machine: a folder the portal imported elsewhere
 * is fetched from the bucket into the same path (portal and workers run one image, so one layout).
 * Built-in names and folders already here are left alone.
 */
export async function ensureTokenizer(artifacts: Artifacts | undefined, name: string): Promise<void> {
  if (!name.startsWith('hf:')) return;
  const dir = name.slice('hf:'.length);
  if (existsSync(join(dir, 'tokenizer.json'))) return;
  const store = artifacts?.s3;
  if (!artifacts || !(store instanceof S3ArtifactStore)) return;
  const uri = tokenizerUri(artifacts, dir);
  if (await store.exists(uri)) await store.downloadDirectory(uri, dir);
}
