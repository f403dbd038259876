import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDeps, createCaller } from '@ctxlab/api';
import type { RecipeSpecInput } from '@ctxlab/contracts';
import { resetDb, testRepos, testSettings } from '@ctxlab/testing/db';
import { startWorker, stopWorker, waitFor } from '@ctxlab/testing/worker';

const prefix = `reciperun-${process.pid}`;
const api = () => createCaller({ ...apiDeps({ ...testSettings(), queuePrefix: prefix }), actor: null, source: 'internal' });
const repos = testRepos();
const root = resolve(import.meta.dirname, '../../..');
const LAB = { numLayers: 4, hiddenSize: 128, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 384, vocabSize: 259, tokenizer: 'byte', dtype: 'fp32', tieWordEmbeddings: true } as const;

/** One lab stage: a few CPU steps at the stage's length and θ, batch 1. */
const stage = (name: string, seqLength: number, ropeTheta: number, steps: number, gates: object) => ({
  name, seqLength, ropeTheta, steps, batchSize: 1, learningRate: 1e-3, gpus: 1, gpuType: 'cpu', gates,
});
/** 512 → 1,024 → 2,048 bytes from the shipped stage-1 lab model (trained at 512, θ 10,000); stage 3's θ is the dynamic-NTK value of the shipped stage 2. */
const labRecipe = (gates: { s1: object; s2: object; s3: object }): RecipeSpecInput => ({
  method: 'full', trainer: 'lab', baseModel: 'lab-stage1', targetContext: 2048, progressive: true, thetaRule: 'dynamic-ntk',
  stages: [stage('lab-512', 512, 10_000, 4, gates.s1), stage('lab-1k', 1024, 40_000, 3, gates.s2), stage('lab-2k', 2048, 154_243, 2, gates.s3)],
});
const NIAH = (minScore: number) => ({ minScore, depths: [0, 0.5, 1], samples: 2 });
/**
 * A suite gate: RULER's single-needle task at 2,048 bytes on the byte tokenizer, 3 samples. Its bar
 * is 0 (after 2 steps the model scores 0 here): the test checks that the value is the suite run's own
 * average — a suite whose job failed has no value, and fails any bar.
 */
const RULER = { spec: { suite: 'ruler', tasks: ['niah_single_1'], lengths: [2048], samples: 3, tokenizer: 'byte' }, minScore: 0 } as const;

/**
 * A progressive recipe as one tracked run on the lab model, for real: each stage trains with the
 * lab trainer from the previous stage's model (a job on the local executor), registers its model
 * with lineage, and is gated by NIAH (the model served by the onnxruntime model server) and
 * perplexity (a local check). A failing gate stops the run; the run is continued past one on
 * purpose, retried under a new recipe version for another, and survives its worker being killed.
 */
