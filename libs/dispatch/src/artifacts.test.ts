import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Artifacts, directoryManifest, LocalArtifactStore, type ArtifactStore } from './artifacts';
import { fileUri, parseUri } from './uri';
import { rejection } from './testing/thrown';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ctxlab-artifacts-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('URIs', () => {
  it('parses the three schemes and refuses the rest with a reason', () => {
    expect(parseUri('file:///artifacts/models/a%20b')).toEqual({ scheme: 'file', path: '/artifacts/models/a b' });
    expect(parseUri('s3://ctxlab-models/llama/3')).toEqual({ scheme: 's3', bucket: 'ctxlab-models', key: 'llama/3' });
    expect(parseUri('hf://meta-llama/Meta-Llama-3-8B')).toEqual({ scheme: 'hf', repo: 'meta-llama/Meta-Llama-3-8B' });
    expect(() => parseUri('file://host/x')).toThrow(/no host/);
    expect(() => parseUri('s3://Bad_Bucket/x')).toThrow(/not a valid S3 bucket name/);
    expect(() => parseUri('s3://bucket')).toThrow(/needs a key/);
    expect(() => parseUri('/plain/path')).toThrow(/expected file:\/\/\//);
    expect(fileUri('/a b/c')).toBe('file:///a%20b/c');
  });
});

describe('local artifact store', () => {
  it('writes atomically, reads back, and digests a file', async () => {
    const a = new Artifacts({ root });
    const uri = a.uriFor('adapters', 'r32', 'adapter_config.json');
    expect(uri).toBe(fileUri(join(root, 'adapters/r32/adapter_config.json')));
    const info = await a.write(uri, '{"r": 32}\n');
    expect(info).toEqual({ uri, kind: 'file', size: 10, sha256: sha('{"r": 32}\n') });
    expect((await a.read(uri)).toString()).toBe('{"r": 32}\n');
    expect(await a.digest(uri)).toEqual(info);
    expect(await a.exists(uri)).toBe(true);
    await a.remove(uri);
    expect(await a.exists(uri)).toBe(false);
  });

  it('digests a directory from its sorted file list; stable under mtime, sensitive to names and content', async () => {
    const store = new LocalArtifactStore(root);
    const dir = join(root, 'models', 'm');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'config.json'), '{}');
    writeFileSync(join(dir, 'sub', 'b.bin'), 'bb');
    writeFileSync(join(dir, 'a.bin'), 'a');
    const uri = fileUri(dir);
    const info = await store.digest(uri);
    const files = [
      { path: 'a.bin', size: 1, sha256: sha('a') },
      { path: 'config.json', size: 2, sha256: sha('{}') },
      { path: 'sub/b.bin', size: 2, sha256: sha('bb') },
    ];
    expect(info.kind).toBe('directory');
    expect(info.files).toEqual(files);
    expect(info.size).toBe(5);
    const manifest = `${sha('a')}  a.bin\n${sha('{}')}  config.json\n${sha('bb')}  sub/b.bin\n`;
    expect(directoryManifest(files)).toBe(manifest);
    expect(info.sha256).toBe(sha(manifest));

    writeFileSync(join(dir, 'a.bin'), 'a'); // same content, new mtime
    expect((await store.digest(uri)).sha256).toBe(info.sha256);
    writeFileSync(join(dir, 'a.bin'), 'A');
    expect((await store.digest(uri)).sha256).not.toBe(info.sha256);
  });

  it('follows symlinked files (Hub snapshots) and does not loop on a directory cycle', async () => {
    const store = new LocalArtifactStore(root);
    mkdirSync(join(root, 'blobs'));
    writeFileSync(join(root, 'blobs', 'x'), 'weights');
    const snap = join(root, 'snap');
    mkdirSync(snap);
    symlinkSync(join(root, 'blobs', 'x'), join(snap, 'model.safetensors'));
    symlinkSync(snap, join(snap, 'loop'));
    const info = await store.digest(fileUri(snap));
    expect(info.files).toEqual([{ path: 'model.safetensors', size: 7, sha256: sha('weights') }]);
  });

  it('refuses URIs outside the root and reports missing artifacts', async () => {
    const a = new Artifacts({ root });
    expect((await rejection(a.read('file:///etc/passwd'))).code).toBe('OUTSIDE_ROOT');
    expect((await rejection(a.write(fileUri(join(root, '..', 'escape')), 'x'))).code).toBe('OUTSIDE_ROOT');
    const missing = await rejection(a.digest(a.uriFor('nope')));
    expect(missing.code).toBe('ARTIFACT_NOT_FOUND');
    expect(missing.message).toMatch(/does not exist/);
    expect(() => a.uriFor('..')).toThrow(/path segment/);
  });
});

describe('s3 addressing', () => {
  it('mints s3 URIs under bucket/prefix; without a store it says so', async () => {
    const a = new Artifacts({ root, s3: { bucket: 'ctxlab-artifacts', prefix: '/prod/' }, defaultScheme: 's3' });
    const uri = a.uriFor('models', 'llama-3-70b-1048k');
    expect(uri).toBe('s3://ctxlab-artifacts/prod/models/llama-3-70b-1048k');
    const e = await rejection(a.read(uri));
    expect(e.code).toBe('NO_STORE');
    expect(e.message).toMatch(/addressing only/);
    expect(() => a.storeFor('s3://other-bucket/k')).toThrow(/no artifact store is configured for bucket "other-bucket"/);
  });

  it('routes s3 URIs to a plugged-in store', async () => {
    const objects = new Map<string, Buffer>();
    const memory: ArtifactStore = {
      scheme: 's3',
      async write(uri, data) {
        const b = Buffer.from(data);
        objects.set(uri, b);
        return { uri, kind: 'file', size: b.length, sha256: sha(b.toString()) };
      },
      async read(uri) {
        return objects.get(uri)!;
      },
      async exists(uri) {
        return objects.has(uri);
      },
      async digest(uri) {
        const b = objects.get(uri)!;
        return { uri, kind: 'file', size: b.length, sha256: sha(b.toString()) };
      },
      async remove(uri) {
        objects.delete(uri);
      },
    };
    const a = new Artifacts({ root, s3: { bucket: 'ctxlab-artifacts', store: memory } });
    expect(a.uriFor('x')).toBe(fileUri(join(root, 'x')));
    await a.write('s3://ctxlab-artifacts/runs/1/log.txt', 'hello');
    expect((await a.read('s3://ctxlab-artifacts/runs/1/log.txt')).toString()).toBe('hello');
  });
});
