import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalArtifactStore, S3ArtifactStore, s3ConfigFromEnv } from '@ctxlab/dispatch';
import { startS3Server, type S3TestServer } from '@ctxlab/testing/object-store';
import { stage } from './stage';

const BUCKET = 'stage-test';

/** The stager a Kubernetes job's pod runs, against an S3 server on a local socket. */
describe('stage.ts: s3:// artifacts in and out of a job pod', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctxlab-stage-'));
  let s3: S3TestServer;
  let store: S3ArtifactStore;
  let env: Record<string, string>;

  beforeAll(async () => {
    s3 = await startS3Server({ buckets: [BUCKET] });
    env = { ...s3.env, CTXLAB_ARTIFACT_BUCKET: `s3://${BUCKET}` };
    store = new S3ArtifactStore(s3ConfigFromEnv(env));
    mkdirSync(join(dir, 'model/sub'), { recursive: true });
    writeFileSync(join(dir, 'model/config.json'), '{"rope_theta": 500000}');
    writeFileSync(join(dir, 'model/sub/weights.bin'), Buffer.alloc(300_000, 7));
    await store.uploadDirectory(join(dir, 'model'), `s3://${BUCKET}/models/m`);
  });
  afterAll(async () => {
    await s3?.close();
  });

  it('in: downloads a directory artifact to the path the job reads, with the same digest', async () => {
    expect(await stage(['in', `s3://${BUCKET}/models/m`, join(dir, 'stage/models/m')], env)).toBe(0);
    const local = await new LocalArtifactStore(dir).digest(`file://${join(dir, 'stage/models/m')}`);
    expect(local.sha256).toBe((await store.digest(`s3://${BUCKET}/models/m`)).sha256);
  });

  it('out: waits for the job, uploads on success (manifest last), nothing after a failure or on another rank', async () => {
    mkdirSync(join(dir, 'out/a'), { recursive: true });
    writeFileSync(join(dir, 'out/a/adapter_config.json'), '{"r": 8}');
    const exit = join(dir, 'out/.exit');
    const waiting = stage(['out', '--after', exit, join(dir, 'out/a'), `s3://${BUCKET}/adapters/a`], env, { pollMs: 20 });
    await new Promise((r) => setTimeout(r, 100));
    expect(await store.exists(`s3://${BUCKET}/adapters/a`)).toBe(false);
    writeFileSync(exit, '0\n');
    expect(await waiting).toBe(0);
    expect((await store.read(`s3://${BUCKET}/adapters/a/adapter_config.json`)).toString()).toBe('{"r": 8}');
    expect(await store.exists(`s3://${BUCKET}/adapters/a`)).toBe(true);

    writeFileSync(exit, '137\n');
    expect(await stage(['out', '--after', exit, join(dir, 'out/a'), `s3://${BUCKET}/adapters/b`], env, { pollMs: 20 })).toBe(0);
    expect(await store.exists(`s3://${BUCKET}/adapters/b`)).toBe(false);
    writeFileSync(exit, '0\n');
    expect(await stage(['out', '--after', exit, join(dir, 'out/a'), `s3://${BUCKET}/adapters/c`], { ...env, CTXLAB_NODE_RANK: '1' }, { pollMs: 20 })).toBe(0);
    expect(await store.exists(`s3://${BUCKET}/adapters/c`)).toBe(false);
    await expect(stage(['out', '--after', exit, join(dir, 'out/missing'), `s3://${BUCKET}/adapters/d`], env, { pollMs: 20 })).rejects.toThrow(/wrote nothing at .*out\/missing/);
  });

  it('as a program: a missing artifact exits 1 naming it', async () => {
    const main = resolve(import.meta.dirname, 'stage.ts');
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', main, 'in', `s3://${BUCKET}/models/nope`, join(dir, 'x')], { env: { ...process.env, ...env } });
    const e = (await run.then(() => null, (err: { code: number; stderr: string }) => err))!;
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/s3:\/\/stage-test\/models\/nope/);
    expect(readFileSync(join(dir, 'model/config.json'), 'utf8')).toContain('rope_theta');
  });
});
