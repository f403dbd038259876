import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, posix, relative, resolve } from 'node:path';
import { DispatchError } from '../errors';
import type { RenderedJob } from '../render/types';
import { parseUri } from '../uri';
import { renderedEnvIssues, TOOL_ENV } from './env';

/**
 * What every executor checks on a RenderedJob before it starts anything: the job is data a
 * renderer produced from a member's spec, and a renderer bug must not turn into a command, a
 * variable or a file the spec could not have asked for.
 */

/** A rendered file's path inside the job directory, normalized; OUTSIDE_ROOT when it would leave it. */
export function jobFilePath(path: string): string {
  const norm = posix.normalize(path);
  if (!path || path.startsWith('/') || path.includes('\\') || /[\u0000-\u001f\u007f]/.test(path) || norm === '.' || norm === '..' || norm.startsWith('../')) {
    throw new DispatchError('OUTSIDE_ROOT', `rendered file "${path}" must be a relative path inside the job directory`, 'files');
  }
  return norm;
}

/** Throws INVALID_SPEC / OUTSIDE_ROOT naming the first thing about `job` no spec could have asked for. */
export function checkRenderedJob(job: RenderedJob): void {
  if (!Object.hasOwn(TOOL_ENV, job.tool.id)) throw new DispatchError('UNSUPPORTED', `"${job.tool.id}" is not a tool ctxlab runs`, 'tool.id');
  const [issue] = renderedEnvIssues(job.tool.id, job.env);
  if (issue) throw new DispatchError('INVALID_SPEC', `env.${issue.name}: ${issue.message}`, `env.${issue.name}`);
  if (job.argv.length === 0 || !job.argv[0]) throw new DispatchError('INVALID_SPEC', 'the rendered job has an empty argv', 'argv');
  if (job.argv[0].startsWith('-')) throw new DispatchError('INVALID_SPEC', `the rendered command "${job.argv[0]}" is not a program`, 'argv');
  const nul = job.argv.findIndex((a) => a.includes('\u0000'));
  if (nul >= 0) throw new DispatchError('INVALID_SPEC', `argument ${nul} of the rendered command holds a NUL character`, 'argv');
  for (const f of job.files) jobFilePath(f.path);
  if (job.service && !(Number.isInteger(job.service.port) && job.service.port >= 1024 && job.service.port <= 65535)) {
    throw new DispatchError('INVALID_SPEC', `serve port ${job.service.port} must be 1024–65535`, 'port');
  }
  for (const [i, uri] of writtenUris(job).entries()) parseUri(uri, i < job.outputs.length ? 'output' : 'cache');
}

/** Every URI the job writes: its outputs, then its scratch space. */
export const writtenUris = (job: RenderedJob): string[] => [...job.outputs, ...(job.scratch ?? [])];

/** `path` with symlinks resolved as far as it exists (what a write to it would really touch). */
async function realTarget(path: string): Promise<string> {
  let head = resolve(path);
  const tail: string[] = [];
  for (;;) {
    try {
      return resolve(await realpath(head), ...tail);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
      const up = dirname(head);
      if (up === head) return resolve(path);
      tail.unshift(head.slice(up.length + (up.endsWith('/') ? 0 : 1)));
      head = up;
    }
  }
}

/** True when `path`, symlinks followed, is `root` or inside it (root's own symlinks followed too). */
export async function isInside(root: string, path: string): Promise<boolean> {
  const [r, p] = await Promise.all([realTarget(root), realTarget(path)]);
  const rel = relative(r, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Local jobs run on the worker's host with its user: every file:// URI they write must resolve —
 * symlinks followed — inside one of `roots` (the worker passes its artifact root) or the job's
 * working directory. Other schemes are the store's business (s3) or refused by the spec (hf).
 */
export async function checkLocalWrites(job: RenderedJob, workDir: string, roots: readonly string[]): Promise<void> {
  const allowed = [workDir, ...roots];
  for (const uri of writtenUris(job)) {
    const p = parseUri(uri);
    if (p.scheme !== 'file') continue;
    let inside = false;
    for (const root of allowed) if (await isInside(root, p.path)) inside = true;
    if (!inside) {
      throw new DispatchError('OUTSIDE_ROOT', `${uri} is outside where local jobs may write (${allowed.join(', ')})`, job.outputs.includes(uri) ? 'output' : 'cache');
    }
  }
}
