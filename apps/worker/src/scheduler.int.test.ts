import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDeps, createCaller } from '@ctxlab/api';
import { gpuJob, schedulePass } from '@ctxlab/jobs';
import { queueOf, redisConnection } from '@ctxlab/queue';
import { resetDb, testRepos, testSettings } from '@ctxlab/testing/db';
import { jobFinished, startWorker, stopWorker, waitFor } from '@ctxlab/testing/worker';

const prefix = `schedtest-${process.pid}`;
const repos = testRepos();
const api = () => createCaller({ ...apiDeps({ ...testSettings(), queuePrefix: prefix }), actor: null, source: 'internal' });

/**
 * Two teams share one pool of 2 GPUs on the local executor (a worker configured with
 * CTXLAB_LOCAL_GPUS=a100-80gb=2; nothing binds real GPUs). The GPU tools are stand-ins on the
 * worker's PATH that speak their command lines: each records that it started, then holds its GPUs
 * until the test releases it by writing a file named after its output.
 */
describe('GPU scheduling: priorities, fair share and quotas on a 2-GPU pool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctxlab-sched-'));
  const bin = join(dir, 'bin');
  const release = join(dir, 'release');
  const artifacts = join(dir, 'artifacts');
  const started = join(dir, 'started.log');
  let worker: ChildProcess & { output: () => string };
  let baseId: string;
  let ftId: string;

  const hold = (outFlag: string) => `#!/bin/sh
while [ $# -gt 0 ]; do [ "$1" = "${outFlag}" ] && out="$2"; shift; done
name=$(basename "$out")
echo "$name" >> "${started}"
echo "holding GPUs for $name"
while [ ! -f "${release}/$name" ]; do sleep 0.1; done
mkdir -p "$out" && echo '{}' > "$out/config.json"
echo "step 1/1 loss 1.0"
`;

  beforeAll(async () => {
    await resetDb();
    mkdirSync(bin, { recursive: true });
    mkdirSync(release, { recursive: true });
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(bin, 'mergekit-extract-lora'), hold('--out-path'), { mode: 0o755 });
    writeFileSync(join(bin, 'accelerate'), hold('--output-dir'), { mode: 0o755 });
    const config = { numLayers: 4, hiddenSize: 128, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 384, vocabSize: 259, ropeTheta: 10_000, maxPositionEmbeddings: 512, tokenizer: 'byte' };
    baseId = (await api().models.create({ name: 'sched-base', config })).id;
    ftId = (await api().models.create({ name: 'sched-ft', origin: 'derived', config })).id;
    await api().teams.create({ name: 'alpha' });
    await api().teams.create({ name: 'beta' });
    await api().scheduler.setQuota({ team: 'beta', gpuType: 'a100-80gb', maxGpus: 1 });
    worker = startWorker(prefix, { PATH: `${bin}:${process.env.PATH}`, ARTIFACTS_DIR: artifacts, JOBS_DIR: join(dir, 'jobs'), CTXLAB_LOCAL_GPUS: 'a100-80gb=2', GPU_JOB_CONCURRENCY: '4', GPU_PENDING_TIMEOUT_MS: '200' });
    await waitFor('the worker to report its pool', async () => (await repos.scheduling.pools()).some((p) => p.executor === 'local' && p.gpus === 2), 30_000);
  }, 60_000);
  afterAll(async () => {
    if (worker) await stopWorker(worker);
    await repos.scheduling.forgetPools('local');
  });

  const extract = (name: string, team: string, priority: 'high' | 'normal' | 'low') =>
    api().gpu.start({
      spec: { kind: 'lora-extract', finetuned: `file://${join(artifacts, 'ft')}`, base: `file://${join(artifacts, 'base')}`, output: `file://${join(artifacts, name)}`, maxRank: 8, cuda: true, gpuType: 'A100-80GB' },
      output: { kind: 'adapter', name, baseModelId: baseId, sourceModelId: ftId, rank: 8, targetModules: ['q_proj'] },
      team, priority,
    });
  const startedOrder = () => (existsSync(started) ? readFileSync(started, 'utf8').trim().split('\n').filter(Boolean) : []);
  const free = (name: string) => writeFileSync(join(release, name), '');
  const waits = async () => Object.fromEntries((await api().scheduler.queue()).waiting.map((w) => [w.output, { position: w.position, kind: w.waitKind, reason: w.reason }]));

  it('starts jobs by priority, then fair share between teams, holds what a quota does not allow, and never fails a job for waiting', async () => {
    // J1: alpha's 2-GPU training takes the whole pool at once.
    const j1 = await api().gpu.start({
      spec: {
        kind: 'train', trainer: 'easycontext', model: `file://${join(artifacts, 'base')}`, datasets: [`file://${join(artifacts, 'data')}`], output: `file://${join(artifacts, 'j1')}`,
        stage: { name: 's1', seqLength: 1024, ropeTheta: 500_000, batchSize: 1, steps: 10, learningRate: 2e-5, gpus: 2, gpuType: 'A100-80GB' },
        gpusPerNode: 2,
      },
      output: { kind: 'model', name: 'j1', parentModelId: baseId, lineage: 'context-extension' },
      team: 'alpha',
    });
    expect(j1.job).toMatchObject({ gpuType: 'a100-80gb', gpus: 2, priority: 'normal' });
    expect(j1.job.admittedAt).not.toBeNull();
    // The planner's estimate rides with a training job: tokens × FLOPs/token at the default MFU of the A100's peak.
    expect(j1.job.estimate).toMatchObject({ tokens: 10_240, mfu: 0.4, peakFlops: 312e12, device: 'a100-80gb', devices: 2, peakFrom: 'catalog' });
    await waitFor('J1 to start', async () => startedOrder().includes('j1'), 30_000);
    // Then, in this order: alpha normal, beta low, beta normal, alpha high — 1 GPU each.
    const j2 = await extract('j2', 'alpha', 'normal');
    const j3 = await extract('j3', 'beta', 'low');
    const j4 = await extract('j4', 'beta', 'normal');
    const j5 = await extract('j5', 'alpha', 'high');
    for (const j of [j2, j3, j4, j5]) expect(j.job.admittedAt).toBeNull();
    // While J1 holds both GPUs: high first (J5); then fair share — alpha holds 2, beta none, so beta's
    // J4 goes before alpha's older J2; beta's low J3 would make beta hold 2 with J4 ahead of it: its quota allows 1.
    await waitFor('the queue to be decided', async () => (await waits()).j2?.position === 3, 15_000);
    const w = await waits();
    expect(w.j5).toMatchObject({ position: 1, kind: 'capacity', reason: 'waiting for 1 free a100-80gb GPU: 0 of 2 free' });
    expect(w.j4).toMatchObject({ position: 2, kind: 'order' });
    expect(w.j2).toMatchObject({ position: 3, kind: 'order' });
    expect(w.j3).toMatchObject({ position: null, kind: 'quota' });
    expect(w.j3!.reason).toContain("team beta's quota allows 1 a100-80gb GPU at once");
    // Waiting past the worker's pending timeout (200 ms here) fails nothing.
    await new Promise((r) => setTimeout(r, 1000));
    for (const j of [j2, j3, j4, j5]) expect((await repos.jobs.get(j.job.id)).status).toBe('queued');
    // The capacity API reports the waiting demand, so Terraform can grow the pool.
    const infra = createCaller({ ...apiDeps({ ...testSettings(), queuePrefix: prefix, infraToken: 'infra-test-token' }), actor: null, source: 'http', bearer: 'infra-test-token' });
    expect((await infra.infra.capacity()).pools.find((p) => p.gpuType === 'a100-80gb')?.sources).toMatchObject({ queuedJobs: 4, runningJobs: 1, queuedGpus: 4 });

    free('j1');
    await waitFor('J5 and J4 to start', async () => startedOrder().length === 3, 30_000);
    expect(new Set(startedOrder().slice(1))).toEqual(new Set(['j5', 'j4']));
    expect((await waits()).j3).toMatchObject({ kind: 'quota' });
    expect((await waits()).j2).toMatchObject({ position: 1, kind: 'capacity' });

    // Beta's J4 ends: beta holds nothing, but normal J2 still comes before low J3.
    free('j4');
    await waitFor('J2 to start', async () => startedOrder().includes('j2'), 30_000);
    expect(startedOrder()).not.toContain('j3');
    expect((await waits()).j3).toMatchObject({ position: 1, kind: 'capacity' });
    free('j5');
    await waitFor('J3 to start', async () => startedOrder().includes('j3'), 30_000);
    free('j2');
    free('j3');
    for (const j of [j1, j2, j3, j4, j5]) expect((await jobFinished(repos, j.job.id, 30_000, 200)).status).toBe('succeeded');
    // Started once each, in the order the policy says.
    const order = startedOrder();
    expect(order).toHaveLength(5);
    expect(order[0]).toBe('j1');
    expect(new Set(order.slice(1, 3))).toEqual(new Set(['j5', 'j4']));
    expect(order.slice(3)).toEqual(['j2', 'j3']);
    // Each job's history says why it waited and when it was admitted; its GPU time is the executor's.
    const j3events = await repos.jobs.events(j3.job.id);
    expect(j3events.some((e) => e.type === 'waiting' && e.message.startsWith('held by quota'))).toBe(true);
    expect(j3events.some((e) => e.type === 'admitted')).toBe(true);
    const done1 = await repos.jobs.get(j1.job.id);
    expect(done1.gpuStartedAt!.getTime()).toBeLessThan(done1.gpuEndedAt!.getTime());
    // The accounts: 2 GPUs × J1's time, and J1's estimate beside its actual.
    const report = await api().costs.report({ team: 'alpha' });
    const c1 = report.jobs.find((j) => j.jobId === j1.job.id)!;
    expect(c1.gpuHours).toBeCloseTo((2 * (done1.gpuEndedAt!.getTime() - done1.gpuStartedAt!.getTime())) / 3_600_000, 9);
    expect(report.estimates.map((e) => e.jobId)).toEqual([j1.job.id]);
    expect(report.byTeam.map((t) => t.key)).toEqual(['alpha']);
  }, 240_000);

  it('an admin lets a held job past its quota', async () => {
    await api().scheduler.setQuota({ team: 'alpha', gpuType: 'a100-80gb', gpuHours: 0 });
    const j = await extract('j6', 'alpha', 'normal');
    await waitFor('J6 to be held', async () => (await waits()).j6?.kind === 'quota', 15_000);
    expect((await waits()).j6!.reason).toMatch(/^held by quota: team alpha has used [\d.]+ of its 0 a100-80gb GPU-hours this month/);
    await api().scheduler.overrideQuota({ jobId: j.job.id, reason: 'deadline' });
    await waitFor('J6 to start', async () => startedOrder().includes('j6'), 30_000);
    free('j6');
    expect((await jobFinished(repos, j.job.id, 30_000, 200)).status).toBe('succeeded');
    expect((await repos.jobs.events(j.job.id)).some((e) => e.type === 'quota-override' && e.message.includes('deadline'))).toBe(true);
    await api().scheduler.removeQuota({ team: 'alpha', gpuType: 'a100-80gb' });
  }, 90_000);
});

