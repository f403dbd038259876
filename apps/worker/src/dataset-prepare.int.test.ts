import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDeps, createCaller } from '@ctxlab/api';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { S3ArtifactStore, s3ConfigFromEnv } from '@ctxlab/dispatch';
import { seed } from '@ctxlab/testing/seed';
import { startS3Server, type S3TestServer } from '@ctxlab/testing/object-store';
import { resetDb, testRepos, testSettings } from '@ctxlab/testing/db';
import { jobFinished, startWorker, stopWorker } from '@ctxlab/testing/worker';
import { getTokenizer } from '@ctxlab/tokenizers';

const prefix = `dataprep-${process.pid}`;
const repos = testRepos();
const BUCKET = 'ctxlab-data';
const SEQ = 256;

/** Paragraph-ish English documents of varied lengths, deterministic. */
function essays(n: number, seed: number): string[] {
  const words = ['context', 'window', 'rotary', 'position', 'base', 'needle', 'haystack', 'ring', 'attention', 'stage', 'token', 'length', 'scaling', 'model', 'train', 'data'];
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31);
  return Array.from({ length: n }, (_, i) => {
    const len = 40 + (next() % (i % 3 === 0 ? 900 : 120));
    return `Doc ${seed}-${i}: ` + Array.from({ length: len }, () => words[next() % words.length]).join(' ') + '.';
  });
}

/**
 * Training data preparation as a job: sources from three places (an imported corpus in PostgreSQL,
 * a JSONL file on disk, a chat JSONL in S3), tokenised with Llama-3, up-sampled, mixed and packed by
 * the worker into EasyContext shards in S3, registered with lineage; read back and checked against
 * the tokenizer; a recipe stage's data recipe feeds `dispatch stage`.
 */