describe('recipe runs: progressive extension with gates, on the lab model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctxlab-reciperun-'));
  // Gates ask the lab model server for 2,048-token prompts while the next stage trains on the same
  // two cores: a request may queue for seconds, so requests get the time a real server would.
  const workerEnv = { JOBS_DIR: join(dir, 'jobs'), ARTIFACTS_DIR: join(dir, 'artifacts'), GPU_JOB_CONCURRENCY: '2', REQUEST_TIMEOUT_MS: '60000' };
  let worker = startWorker(prefix, workerEnv);
  let baseId: string;

  beforeAll(async () => {
    await resetDb();
    baseId = (await api().models.create({ name: 'lab-stage1', sourceUri: pathToFileURL(join(root, 'libs/inference/models/lab-stage1.onnx')).href, config: { ...LAB, ropeTheta: 10_000, maxPositionEmbeddings: 512 } })).id;
  });
  afterAll(async () => {
    await stopWorker(worker);
  });

  const runOf = (id: string) => api().recipes.runGet({ id });
  const untilRun = (id: string, what: string, ok: (r: Awaited<ReturnType<typeof runOf>>) => boolean, timeoutMs = 240_000) =>
    waitFor(what, async () => {
      const r = await runOf(id);
      return ok(r) ? r : null;
    }, timeoutMs, 500);

  it('runs stage by stage: a failed gate stops it, continue and retry (under a new version) go on, a killed worker is taken over', async () => {
    // Version 1: stage 1's and stage 2's perplexity gates ask for ≤ 1.0, which no model of text reaches: they fail by construction.
    const v1 = await api().recipes.create({
      name: 'lab-progressive',
      spec: labRecipe({ s1: { niah: NIAH(50), perplexity: { max: 1.0 } }, s2: { perplexity: { max: 1.0 } }, s3: { niah: NIAH(30), perplexity: { max: 15 } } }),
    });
    const started = await api().recipes.run({ recipeId: v1.id, baseModelId: baseId, name: 'lab-run' });
    expect(started).toMatchObject({ status: 'queued', stages: [{ name: 'lab-512', status: 'pending' }, { name: 'lab-1k' }, { name: 'lab-2k' }] });

    // Stage 1 trains and is gated; its perplexity gate fails, so the run stops there, saying why.
    const stopped1 = await untilRun(started.id, 'stage 1 to stop the run', (r) => r.status === 'stopped');
    const s1 = stopped1.stages[0]!;
    expect(s1).toMatchObject({ status: 'failed', model: { name: 'lab-run-lab-512' } });
    expect(s1.train).toMatchObject({ status: 'succeeded', done: 4, total: 4, unit: 'steps' });
    expect(s1.train!.curve.length).toBeGreaterThanOrEqual(2);
    const [niah1, ppl1] = s1.gates;
    expect(niah1).toMatchObject({ gate: 'niah', op: '>=', threshold: 50, passed: true });
    expect(ppl1).toMatchObject({ gate: 'perplexity', op: '<=', threshold: 1, passed: false });
    expect(ppl1!.value).toBeGreaterThan(1);
    expect(stopped1.reason).toMatch(/^stage 1 \(lab-512\): gate failed: perplexity @512 was \d+\.\d{3} \(needs ≤ 1\)$/);
    // The NIAH value is the gate's own eval run's mean score, over 3 depths × 2 samples of real requests.
    const niahRun = await repos.evals.get(niah1!.evalRunId!);
    expect(niahRun).toMatchObject({ kind: 'niah', status: 'succeeded', cellsTotal: 6, modelId: s1.model!.id });
    expect(niah1!.value).toBeCloseTo(readScore(niahRun.summary), 6);
    // The stage's model: trained from the base at the stage's θ and length, with its lineage.
    const m1 = await repos.models.get(s1.model!.id);
    expect(m1).toMatchObject({ ropeTheta: 10_000, maxPositionEmbeddings: 512, origin: 'derived' });
    const edges1 = await repos.db.lineageEdge.findMany({ where: { childId: m1.id } });
    expect(edges1).toMatchObject([{ parentId: baseId, kind: 'context_extension', jobId: s1.trainJobId }]);
    expect(edges1[0]!.note).toBe('recipe lab-progressive v1, stage 1 (lab-512), run lab-run');
    // The gates' server was stopped when the gates were done.
    await waitFor('the gate server to stop', async () => (await repos.jobs.get(s1.serveJobId!)).status === 'cancelled', 20_000);

    // Nothing to retry a new version into for a finished stage; continue on purpose instead.
    await expect(api().recipes.runResume({ id: started.id, action: 'continue', recipeId: v1.id })).rejects.toThrow(/continue keeps the recipe/);
    await api().recipes.runResume({ id: started.id, action: 'continue' });

    // Stage 2 trains from stage 1's model and fails its gate the same way.
    const stopped2 = await untilRun(started.id, 'stage 2 to stop the run', (r) => r.status === 'stopped' && r.stageIndex === 1);
    expect(stopped2.stages[0]).toMatchObject({ status: 'passed', overridden: true });
    expect(stopped2.stages[1]).toMatchObject({ status: 'failed', attempt: 1, model: { name: 'lab-run-lab-1k' } });
    expect(stopped2.reason).toMatch(/^stage 2 \(lab-1k\): gate failed: perplexity @1,024 was/);

    // Version 2 relaxes stage 2's gate; a version that changed stage 1 (which this run finished) is refused.
    const bad = await api().recipes.update({ id: v1.id, patch: { spec: labRecipe({ s1: { niah: NIAH(60) }, s2: { perplexity: { max: 1.0 } }, s3: {} }) } });
    await expect(api().recipes.runResume({ id: started.id, action: 'retry', recipeId: bad.id })).rejects.toThrow(/changes stage 1, which this run has finished/);
    // (Measured here: stage 2 after 3 steps at 1,024 finds 1 needle in 6 there, perplexity ≈ 10; stage 3 after 2 steps at 2,048 finds 4 in 6, perplexity ≈ 11.)
    const v3 = await api().recipes.update({ id: v1.id, patch: { spec: labRecipe({ s1: { niah: NIAH(50), perplexity: { max: 1.0 } }, s2: { niah: NIAH(10), perplexity: { max: 15 } }, s3: { niah: NIAH(30), perplexity: { max: 15 }, suites: [RULER] } }) } });
    expect(v3.version).toBe(3);
    await api().recipes.runResume({ id: started.id, action: 'retry', recipeId: v3.id });

    // Stage 2 trains again as attempt 2 (a new model), passes, and stage 3 starts training: kill the worker outright.
    const s3Training = await untilRun(started.id, 'stage 3 to train', (r) => r.stages[2]!.status === 'training' && (r.stages[2]!.train?.done ?? 0) >= 1);
    expect(s3Training.recipe.version).toBe(3);
    expect(s3Training.stages[1]).toMatchObject({ status: 'passed', attempt: 2, model: { name: 'lab-run-lab-1k-a2' } });
    // The ETA: the running stage's own, from its steps (it is the last stage).
    expect(s3Training.etaSeconds).toBeGreaterThan(0);
    worker.kill('SIGKILL');
    await new Promise((r) => worker.once('exit', r));
    worker = startWorker(prefix, workerEnv);

    // The new worker takes the run over and finishes it; stage 3's training job runs again on it.
    const done = await untilRun(started.id, 'the run to succeed', (r) => r.status === 'succeeded' || r.status === 'stopped', 300_000);
    expect(done.status, `${done.reason ?? ''}\n${worker.output().slice(-3000)}`).toBe('succeeded');
    expect(done.stages.flatMap((s) => s.gates.map((g) => g.passed))).toEqual([true, false, true, true, true, true, true]);
    const ruler = done.stages[2]!.gates[2]!;
    expect(ruler).toMatchObject({ gate: 'suite:ruler', label: 'ruler average', op: '>=' });
    expect(ruler.value).toBe(readAverage((await repos.evals.get(ruler.evalRunId!)).summary));
    expect(done.stages.map((s) => [s.status, s.model?.name])).toEqual([['passed', 'lab-run-lab-512'], ['passed', 'lab-run-lab-1k-a2'], ['passed', 'lab-run-lab-2k']]);
    const events = await api().recipes.runEvents({ id: started.id });
    expect(events.map((e) => e.message).join('\n')).toMatch(/taken over by worker-\d+ \(its worker stopped\)/);
    expect(events.filter((e) => e.type === 'status').map((e) => e.toStatus)).toEqual(['queued', 'running', 'stopped', 'queued', 'running', 'stopped', 'queued', 'running', 'running', 'succeeded']);
    // One training job per stage attempt, none started twice by the takeover.
    const trainJobs = (await repos.db.job.findMany({ where: { kind: 'train' } })).filter((j) => j.idempotencyKey?.includes(`recipe-run:${started.id}:`));
    expect(trainJobs.map((j) => j.idempotencyKey!.replace(/^.*:stage:/, '')).sort()).toEqual(['0:attempt:1', '1:attempt:1', '1:attempt:2', '2:attempt:1']);
    // Lineage: base → stage 1 → stage 2 (attempt 2) → stage 3, each at its stage's θ and length.
    const m3 = await repos.models.get(done.stages[2]!.model!.id);
    expect(m3).toMatchObject({ ropeTheta: 154_243, maxPositionEmbeddings: 2048 });
    const chain = await api().models.lineage({ modelId: m3.id });
    expect(chain.nodes.map((n) => n.name).sort()).toEqual(['lab-run-lab-1k-a2', 'lab-run-lab-2k', 'lab-run-lab-512', 'lab-stage1']);
    expect(done.gpuHours).toBe(0); // CPU stages hold no GPU
    expect(done.etaSeconds).toBeNull();
  }, 600_000);

  it('refuses what cannot run, naming the stage, before anything is created', async () => {
    const before = await repos.db.recipeRun.count();
    const custom = await api().recipes.create({ name: 'custom-trainer', spec: { ...labRecipe({ s1: {}, s2: {}, s3: {} }), trainer: 'custom' } });
    await expect(api().recipes.run({ recipeId: custom.id, baseModelId: baseId })).rejects.toThrow(/trainer "custom": ctxlab cannot render its training command/);
    const llama = (await api().models.create({ name: 'llama-like', sourceUri: 'hf://meta-llama/Meta-Llama-3-8B', config: { numLayers: 32, hiddenSize: 4096, numAttentionHeads: 32, numKeyValueHeads: 8, headDim: 128, intermediateSize: 14336, vocabSize: 128256, ropeTheta: 500_000, maxPositionEmbeddings: 8192, tokenizer: 'llama3' } })).id;
    const ppl = await api().recipes.create({ name: 'ppl-gate', spec: labRecipe({ s1: { perplexity: { max: 5 } }, s2: {}, s3: {} }) });
    await expect(api().recipes.run({ recipeId: ppl.id, baseModelId: llama })).rejects.toThrow(/stage 1 \(lab-512\): perplexity gates run as local checks of lab models/);
    const long = await api().recipes.create({ name: 'too-long', spec: { ...labRecipe({ s1: {}, s2: {}, s3: {} }), stages: [stage('huge', 131_072, 10_000_000, 1, {})] } });
    await expect(api().recipes.run({ recipeId: long.id, baseModelId: baseId })).rejects.toThrow(/stage 1 \(huge\): .*at most 65,536/);
    await expect(api().recipes.run({ recipeId: ppl.id, baseModelId: baseId, name: 'lab-run' })).rejects.toThrow(/a recipe run named lab-run already exists/);
    expect(await repos.db.recipeRun.count()).toBe(before);
  });

  it('cancel stops the run and its training job; resume picks the stage up again', async () => {
    const r = await api().recipes.create({ name: 'lab-cancel', spec: labRecipe({ s1: {}, s2: {}, s3: {} }) });
    const run = await api().recipes.run({ recipeId: r.id, baseModelId: baseId, name: 'cancel-run' });
    const training = await untilRun(run.id, 'stage 1 to train', (x) => !!x.stages[0]!.trainJobId);
    const cancelled = await api().recipes.runCancel({ id: run.id });
    expect(cancelled).toMatchObject({ status: 'cancelled', reason: 'cancelled by system' });
    await waitFor('the training job to be cancelled', async () => (await repos.jobs.get(training.stages[0]!.trainJobId!)).status === 'cancelled', 30_000);
    await expect(api().recipes.runResume({ id: run.id, action: 'continue' })).rejects.toThrow(/has no failed gate to continue past/);
    const resumed = await api().recipes.runResume({ id: run.id, action: 'retry' });
    // A worker may pick the resumed run up before the answer is read.
    expect(['queued', 'running']).toContain(resumed.status);
    expect(resumed.stages[0]).toMatchObject({ attempt: 2 });
    await untilRun(run.id, 'stage 1 to train again', (x) => x.stages[0]!.status === 'training');
    await api().recipes.runCancel({ id: run.id });
  }, 120_000);
});

function readAverage(summary: unknown): number {
  return (summary as { average: number }).average;
}
function readScore(summary: unknown): number {
  return (summary as { averageScore: number }).averageScore;
}