describe('a scheduling pass that dies half way', () => {
  it('loses no admitted job and queues none twice', async () => {
    await resetDb();
    const deps = { repos, producer: () => redisConnection(testSettings().redisUrl, 'producer'), queuePrefix: `${prefix}-crash` };
    const config = { numLayers: 4, hiddenSize: 128, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 384, vocabSize: 259, ropeTheta: 10_000, maxPositionEmbeddings: 512, tokenizer: 'byte' };
    const caller = createCaller({ ...apiDeps({ ...testSettings(), queuePrefix: deps.queuePrefix }), actor: null, source: 'internal' });
    const base = await caller.models.create({ name: 'crash-base', config });
    // No pool reported yet: the API's own pass after the submission has nothing to admit to.
    await repos.scheduling.reportPools('local', [], 'test');
    const { job } = await caller.gpu.start({
      spec: { kind: 'lora-extract', finetuned: 'file:///tmp/ft', base: 'file:///tmp/base', output: 'file:///tmp/crash-out', maxRank: 8, cuda: true, gpuType: 'a100-80gb' },
      output: { kind: 'adapter', name: 'crash', baseModelId: base.id, rank: 8, targetModules: ['q_proj'] },
    });
    expect(job.admittedAt).toBeNull();
    const queue = queueOf(deps.producer(), gpuJob, deps.queuePrefix);
    await repos.scheduling.reportPools('local', [{ gpuType: 'a100-80gb', gpus: 1, nodes: 1, foreignUsed: 0 }], 'test');
    // The pass commits the admission, then its process dies before the queue hears of it.
    await expect(schedulePass(deps, { afterCommit: () => { throw new Error('killed'); } })).rejects.toThrow('killed');
    expect((await repos.jobs.get(job.id)).admittedAt).not.toBeNull();
    expect(await queue.getJobCounts('waiting', 'active', 'delayed')).toEqual({ waiting: 0, active: 0, delayed: 0 });
    // The next pass — any worker's — puts it on the queue; more passes add nothing, and nothing else is admitted.
    const next = await schedulePass(deps);
    expect(next.admitted).toEqual([]);
    await schedulePass(deps);
    await schedulePass(deps);
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
    expect((await repos.jobs.events(job.id)).filter((e) => e.type === 'admitted')).toHaveLength(1);
    await queue.obliterate({ force: true });
    await repos.scheduling.forgetPools('local');
  }, 60_000);

  it('admits what a reading of the whole queue would, though it reads only the head of each lane', async () => {
    await resetDb();
    const deps = { repos, producer: () => redisConnection(testSettings().redisUrl, 'producer'), queuePrefix: `${prefix}-lanes` };
    const caller = createCaller({ ...apiDeps({ ...testSettings(), queuePrefix: deps.queuePrefix }), actor: null, source: 'internal' });
    const config = { numLayers: 4, hiddenSize: 128, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 384, vocabSize: 259, ropeTheta: 10_000, maxPositionEmbeddings: 512, tokenizer: 'byte' };
    const base = await caller.models.create({ name: 'lanes-base', config });
    await caller.teams.create({ name: 'a' });
    await caller.teams.create({ name: 'b' });
    await caller.scheduler.setQuota({ team: 'a', gpuType: 'a100-80gb', maxGpus: 1 });
    await repos.scheduling.reportPools('local', [], 'test');
    // Team a, normal: four 2-GPU jobs its quota (1 GPU at once) holds, then a 1-GPU job it allows. Team b, low: three 1-GPU jobs.
    const submit = async (name: string, team: string, priority: 'normal' | 'low', gpus: number) =>
      (await caller.gpu.start({
        spec: gpus === 1
          ? { kind: 'lora-extract', finetuned: 'file:///m/ft', base: 'file:///m/base', output: `file:///m/${name}`, maxRank: 8, cuda: true, gpuType: 'a100-80gb' }
          : { kind: 'train', trainer: 'easycontext', model: 'file:///m/base', datasets: ['file:///m/data'], output: `file:///m/${name}`, stage: { name: 's', seqLength: 1024, ropeTheta: 500_000, batchSize: 1, steps: 1, learningRate: 1e-5, gpus, gpuType: 'a100-80gb' }, gpusPerNode: gpus },
        output: gpus === 1 ? { kind: 'adapter', name, baseModelId: base.id, rank: 8, targetModules: ['q_proj'] } : { kind: 'model', name, parentModelId: base.id, lineage: 'context-extension' },
        team, priority,
      })).job.id;
    const ids: Record<string, string> = {};
    for (let i = 1; i <= 4; i++) ids[`a${i}`] = await submit(`lanes-a${i}`, 'a', 'normal', 2);
    ids.a5 = await submit('lanes-a5', 'a', 'normal', 1);
    for (let i = 1; i <= 3; i++) ids[`b${i}`] = await submit(`lanes-b${i}`, 'b', 'low', 1);
    // 3 GPUs free: a pass reads 4 jobs of a lane; a's first 4 all stand aside, so it reads a's lane whole and finds a5.
    await repos.scheduling.reportPools('local', [{ gpuType: 'a100-80gb', gpus: 3, nodes: 1, foreignUsed: 0 }], 'test');
    const pass = await schedulePass(deps);
    const name = Object.fromEntries(Object.entries(ids).map(([k, v]) => [v, k]));
    expect(pass.admitted.map((id) => name[id]).sort()).toEqual(['a5', 'b1', 'b2']);
    expect(pass.waiting.map((w) => [name[w.jobId], w.kind]).sort()).toEqual([['a1', 'quota'], ['a2', 'quota'], ['a3', 'quota'], ['a4', 'quota'], ['b3', 'capacity']]);
    await queueOf(deps.producer(), gpuJob, deps.queuePrefix).obliterate({ force: true });
    await repos.scheduling.forgetPools('local');
  }, 60_000);
});
