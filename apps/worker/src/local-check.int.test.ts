import type { ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDeps, createCaller } from '@ctxlab/api';
import { localCheckSpecSchema } from '@ctxlab/contracts';
import { enqueueNiahEval } from '@ctxlab/jobs';
import { redisConnection } from '@ctxlab/queue';
import { resetDb, testRepos, testSettings } from '@ctxlab/testing/db';
import { startWorker, stopWorker, jobFinished } from '@ctxlab/testing/worker';

const prefix = `checks-${process.pid}`;
const api = () => createCaller({ ...apiDeps({ ...testSettings(), queuePrefix: prefix }), actor: null, source: 'internal' });
const repos = testRepos();
const models = resolve(import.meta.dirname, '../../../libs/inference/models');
const LAB = { numLayers: 4, hiddenSize: 128, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 384, vocabSize: 259, tokenizer: 'byte', dtype: 'fp32', tieWordEmbeddings: true } as const;

/** Perplexity and round-trip checks of the shipped lab models, as eval runs through the queue and a worker. */
describe('local checks on the worker (onnxruntime-node)', () => {
  let worker: ChildProcess;
  let stage1: string;
  let stage2: string;
  beforeAll(async () => {
    await resetDb();
    worker = startWorker(prefix);
    stage1 = (await api().models.create({ name: 'lab-stage1', sourceUri: pathToFileURL(join(models, 'lab-stage1.onnx')).href, config: { ...LAB, ropeTheta: 10_000, maxPositionEmbeddings: 512 } })).id;
    stage2 = (await api().models.create({ name: 'lab-stage2', sourceUri: pathToFileURL(join(models, 'lab-stage2.onnx')).href, config: { ...LAB, ropeTheta: 154_243, maxPositionEmbeddings: 2048 } })).id;
  });
  afterAll(async () => {
    await stopWorker(worker);
  });
  const finished = (jobId: string) => jobFinished(repos, jobId, 120_000, 200);

  it('perplexity against context length: a cell per length and sample, the theta of the rule, a summary per length', async () => {
    const r = await api().evals.startCheck({ name: 'ppl stage 1 (dynamic NTK)', modelId: stage1, spec: { kind: 'perplexity', lengths: [256, 512, 1024, 2048], samples: 2, thetaRule: { kind: 'dynamic-ntk', alpha: 4 } } });
    expect(r.evalRun).toMatchObject({ kind: 'perplexity', cellsTotal: 8, modelId: stage1 });
    const job = await finished(r.job.id);
    expect(job.status, job.error ?? '').toBe('succeeded');
    const cells = await repos.db.evalCell.findMany({ where: { evalRunId: r.evalRun.id }, orderBy: [{ contextLength: 'asc' }, { sample: 'asc' }] });
    expect(cells.map((c) => c.contextLength)).toEqual([256, 256, 512, 512, 1024, 1024, 2048, 2048]);
    expect(cells.every((c) => c.score !== null && c.score > 1 && c.score < 259 && c.error === null)).toBe(true);
    // θ by the rule: the model's up to its trained length, then dynamic NTK (α 4): 154,243 at 2,048.
    expect(cells.find((c) => c.contextLength === 512)!.response).toMatch(/^θ 10000 /);
    expect(cells.find((c) => c.contextLength === 2048)!.response).toMatch(/^θ 15424[34] /);
    expect(cells.find((c) => c.contextLength === 2048)!.response).toMatch(/beyond 512 tokens \d/);
    const run = await repos.db.evalRun.findUniqueOrThrow({ where: { id: r.evalRun.id } });
    expect(run.status).toBe('succeeded');
    const per = (run.summary as { perLength: { length: number; perplexity: number }[] }).perLength;
    expect(per.map((x) => x.length)).toEqual([256, 512, 1024, 2048]);
    expect(job.progress).toMatchObject({ done: 8, total: 8, unit: 'checks' });
    console.info(`lab stage 1, dynamic NTK: ${per.map((x) => `${x.length} → ${x.perplexity.toFixed(2)}`).join(', ')}`);
  }, 150_000);

  it('round trips: tokenizers exact on English and Chinese, the engine cache matches a full prefill', async () => {
    const r = await api().evals.startCheck({ name: 'round trips stage 2', modelId: stage2, spec: { kind: 'roundtrip', length: 300, samples: 2 } });
    const job = await finished(r.job.id);
    expect(job.status, job.error ?? '').toBe('succeeded');
    const cells = await repos.db.evalCell.findMany({ where: { evalRunId: r.evalRun.id } });
    expect(cells).toHaveLength(6);
    expect(cells.every((c) => c.score === 100)).toBe(true);
    expect(cells.map((c) => c.needle).sort()).toEqual(['engine KV cache vs full prefill', 'engine KV cache vs full prefill', 'tokenizer byte (en + zh)', 'tokenizer byte (en + zh)', 'tokenizer llama3 (en + zh)', 'tokenizer llama3 (en + zh)']);
    expect(cells.find((c) => c.needle?.startsWith('engine'))!.response).toMatch(/max \|logit diff\| \d\.\d\de-\d+ over the last 8 positions · same argmax/);
  }, 150_000);

  it('a local check queued on the NIAH queue (as before local checks had their own) still runs, once, as a local check', async () => {
    const spec = localCheckSpecSchema.parse({ kind: 'perplexity', lengths: [256], samples: 1 });
    const { job, evalRun } = await repos.jobs.createWithRun(
      { kind: 'local-check', spec: { kind: spec.kind, modelId: stage1, spec, requestedBy: 'test' }, idempotencyKey: `stranded-${process.pid}` },
      { name: 'stranded check', kind: 'perplexity', modelId: stage1, config: { spec }, cellsTotal: 1 },
    );
    const redis = redisConnection(testSettings().redisUrl, 'producer');
    try {
      await enqueueNiahEval(redis, { jobId: job.id, evalRunId: evalRun.id }, { prefix });
    } finally {
      await redis.quit();
    }
    const done = await finished(job.id);
    expect(done.status, done.error ?? '').toBe('succeeded');
    const cells = await repos.db.evalCell.findMany({ where: { evalRunId: evalRun.id } });
    expect(cells.map((c) => [c.contextLength, c.sample])).toEqual([[256, 0]]);
    expect((await repos.evals.get(evalRun.id)).status).toBe('succeeded');
  }, 150_000);

  it('refuses models it cannot check, naming why', async () => {
    const llama = (await api().models.create({ name: 'llama', sourceUri: 'hf://meta-llama/Meta-Llama-3-8B', config: { numLayers: 32, hiddenSize: 4096, numAttentionHeads: 32, numKeyValueHeads: 8, headDim: 128, intermediateSize: 14336, vocabSize: 128256, ropeTheta: 500_000, maxPositionEmbeddings: 8192, tokenizer: 'llama3' } })).id;
    const remote = (await api().models.create({ name: 'lab-remote', sourceUri: 's3://bucket/lab', config: { ...LAB, ropeTheta: 10_000, maxPositionEmbeddings: 512 } })).id;
    const fail = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: { code: string; message: string }) => e);
    expect(await fail(api().evals.startCheck({ name: 'x', modelId: llama, spec: { kind: 'roundtrip' } }))).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/not a lab model/) });
    expect((await fail(api().evals.startCheck({ name: 'x', modelId: remote, spec: { kind: 'roundtrip' } }))).message).toMatch(/no local weights \(sourceUri s3:\/\/bucket\/lab\)/);
    expect((await fail(api().evals.startCheck({ name: 'x', modelId: stage1, spec: { kind: 'perplexity', lengths: [] } }))).message).toMatch(/spec.lengths: give at least one length/);
  });
});
