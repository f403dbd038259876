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
  const files = (info.files ?? []).map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 }));
  if (p.scheme === 'file') return { uri: target, url: null, path: parseUri(target).scheme === 'file' ? (parseUri(target) as { path: string }).path : null, expiresAt: null, sha256: info.sha256, files };
  const store = artifacts.storeFor(uri);
  if (!(store instanceof S3ArtifactStore)) throw badRequest(`${uri}: no S3 store is configured to sign a link`, 'id');
  const seconds = input.expiresInSeconds ?? PRESIGN_DEFAULT_SECONDS;
  const url = await store.presign(target, { expiresInSeconds: seconds });
  return { uri: target, url, path: null, expiresAt: new Date(Date.now() + seconds * 1000).toISOString(), sha256: info.sha256, files };
}
