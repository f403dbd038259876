import { stat } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { badRequest, type ArtifactLinkInput } from '@ctxlab/contracts';
import { type Artifacts, MANIFEST_NAME, parseUri, PRESIGN_DEFAULT_SECONDS, S3ArtifactStore } from '@ctxlab/dispatch';

/**
 * A short-lived download link for a stored artifact, or for one file of a directory artifact. On
 * S3 it is a pre-signed GET that the browser fetches from the store itself (no credentials or bytes
 * pass through ctxlab); a file:// artifact lives on the server's disk, so its path is returned instead.
 */
export async function artifactLink(artifacts: Artifacts, what: string, uri: string | null, input: ArtifactLinkInput) {
  if (!uri) throw badRequest(`${what} has no stored artifact (no uri)`, 'id');
  const p = parseUri(uri, 'uri');
  if (p.scheme === 'hf') throw badRequest(`${what} is on the Hugging Face Hub (${uri}): download it from there`, 'id');
  if (p.scheme === 'file' && input.file) {
    // One local file: where it is, without hashing the whole artifact.
    const root = artifacts.local.pathOf(uri);
    const path = resolve(root, input.file);
    const st = await stat(path).catch(() => null);
    if (relative(root, path).startsWith('..') || !st?.isFile()) throw badRequest(`file: ${input.file} is not a file of ${what}`, 'file');
    return { uri: pathToFileURL(path).href, url: null, path, expiresAt: null, sha256: null, files: [{ path: input.file, size: st.size, sha256: null }] };
  }
  const info = await artifacts.digest(uri);
  let target = uri;
  if (info.kind === 'directory') {
    if (input.file) {
      const f = info.files?.find((x) => x.path === input.file);
      if (!f) throw badRequest(`file: ${input.file} is not a file of ${what} (its files: ${(info.files ?? []).slice(0, 5).map((x) => x.path).join(', ')}${(info.files?.length ?? 0) > 5 ? ', …' : ''})`, 'file');
      target = `${uri.replace(/\/+$/, '')}/${f.path}`;
    } else if (p.scheme === 's3') {
      target = `${uri.replace(/\/+$/, '')}/${MANIFEST_NAME}`;
    }
  } else if (input.file) {
    throw badRequest(`file: ${what} is a single file; ask for it without a file`, 'file');
  }
  const files: { path: string; size: number; sha256: string | null }[] = (info.files ?? []).map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 }));
  if (p.scheme === 'file') return { uri: target, url: null, path: artifacts.local.pathOf(target), expiresAt: null, sha256: info.sha256 as string | null, files };
  const store = artifacts.storeFor(uri);
  if (!(store instanceof S3ArtifactStore)) throw badRequest(`${uri}: no S3 store is configured to sign a link`, 'id');
  const seconds = input.expiresInSeconds ?? PRESIGN_DEFAULT_SECONDS;
  const url = await store.presign(target, { expiresInSeconds: seconds });
  return { uri: target, url, path: null as string | null, expiresAt: new Date(Date.now() + seconds * 1000).toISOString(), sha256: info.sha256 as string | null, files };
}
