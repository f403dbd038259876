import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDeps, createCaller } from '@ctxlab/api';
import { LocalArtifactStore, S3ArtifactStore, s3ConfigFromEnv } from '@ctxlab/dispatch';
import { startFaultProxy, startS3Server, type FaultProxy, type S3TestServer } from '@ctxlab/testing/object-store';
import { resetDb, testRepos, testSettings } from '@ctxlab/testing/db';
import { freePort, jobFinished, LAB_MODEL_CONFIG, startWorker, stopWorker, waitFor } from '@ctxlab/testing/worker';

const prefix = `s3pipe-${process.pid}`;
const repos = testRepos();
const root = resolve(import.meta.dirname, '../../..');
const LAB = LAB_MODEL_CONFIG;
const BUCKET = 'ctxlab-lab';

/**
 * The lab pipeline with every artifact in object storage: the shipped lab models are uploaded to an
 * S3 server (s3rver on a local socket), and extract → merge → serve → NIAH run as jobs through the
 * API, the queue and a worker whose local executor stages s3:// inputs in and uploads outputs. The
 * worker reaches S3 through a proxy that can drop connections, so a failed upload is tried too.
 */
describe('s3:// artifacts end to end: extract → merge → serve → NIAH on the lab model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctxlab-s3pipe-'));
  let s3: S3TestServer;
  let proxy: FaultProxy;
  let worker: ChildProcess & { output: () => string };
  let store: S3ArtifactStore;
  let env: Record<string, string>;
  let baseId: string;
  let siblingId: string;
  let adapterId: string;
  const api = () => createCaller({ ...apiDeps({ ...testSettings(), queuePrefix: prefix, artifactsDir: join(dir, 'artifacts'), artifactEnv: env }), actor: null, source: 'internal' });
  const finished = (jobId: string, timeoutMs = 240_000) => jobFinished(repos, jobId, timeoutMs, 250);
  const eventsOf = async (jobId: string) => (await repos.jobs.events(jobId)).map((e) => `${e.type}: ${e.message}`).join('\n');

  beforeAll(async () => {
    await resetDb();
    s3 = await startS3Server({ buckets: [BUCKET] });
    proxy = await startFaultProxy(s3.endpoint);
    env = { ...s3.env, AWS_ENDPOINT_URL_S3: proxy.endpoint, CTXLAB_ARTIFACT_BUCKET: `s3://${BUCKET}/runs` };
    store = new S3ArtifactStore(s3ConfigFromEnv({ ...s3.env, CTXLAB_ARTIFACT_BUCKET: `s3://${BUCKET}` }));
    for (const name of ['lab-stage1', 'lab-stage2']) await store.uploadFile(join(root, `libs/inference/models/${name}.onnx`), `s3://${BUCKET}/models/${name}.onnx`);
    worker = startWorker(prefix, { JOBS_DIR: join(dir, 'jobs'), ARTIFACTS_DIR: join(dir, 'artifacts'), REQUEST_TIMEOUT_MS: '60000', ...env });
    baseId = (await api().models.create({ name: 'lab-stage1', sourceUri: `s3://${BUCKET}/models/lab-stage1.onnx`, config: { ...LAB, ropeTheta: 10_000, maxPositionEmbeddings: 512 } })).id;
    siblingId = (await api().models.create({ name: 'lab-stage2', origin: 'derived', sourceUri: `s3://${BUCKET}/models/lab-stage2.onnx`, config: { ...LAB, ropeTheta: 154_243, maxPositionEmbeddings: 2048 } })).id;
  }, 60_000);
  afterAll(async () => {
    if (worker) await stopWorker(worker);
    await proxy?.close();
    await s3?.close();
  });

  it('extract: the adapter is uploaded to S3 with its manifest, registered by its s3:// URI, and its digest is the bytes downloaded', async () => {
    const output = `s3://${BUCKET}/adapters/lab-s2-r8`;
    const r = await api().gpu.extractAdapter({ finetunedModelId: siblingId, baseModelId: baseId, maxRank: 8, name: 'lab-s2-r8', output });
    const job = await finished(r.job.id);
    const events = await eventsOf(r.job.id);
    expect(job.status, `${job.error ?? ''}\n${events}\n${worker.output().slice(-2000)}`).toBe('succeeded');
    expect(events).toMatch(/staged s3:\/\/ctxlab-lab\/models\/lab-stage2\.onnx/);
    expect(events).toMatch(/uploaded s3:\/\/ctxlab-lab\/adapters\/lab-s2-r8 \(directory/);
    const adapter = (await api().adapters.list({ search: 'lab-s2-r8' })).items[0]!;
    expect(adapter.uri).toBe(output);
    // What the registry says equals the manifest in S3 and the sha256 of the bytes brought back.
    const remote = await store.digest(output);
    expect(adapter.digest).toBe(`sha256:${remote.sha256}`);
    const local = join(dir, 'check/adapter');
    await store.downloadDirectory(output, local);
    expect((await new LocalArtifactStore(dir).digest(`file://${local}`)).sha256).toBe(remote.sha256);
    expect(remote.files?.map((f) => f.path)).toContain('adapter_config.json');
    // The portal's download: a pre-signed link the store answers itself.
    const link = await api().adapters.download({ id: adapter.id, file: 'adapter_config.json' });
    expect(link.url).toMatch(/X-Amz-Signature=/);
    const cfg = (await (await fetch(link.url!)).json()) as { r: number; peft_type: string };
    expect(cfg).toMatchObject({ r: 8, peft_type: 'LORA' });
    adapterId = adapter.id;
  }, 300_000);

  it('a connection dropped in the middle of the upload fails the merge and registers nothing', async () => {
    expect(adapterId).toBeTruthy();
    const output = `s3://${BUCKET}/models/lab-merged-broken`;
    // Every connection is cut after 1 MB sent: downloads (small requests) pass, the 3.5 MB model upload cannot.
    proxy.setDropAfterBytes(1_000_000);
    try {
      const r = await api().gpu.mergeAdapter({ adapterId, targetModelId: baseId, name: 'lab-merged-broken', output });
      const job = await finished(r.job.id);
      expect(job.status).toBe('failed');
      expect(job.error).toMatch(/s3:\/\/ctxlab-lab\/models\/lab-merged-broken/);
    } finally {
      proxy.setDropAfterBytes(undefined);
    }
    expect(await repos.models.getByName('lab-merged-broken')).toBeNull();
    expect(await store.exists(output)).toBe(false);
  }, 300_000);

  it('merge → serve → NIAH: the merged model goes to S3, is staged back in to serve, and a sweep scores every cell', async () => {
    const output = `s3://${BUCKET}/models/lab-merged`;
    const r = await api().gpu.mergeAdapter({ adapterId, targetModelId: baseId, name: 'lab-merged', output });
    const job = await finished(r.job.id);
    expect(job.status, `${job.error ?? ''}\n${await eventsOf(r.job.id)}`).toBe('succeeded');
    const merged = (await repos.models.getByName('lab-merged'))!;
    expect(merged.sourceUri).toBe(output);
    expect(merged.ropeTheta).toBe(154_243);
    expect(await store.exists(output)).toBe(true);

    const port = await freePort();
    const serve = await api().gpu.serveModel({ modelId: merged.id, port, endpointName: 'lab-merged-s3' });
    const endpoint = await waitFor('the endpoint', () => repos.db.endpoint.findUnique({ where: { name: 'lab-merged-s3' } }), 120_000, 250);
    expect(await eventsOf(serve.job.id)).toMatch(/staged s3:\/\/ctxlab-lab\/models\/lab-merged \(directory/);
    const ev = await api().evals.start({
      name: 'merged from s3', endpointId: endpoint.id, modelId: merged.id, concurrency: 2,
      spec: { variant: 'value', tokenizer: 'byte', grid: { lengths: { kind: 'list', values: [512, 1024] }, depths: { kind: 'list', values: [0, 1] } }, seed: 1 },
    });
    const evalJob = await finished(ev.job.id, 180_000);
    expect(evalJob.status, evalJob.error ?? '').toBe('succeeded');
    const cells = await repos.db.evalCell.findMany({ where: { evalRunId: ev.evalRun.id } });
    expect(cells).toHaveLength(4);
    expect(cells.every((c) => c.error === null && c.score !== null)).toBe(true);
    // The run's cells exported into the default store (the bucket's prefix), checked by digest.
    const exp = await api().evals.exportTo({ id: ev.evalRun.id, format: 'csv' });
    expect(exp.uri).toBe(`s3://${BUCKET}/runs/exports/merged-from-s3-${ev.evalRun.id}.csv`);
    const csv = (await store.read(exp.uri)).toString();
    expect(csv.trim().split('\n')).toHaveLength(1 + 4);
    expect(exp.sha256).toBe((await store.digest(exp.uri)).sha256);
    expect(await (await fetch(exp.url!)).text()).toBe(csv);
    await api().jobs.cancel({ id: serve.job.id });
    expect((await finished(serve.job.id)).status).toBe('cancelled');
  }, 400_000);
});
