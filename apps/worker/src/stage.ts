/**
 * The stager of Kubernetes jobs that read or write s3:// artifacts (libs/dispatch's manifests run it
 * in the job's pod, from an image with this checkout):
 *
 *   stage.ts in  URI PATH [URI PATH …]                   download each artifact (file or directory) to PATH, digests checked
 *   stage.ts out --after EXIT_FILE PATH URI [PATH URI …]  wait for the job's exit status; on 0, upload each PATH
 *                                                         (a directory's manifest last); on rank > 0, or a failed job, upload nothing
 *
 * S3 settings come from the environment as for the worker (CTXLAB_ARTIFACT_BUCKET, AWS_*).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { NODE_RANK_ENV, S3ArtifactStore, s3ConfigFromEnv } from '@ctxlab/dispatch';

const log = (line: string) => console.log(`[stage] ${line}`);

function pairs(args: string[], what: string): [string, string][] {
  if (args.length === 0 || args.length % 2 !== 0) throw new Error(`expected ${what} pairs, got ${args.length} argument(s)`);
  const out: [string, string][] = [];
  for (let i = 0; i < args.length; i += 2) out.push([args[i]!, args[i + 1]!]);
  return out;
}

async function waitForExit(file: string, everyMs: number): Promise<number> {
  while (!existsSync(file)) await new Promise((r) => setTimeout(r, everyMs));
  const text = readFileSync(file, 'utf8').trim();
  const rc = Number(text);
  if (!Number.isInteger(rc)) throw new Error(`${file} holds "${text}", not an exit status`);
  return rc;
}

export async function stage(argv: string[], env: Readonly<Record<string, string | undefined>> = process.env, opts: { pollMs?: number } = {}): Promise<number> {
  const [mode, ...rest] = argv;
  const store = new S3ArtifactStore(s3ConfigFromEnv(env));
  if (mode === 'in') {
    for (const [uri, path] of pairs(rest, 'URI PATH')) {
      const info = await store.digest(uri);
      await mkdir(dirname(path), { recursive: true });
      if (info.kind === 'directory') await store.downloadDirectory(uri, path);
      else await store.downloadFile(uri, path);
      log(`staged ${uri} (${info.kind}, ${info.size} bytes, sha256 ${info.sha256}) at ${path}`);
    }
    return 0;
  }
  if (mode === 'out') {
    if (rest[0] !== '--after' || !rest[1]) throw new Error('usage: stage.ts out --after EXIT_FILE PATH URI [PATH URI …]');
    const outputs = pairs(rest.slice(2), 'PATH URI');
    const rc = await waitForExit(rest[1], opts.pollMs ?? 2000);
    const rank = env[NODE_RANK_ENV];
    if (rc !== 0) {
      log(`the job exited ${rc}: nothing is uploaded`);
      return 0;
    }
    if (rank !== undefined && rank !== '' && rank !== '0') {
      log(`rank ${rank}: rank 0 uploads the outputs`);
      return 0;
    }
    for (const [path, uri] of outputs) {
      const st = await stat(path).catch(() => null);
      if (!st) throw new Error(`the job succeeded but wrote nothing at ${path} (its output ${uri})`);
      const info = st.isDirectory() ? await store.uploadDirectory(path, uri) : await store.uploadFile(path, uri);
      log(`uploaded ${path} to ${uri} (${info.kind}, ${info.size} bytes, sha256 ${info.sha256})`);
    }
    return 0;
  }
  throw new Error(`unknown mode ${mode ?? '(none)'}: use in or out`);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  stage(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`[stage] ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