describe('datasets.prepare through the queue and a worker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctxlab-dataprep-'));
  let s3: S3TestServer;
  let worker: ChildProcess & { output: () => string };
  let store: S3ArtifactStore;
  let env: Record<string, string>;
  const api = () => createCaller({ ...apiDeps({ ...testSettings(), queuePrefix: prefix, artifactsDir: join(dir, 'artifacts'), artifactEnv: env }), actor: null, source: 'internal' });
  const finished = (jobId: string) => jobFinished(repos, jobId, 180_000, 250);
  const tok = getTokenizer('llama3');
  const sourceTexts: string[] = [];

  beforeAll(async () => {
    await resetDb();
    await seed(repos.db);
    s3 = await startS3Server({ buckets: [BUCKET] });
    env = { ...s3.env, CTXLAB_ARTIFACT_BUCKET: `s3://${BUCKET}/prepared` };
    store = new S3ArtifactStore(s3ConfigFromEnv({ ...s3.env, CTXLAB_ARTIFACT_BUCKET: `s3://${BUCKET}` }));
    // EasyContext's launcher as a stand-in that speaks its command line: it checks that the dataset
    // it is given holds shards, writes a model directory at --output-dir and prints a training step.
    mkdirSync(join(dir, 'bin'), { recursive: true });
    writeFileSync(
      join(dir, 'bin/accelerate'),
      ['#!/bin/sh', 'while [ $# -gt 0 ]; do case "$1" in --dataset) ds="$2";; --output-dir) out="$2";; esac; shift; done',
        'ls "$ds"/data/train-*.jsonl >/dev/null 2>&1 || { echo "no shards in $ds" >&2; exit 3; }',
        'mkdir -p "$out" && echo \'{"rope_theta": 500000}\' > "$out/config.json" && echo "step 1/1 loss 2.5"'].join('\n') + '\n',
      { mode: 0o755 },
    );
    worker = startWorker(prefix, { JOBS_DIR: join(dir, 'jobs'), ARTIFACTS_DIR: join(dir, 'artifacts'), PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}`, ...env });
    // 1. An imported corpus: its documents live in PostgreSQL.
    const corpus = essays(30, 1);
    await api().datasets.importCorpus({ name: 'essays', source: 'test', documents: corpus.map((text, i) => ({ name: `e${i}.txt`, text })) });
    // 2. JSONL with a text field, on disk, registered by its file:// URI.
    const web = essays(40, 2);
    mkdirSync(join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'src/web.jsonl'), web.map((text, i) => JSON.stringify({ id: i, text })).join('\n') + '\n');
    await api().datasets.create({ name: 'web', kind: 'training-mix', source: 'test', uri: pathToFileURL(join(dir, 'src/web.jsonl')).href });
    // 3. Chat JSONL in S3.
    const chats = essays(20, 3).map((a, i) => ({ messages: [{ role: 'user', content: `Question ${i}?` }, { role: 'assistant', content: a }] }));
    writeFileSync(join(dir, 'src/chat.jsonl'), chats.map((c) => JSON.stringify(c)).join('\n') + '\n');
    await store.uploadFile(join(dir, 'src/chat.jsonl'), `s3://${BUCKET}/raw/chat.jsonl`);
    await api().datasets.create({ name: 'chats', kind: 'training-mix', source: 'test', uri: `s3://${BUCKET}/raw/chat.jsonl` });
    sourceTexts.push(...corpus, ...web, ...chats.flatMap((c) => c.messages.map((m) => m.content)));
  }, 60_000);
  afterAll(async () => {
    if (worker) await stopWorker(worker);
    await s3?.close();
  });

  it('prepares a mix into EasyContext shards in S3, registered with digest, stats and lineage; every record decodes to the sources', async () => {
    const r = await api().datasets.prepare({
      name: 'mix-256', tokenizer: 'llama3', seqLength: SEQ,
      data: { sources: [{ dataset: 'essays', ratio: 0.5, lengthUpsample: { thresholdTokens: 200, keepShort: 0.5 } }, { dataset: 'web', ratio: 0.3 }, { dataset: 'chats', ratio: 0.2, kind: 'chat-jsonl' }], format: 'easycontext', maxTokens: 20 * (SEQ + 1), seed: 7 },
    });
    expect((r.job.spec as { output: string }).output).toBe(`s3://${BUCKET}/prepared/datasets/mix-256`);
    const job = await finished(r.job.id);
    expect(job.status, `${job.error ?? ''}\n${worker.output().slice(-2000)}`).toBe('succeeded');
    const d = (await repos.datasets.getByName('mix-256'))!;
    expect(d).toMatchObject({ kind: 'training-mix', uri: `s3://${BUCKET}/prepared/datasets/mix-256`, jobId: r.job.id });
    expect(d.digest).toBe(`sha256:${(await store.digest(d.uri!)).sha256}`);
    const p = d.prepared as { tokens: number; sequences: number; perSource: Record<string, { tokensOut: number; lengthHistogram: { documents: number }[] }> };
    // Reading stops once 20 sequences' worth of tokens went in; whole sequences of seq_length + 1 come out.
    expect(p.sequences).toBeGreaterThanOrEqual(20);
    expect(p.sequences).toBeLessThanOrEqual(24);
    expect(p.tokens).toBe(p.sequences * (SEQ + 1));
    expect(Object.keys(p.perSource).sort()).toEqual(['chats', 'essays', 'web']);
    // The shares of the written tokens follow the ratios (within what whole documents allow).
    expect(p.perSource.essays!.tokensOut / p.tokens).toBeGreaterThan(0.3);
    expect(p.perSource.chats!.tokensOut / p.tokens).toBeGreaterThan(0.05);
    expect(p.perSource.essays!.lengthHistogram.reduce((a, b) => a + b.documents, 0)).toBeGreaterThan(0);
    const lineage = await api().datasets.lineage({ id: d.id });
    expect(lineage.sources.map((s) => [s.name, s.ratio]).sort()).toEqual([['chats', 0.2], ['essays', 0.5], ['web', 0.3]]);
    expect((await api().datasets.lineage({ id: (await repos.datasets.getByName('web'))!.id })).derived.map((x) => x.name)).toEqual(['mix-256']);

    // Read back: every record is seq_length + 1 Llama-3 ids, and each document piece between separators is text of a source.
    const local = join(dir, 'check/mix-256');
    await store.downloadDirectory(d.uri!, local);
    const shards = readdirSync(join(local, 'data')).filter((f) => f.endsWith('.jsonl'));
    expect(shards.length).toBeGreaterThan(0);
    const records = shards.flatMap((f) => readFileSync(join(local, 'data', f), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { input_ids: number[] }).input_ids));
    expect(records).toHaveLength(p.sequences);
    const all = sourceTexts.join('\n');
    const bos = tok.special.bos.id;
    const eos = tok.special.eos.id;
    for (const ids of records) {
      expect(ids).toHaveLength(SEQ + 1);
      let piece: number[] = [];
      const flush = () => {
        const text = tok.decode(Uint32Array.from(piece)).trim();
        // Pieces are whole or cut documents (chat turns come with their template's markers, dropped here).
        const words = text.replace(/<\|[^|]*\|>/g, ' ').split(/\s+/).filter((w) => /^[a-z]{4,}\.?$/.test(w));
        for (const w of words.slice(1, -1).map((x) => x.replace(/\.$/, ''))) if (w !== 'assistant' && w !== 'user') expect(all).toContain(w);
        piece = [];
      };
      for (const id of ids) {
        if (id === bos || id === eos) flush();
        else piece.push(id);
      }
      flush();
    }
    const link = await api().datasets.download({ id: d.id, file: `data/${shards[0]}` });
    expect(link.url).toMatch(/X-Amz-Signature=/);
    expect((await (await fetch(link.url!)).text()).split('\n')[0]).toContain('"input_ids"');
  }, 240_000);

  it('a broken source fails the job naming the file and line, and registers nothing', async () => {
    writeFileSync(join(dir, 'src/bad.jsonl'), '{"text": "fine"}\n{"text": broken\n');
    await api().datasets.create({ name: 'bad', kind: 'training-mix', source: 'test', uri: pathToFileURL(join(dir, 'src/bad.jsonl')).href });
    const r = await api().datasets.prepare({ name: 'mix-bad', seqLength: SEQ, data: { sources: [{ dataset: 'bad' }] } });
    const job = await finished(r.job.id);
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/bad\.jsonl:2: invalid JSON/);
    expect(await repos.datasets.getByName('mix-bad')).toBeNull();
    expect(await store.exists(`s3://${BUCKET}/prepared/datasets/mix-bad`)).toBe(false);
  }, 120_000);

  it('reads an S3 folder another tool uploaded (no ctxlab manifest) as a source', async () => {
    // As `aws s3 cp --recursive` leaves it: plain objects, no sha256 metadata, no manifest.
    for (const [i, text] of essays(6, 4).entries()) {
      await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `raw/folder/part-${i}.txt`, Body: text }));
    }
    await api().datasets.create({ name: 'raw-folder', kind: 'training-mix', source: 'aws s3 cp', uri: `s3://${BUCKET}/raw/folder/` });
    const r = await api().datasets.prepare({ name: 'from-raw', seqLength: 64, data: { sources: [{ dataset: 'raw-folder' }] } });
    const job = await finished(r.job.id);
    expect(job.status, job.error ?? '').toBe('succeeded');
    const d = (await repos.datasets.getByName('from-raw'))!;
    expect((d.prepared as { perSource: Record<string, { documents: number }> }).perSource['raw-folder']!.documents).toBe(6);
  }, 120_000);

  it('refuses what cannot be prepared before queueing anything', async () => {
    const fail = (p: Promise<unknown>) => p.then(() => null, (e: Error) => e.message);
    expect(await fail(api().datasets.prepare({ name: 'x', seqLength: SEQ, data: { sources: [{ dataset: 'nope' }] } }))).toMatch(/data.sources.0.dataset: no dataset is named nope/);
    expect(await fail(api().datasets.prepare({ name: 'x', seqLength: SEQ, data: { sources: [{ dataset: 'web', ratio: 0.5 }, { dataset: 'essays', ratio: 0.4 }] } }))).toMatch(/ratios sum to 0.9/);
    expect(await fail(api().datasets.prepare({ name: 'mix-256', seqLength: SEQ, data: { sources: [{ dataset: 'web' }] } }))).toMatch(/a dataset named mix-256 already exists/);
    expect(await fail(api().datasets.prepare({ name: 'x', data: { sources: [{ dataset: 'web' }] } }))).toMatch(/seqLength: give the sequence length/);
  });

  it("a recipe stage's data recipe is prepared for the stage, and dispatch stage renders training on it", async () => {
    const base = (await repos.recipes.getByName('gradient-llama3-70b-1048k'))!;
    const stage0 = { ...base.spec.stages[0]!, name: 'tiny', seqLength: SEQ, seqLengthLog2: undefined, declaredTotalTokens: undefined, trainedTokens: undefined, wallMinutes: undefined, data: { sources: [{ dataset: 'web' }, { dataset: 'essays' }], maxTokens: 4 * (SEQ + 1) } };
    const recipe = await api().recipes.create({ name: 'tiny-data', spec: { ...base.spec, stages: [stage0] } });
    const fail = (p: Promise<unknown>) => p.then(() => null, (e: Error) => e.message);
    const io = { recipeId: recipe.id, stage: 0, model: 'file:///models/llama-3-8b', output: 'file:///out/tiny' };
    expect(await fail(api().dispatch.renderStage(io))).toMatch(/not prepared yet: run `ctxlab datasets prepare --recipe … --stage 1`/);
    const r = await api().datasets.prepare({ name: 'tiny-stage1', recipeId: recipe.id, stage: 1 });
    expect((await finished(r.job.id)).status).toBe('succeeded');
    const d = (await repos.datasets.getByName('tiny-stage1'))!;
    expect(d.prepared).toMatchObject({ seqLength: SEQ, recipe: { recipeId: recipe.id, stage: 1 } });
    const job = await api().dispatch.renderStage(io);
    const at = job.argv.indexOf('--dataset');
    expect(job.argv[at + 1]).toMatch(new RegExp(`/\\.staging/job/${BUCKET}/prepared/datasets/tiny-stage1$`));

    // A training job on the prepared dataset: staged in from S3, and the model it registers records model ← dataset.
    const parent = (await repos.models.getByName('Meta-Llama-3-70B-Instruct'))!;
    const train = await api().gpu.start({
      spec: { kind: 'train', trainer: 'easycontext', model: 'file:///models/llama-3-70b', datasets: [d.uri!], output: pathToFileURL(join(dir, 'artifacts/models/tiny-1')).href, stage: { ...stage0, gpus: 1 } },
      executor: 'local',
      output: { kind: 'model', name: 'tiny-1', parentModelId: parent.id, lineage: 'context-extension' },
    });
    const trained = await finished(train.job.id);
    expect(trained.status, `${trained.error ?? ''}\n${(await repos.jobs.events(train.job.id)).map((e) => e.message).join('\n')}`).toBe('succeeded');
    const model = (await repos.models.getByName('tiny-1'))!;
    const lineage = await api().datasets.lineage({ id: d.id });
    expect(lineage.models).toMatchObject([{ id: model.id, name: 'tiny-1', jobId: train.job.id }]);
  }, 180_000);
});
