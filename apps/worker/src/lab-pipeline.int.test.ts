import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDeps, createCaller } from '@ctxlab/api';
import { resetDb, testRepos, testSettings } from '@ctxlab/testing/db';
import { freePort, jobFinished, LAB_MODEL_CONFIG, startWorker, stopWorker, waitFor } from '@ctxlab/testing/worker';

const prefix = `labpipe-${process.pid}`;
const api = () => createCaller({ ...apiDeps({ ...testSettings(), queuePrefix: prefix }), actor: null, source: 'internal' });
const repos = testRepos();
const root = resolve(import.meta.dirname, '../../..');
const uri = (p: string) => pathToFileURL(p).href;
const LAB = LAB_MODEL_CONFIG;

/**
 * The whole GPU-dispatch pipeline on the lab model, for real, on this machine's CPU: a context-
 * extension training stage from the shipped stage-1 model, SVD LoRA extraction of what it changed,
 * a merge of that adapter into another model with the RoPE config patch, serving the merged model
 * behind the OpenAI API, and a NIAH sweep against the endpoint it registered. Every step is a job
 * through the API, the queue and a worker on the local executor.
 */
describe('lab pipeline: train → extract → merge → serve → evaluate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctxlab-labpipe-'));
  const out = (p: string) => join(dir, 'artifacts', p);
  let worker: ChildProcess & { output: () => string };
  let baseId: string;
  let siblingId: string;
  let extendedId: string;
  let adapterId: string;
  let mergedId: string;
  const stage1 = join(root, 'libs/inference/models/lab-stage1.onnx');
  const stage2 = join(root, 'libs/inference/models/lab-stage2.onnx');

  beforeAll(async () => {
    await resetDb();
    worker = startWorker(prefix, { JOBS_DIR: join(dir, 'jobs'), ARTIFACTS_DIR: join(dir, 'artifacts') });
    baseId = (await api().models.create({ name: 'lab-stage1', sourceUri: uri(stage1), config: { ...LAB, ropeTheta: 10_000, maxPositionEmbeddings: 512 } })).id;
    siblingId = (await api().models.create({ name: 'lab-stage2', origin: 'derived', sourceUri: uri(stage2), config: { ...LAB, ropeTheta: 154_243, maxPositionEmbeddings: 2048 } })).id;
  });
  afterAll(async () => {
    await stopWorker(worker);
  });

  const finished = (jobId: string, timeoutMs = 240_000) => jobFinished(repos, jobId, timeoutMs, 250);
  const logsOf = async (jobId: string) => (await repos.jobs.events(jobId)).filter((e) => e.type === 'log').map((e) => e.message).join('\n');

  it('train: a short context-extension stage from the shipped stage-1 model registers the model with its lineage', async () => {
    const stage = { name: 'lab-1k', seqLength: 1024, ropeTheta: 40_000, batchSize: 1, steps: 3, learningRate: 1e-3, gpus: 1, gpuType: 'cpu' };
    const r = await api().gpu.start({
      spec: { kind: 'train', trainer: 'lab', model: uri(stage1), output: uri(out('models/lab-1k')), stage, seed: 3 },
      output: { kind: 'model', name: 'lab-1k', parentModelId: baseId, lineage: 'context-extension', ropeTheta: 40_000, maxPositionEmbeddings: 1024 },
    });
    expect((r.job.spec as { gpus: number }).gpus).toBe(0);
    const job = await finished(r.job.id);
    const logs = await logsOf(r.job.id);
    expect(job.status, `${job.error ?? ''}\n${logs}\n${worker.output().slice(-2000)}`).toBe('succeeded');
    expect(logs).toMatch(/step 3\/3/);
    expect(logs).toMatch(/done: 3 steps/);
    // The job's progress: steps and the loss curve the portal draws.
    expect(job.progress).toMatchObject({ done: 3, total: 3, unit: 'steps' });
    expect((job.progress as { curve: [number, number][] }).curve.length).toBeGreaterThanOrEqual(2);
    const cfg = JSON.parse(readFileSync(out('models/lab-1k/config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg).toMatchObject({ rope_theta: 40_000, max_position_embeddings: 1024, hidden_size: 128, num_hidden_layers: 4 });
    expect(existsSync(out('models/lab-1k/model.onnx'))).toBe(true);
    const model = (await api().models.list({ search: 'lab-1k' })).items[0]!;
    expect(model).toMatchObject({ origin: 'derived', sourceUri: uri(out('models/lab-1k')) });
    extendedId = model.id;
    const lineage = await repos.db.lineageEdge.findMany({ where: { childId: extendedId } });
    expect(lineage).toMatchObject([{ parentId: baseId, kind: 'context_extension', jobId: r.job.id }]);
  }, 300_000);

  it('lora-extract: SVD of what the stage changed, as a rank-8 adapter with a digest', async () => {
    // From the registry: the records say where the weights are and which tool fits (lab models → the lab extractor).
    const r = await api().gpu.extractAdapter({ finetunedModelId: extendedId, baseModelId: baseId, maxRank: 8, name: 'lab-1k-r8', output: uri(out('adapters/lab-1k-r8')) });
    expect((r.job.spec as { spec: { tool: string; cuda: boolean } }).spec).toMatchObject({ tool: 'lab', cuda: false });
    const job = await finished(r.job.id);
    expect(job.status, `${job.error ?? ''}\n${await logsOf(r.job.id)}`).toBe('succeeded');
    const cfg = JSON.parse(readFileSync(out('adapters/lab-1k-r8/adapter_config.json'), 'utf8')) as { r: number; peft_type: string; ctxlab: { rope_theta?: number; finetuned?: { rope_theta?: number } } };
    expect(cfg).toMatchObject({ r: 8, peft_type: 'LORA' });
    expect(JSON.stringify(cfg.ctxlab)).toContain('40000');
    const adapter = (await api().adapters.list({ search: 'lab-1k-r8' })).items[0]!;
    expect(adapter).toMatchObject({ rank: 8, baseModelId: baseId, sourceModelId: extendedId, uri: uri(out('adapters/lab-1k-r8')) });
    expect(adapter.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    adapterId = adapter.id;
  }, 300_000);

  it('lora-merge: the adapter into another model, with the source model\'s theta and length patched in', async () => {
    expect(adapterId).toBeTruthy();
    // The RoPE fields come from the adapter's source model (lab-1k), not from the target.
    const r = await api().gpu.mergeAdapter({ adapterId, targetModelId: siblingId, name: 'lab-merged', output: uri(out('models/lab-merged')) });
    expect((r.job.spec as { spec: { ropeTheta: number; maxPositionEmbeddings: number } }).spec).toMatchObject({ ropeTheta: 40_000, maxPositionEmbeddings: 1024 });
    const job = await finished(r.job.id);
    const logs = await logsOf(r.job.id);
    expect(job.status, `${job.error ?? ''}\n${logs}`).toBe('succeeded');
    expect(logs).toMatch(/rope_theta/);
    const cfg = JSON.parse(readFileSync(out('models/lab-merged/config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg).toMatchObject({ rope_theta: 40_000, max_position_embeddings: 1024 });
    const merged = (await api().models.list({ search: 'lab-merged' })).items[0]!;
    mergedId = merged.id;
    const parents = await repos.db.lineageEdge.findMany({ where: { childId: mergedId }, orderBy: { parentId: 'asc' } });
    expect(parents.map((p) => p.parentId).sort()).toEqual([siblingId, extendedId].sort());
    expect(parents.every((p) => p.kind === 'lora_merge' && p.jobId === r.job.id)).toBe(true);
    expect((await repos.models.get(mergedId)).ropeTheta).toBe(40_000);
  }, 300_000);

  it('serve + evaluate: the merged model behind the OpenAI API registers an endpoint; a NIAH sweep runs against it; stop frees the port', async () => {
    expect(mergedId).toBeTruthy();
    const port = await freePort();
    const r = await api().gpu.serveModel({ modelId: mergedId, port, endpointName: 'lab-merged-local' });
    const endpoint = await waitFor('the endpoint', () => repos.db.endpoint.findUnique({ where: { name: 'lab-merged-local' } }), 120_000, 250);
    expect(endpoint).toMatchObject({ url: `http://127.0.0.1:${port}/v1`, servedModelName: 'lab-merged', modelId: mergedId });
    const models = (await (await fetch(`${endpoint.url}/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(['lab-merged']);

    const ev = await api().evals.start({
      name: 'merged lab model',
      endpointId: endpoint.id,
      modelId: mergedId,
      spec: { variant: 'value', tokenizer: 'byte', grid: { lengths: { kind: 'list', values: [512, 1024] }, depths: { kind: 'list', values: [0, 1] } }, seed: 1 },
      concurrency: 2,
    });
    const evalJob = await finished(ev.job.id, 180_000);
    expect(evalJob.status, evalJob.error ?? '').toBe('succeeded');
    const cells = await repos.db.evalCell.findMany({ where: { evalRunId: ev.evalRun.id } });
    expect(cells).toHaveLength(4);
    expect(cells.every((c) => c.error === null && c.response !== null && c.score !== null)).toBe(true);

    await api().jobs.cancel({ id: r.job.id });
    expect((await finished(r.job.id)).status).toBe('cancelled');
    await waitFor('the endpoint to say it is stopped', async () => (await repos.db.endpoint.findUnique({ where: { name: 'lab-merged-local' } }))?.lastStatus?.startsWith('stopped'), 20_000);
    await waitFor('the server to stop', async () => fetch(`${endpoint.url}/models`).then(() => false, () => true), 20_000);
  }, 400_000);

  it('refuses what cannot work, naming why, before anything starts', async () => {
    const before = await repos.db.job.count();
    const llama = (await api().models.create({ name: 'llama-like', sourceUri: 'hf://meta-llama/Meta-Llama-3-8B-Instruct', config: { numLayers: 32, hiddenSize: 4096, numAttentionHeads: 32, numKeyValueHeads: 8, headDim: 128, intermediateSize: 14336, vocabSize: 128256, ropeTheta: 500_000, maxPositionEmbeddings: 8192, tokenizer: 'llama3' } })).id;
    const noWeights = (await api().models.create({ name: 'no-weights', config: { ...LAB, ropeTheta: 10_000, maxPositionEmbeddings: 512 } })).id;
    const fail = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: { code: string; message: string }) => e);
    const a = await fail(api().gpu.extractAdapter({ finetunedModelId: llama, baseModelId: baseId, maxRank: 8, name: 'x', output: uri(out('x')) }));
    expect(a).toMatchObject({ code: 'BAD_REQUEST' });
    expect(a.message).toMatch(/different architectures \(numLayers 32 vs 4/);
    expect((await fail(api().gpu.serveModel({ modelId: llama }))).message).toMatch(/needs gpuType/);
    expect((await fail(api().gpu.serveModel({ modelId: noWeights }))).message).toMatch(/no-weights has no sourceUri/);
    expect((await fail(api().gpu.serveModel({ modelId: llama, gpuType: 'h100-sxm-80gb', maxModelLen: 1_048_576 }))).message).toMatch(/will not fit.*longest max-model-len that fits/);
    const taken = await fail(api().gpu.extractAdapter({ finetunedModelId: extendedId, baseModelId: baseId, maxRank: 4, name: 'lab-1k-r8', output: uri(out('again')) }));
    expect(taken.message).toMatch(/output.name: an adapter named lab-1k-r8 already exists/);
    expect(await repos.db.job.count()).toBe(before);
  });
});
