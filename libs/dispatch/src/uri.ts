import { isAbsolute, posix } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DispatchError } from './errors';

/**
 * Where models, adapters and datasets live. Every spec names them by URI:
 *   file:///abs/path      a local (or mounted) file or directory
 *   s3://bucket/key       an object-store prefix
 *   hf://org/name         a Hugging Face Hub repository, handed to the tool as `org/name`
 */
export type ParsedUri =
  | { scheme: 'file'; path: string }
  | { scheme: 's3'; bucket: string; key: string }
  | { scheme: 'hf'; repo: string };

const HF_REPO = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;
// AWS bucket naming rules: 3–63 characters, lower-case letters, digits, dots and hyphens.
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function bad(uri: string, why: string, field?: string): DispatchError {
  return new DispatchError('INVALID_SPEC', `"${uri}" is not a usable artifact URI: ${why}`, field);
}

// Control characters would reach command lines, YAML and log lines; a URI never needs them.
const CONTROL = /[\u0000-\u001f\u007f]/;
// A "." or ".." segment, plain or percent-encoded (URL parsers treat %2e%2e as ".." too).
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i;

/**
 * Refuses what would make a URI mean a different place than it reads: dot segments (file:///data/../../root
 * is /root, and an s3 resolver that maps a bucket to a mount would follow "../" too), backslashes (read as
 * "/" in file URLs), query and fragment (dropped from a file URL's path), empty key segments, control characters.
 */
function checkShape(uri: string, path: string, field?: string): void {
  if (CONTROL.test(uri)) throw bad(uri, 'control characters (newline, NUL, …) are not allowed', field);
  if (uri.includes('\\')) throw bad(uri, 'backslashes are not allowed', field);
  if (DOT_SEGMENT.test(path)) throw bad(uri, '"." and ".." segments are not allowed: write the path it means', field);
}

/** Parses an artifact URI; throws INVALID_SPEC naming what is wrong. */
export function parseUri(uri: string, field?: string): ParsedUri {
  if (uri.startsWith('file:')) {
    if (!uri.startsWith('file:///')) throw bad(uri, 'file URIs must be absolute and have no host (file:///path)', field);
    checkShape(uri, uri.slice('file://'.length), field);
    if (/[?#]/.test(uri)) throw bad(uri, 'file URIs take no query or fragment ("?" and "#" must be written %3F and %23)', field);
    let path: string;
    try {
      path = fileURLToPath(uri);
    } catch (e) {
      throw bad(uri, (e as Error).message, field);
    }
    // Decoded: %00 and %0A become NUL and newline here.
    if (CONTROL.test(path)) throw bad(uri, 'control characters (newline, NUL, …) are not allowed', field);
    return { scheme: 'file', path: posix.normalize(path) };
  }
  if (uri.startsWith('s3://')) return { scheme: 's3', ...parseS3(uri, field, true) };
  if (uri.startsWith('hf://')) {
    const repo = uri.slice('hf://'.length);
    if (!HF_REPO.test(repo)) throw bad(uri, 'expected hf://org/name (letters, digits, ".", "_", "-")', field);
    return { scheme: 'hf', repo };
  }
  throw bad(uri, 'expected file:///…, s3://bucket/key or hf://org/name', field);
}

function parseS3(uri: string, field: string | undefined, keyRequired: boolean): { bucket: string; key: string } {
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  if (!S3_BUCKET.test(bucket)) throw bad(uri, `bucket "${bucket}" is not a valid S3 bucket name`, field);
  if (!key && keyRequired) throw bad(uri, 'an S3 URI needs a key after the bucket (s3://bucket/key)', field);
  checkShape(uri, key, field);
  if (key.split('/').slice(0, -1).includes('')) throw bad(uri, 'empty key segments ("//") are not allowed', field);
  return { bucket, key };
}

/**
 * A bucket with an optional key prefix, `s3://bucket` or `s3://bucket/some/prefix` (a trailing "/"
 * allowed), checked as parseUri checks keys. The prefix comes back without slashes at either end.
 */
export function parseS3Prefix(uri: string, field?: string): { bucket: string; prefix: string } {
  if (!uri.startsWith('s3://')) throw bad(uri, 'expected s3://bucket or s3://bucket/prefix', field);
  const { bucket, key } = parseS3(uri.replace(/\/+$/, ''), field, false);
  return { bucket, prefix: key };
}

/** True when `uri` parses. */
export function isArtifactUri(uri: string): boolean {
  try {
    parseUri(uri);
    return true;
  } catch {
    return false;
  }
}

/** file:// URI for an absolute local path (percent-encoded as WHATWG URLs are). */
export function fileUri(absPath: string): string {
  if (!isAbsolute(absPath)) throw new DispatchError('INVALID_SPEC', `"${absPath}" is not an absolute path`);
  return pathToFileURL(absPath).href;
}

export const s3Uri = (bucket: string, key: string): string => `s3://${bucket}/${key.replace(/^\/+/, '')}`;
export const hfUri = (repo: string): string => `hf://${repo}`;

/**
 * Turns a URI into the string a tool's command line takes. The default: file → path, hf → repo id;
 * s3 has no default, because every tool here reads local paths or the Hub: pass a resolver that maps
 * the bucket to where it is mounted or staged.
 */
export type UriResolver = (uri: string, field: string) => string;

export const defaultUriResolver: UriResolver = (uri, field) => {
  const p = parseUri(uri, field);
  if (p.scheme === 'file') return p.path;
  if (p.scheme === 'hf') return p.repo;
  throw new DispatchError(
    'UNRESOLVED_URI',
    `${field}: ${uri} must be staged to a local path before the job can read it; give the renderer a resolver that maps s3:// URIs (e.g. to a mounted bucket)`,
    field,
  );
};
