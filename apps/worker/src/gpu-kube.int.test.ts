import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '@ctxlab/dispatch/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDeps, createCaller } from '@ctxlab/api';
import { resetDb, testRepos, testSettings } from '@ctxlab/testing/db';
import { startWorker, stopWorker, jobFinished, waitFor } from '@ctxlab/testing/worker';
import { loadKubeEnv } from './kube';

const prefix = `gpukube-${process.pid}`;
const api = () => createCaller({ ...apiDeps({ ...testSettings(), queuePrefix: prefix }), actor: null, source: 'internal' });
const repos = testRepos();
const NS = 'gpu-jobs';

/**
 * The worker with its Kubernetes executor, configured only through its environment (a kubeconfig
 * file, namespace, images), against a Kubernetes API server on a real socket. The test plays the
 * kubelet: it moves pods through their phases, writes their logs and answers the readiness probe.
 */
describe('GPU jobs on the kubernetes executor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctxlab-gpukube-'));
  let fake: FakeKubeApiServer;
  let worker: ChildProcess & { output: () => string };
  let health: Server;
  let healthy = false;
  let healthPort = 0;
  let baseId: string;
  let ftId: string;

  beforeAll(async () => {
    await resetDb();
    fake = await startFakeKubeApiServer({ namespaces: [NS], probes: { host: '127.0.0.1', intervalMs: 50 } });
    // The cluster's GPU nodes, labelled as the worker is told (CTXLAB_GPU_TYPE_LABEL): the scheduler admits jobs against them.
    fake.setNode({ name: 'h100-a', labels: { 'example.com/gpu': 'h100-sxm-80gb' }, allocatableGpus: 8, taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] });
    const kubeconfig = join(dir, 'kubeconfig.json');
    writeFileSync(kubeconfig, fake.kubeConfig(NS).exportConfig());
    health = createServer((req, res) => {
      res.statusCode = req.url === '/health' && healthy ? 200 : 503;
      res.end();
    });
    await new Promise<void>((ok) => health.listen(0, '127.0.0.1', ok));
    healthPort = (health.address() as AddressInfo).port;
    worker = startWorker(prefix, {
      CTXLAB_KUBE_EXECUTOR: 'kubeconfig',
      KUBECONFIG: kubeconfig,
      CTXLAB_JOB_NAMESPACE: NS,
      CTXLAB_JOB_IMAGE: 'ghcr.io/ctxlab/jobs:test',
      CTXLAB_JOB_IMAGE_SERVE: 'vllm/vllm-openai:v0.6.3',
      CTXLAB_GPU_TYPE_LABEL: 'example.com/gpu',
      CTXLAB_JOB_VOLUMES: JSON.stringify([{ name: 'artifacts', persistentVolumeClaim: { claimName: 'ctxlab-artifacts' } }]),
      CTXLAB_JOB_VOLUME_MOUNTS: JSON.stringify([{ name: 'artifacts', mountPath: '/artifacts' }]),
      CTXLAB_KUBE_POLL_MS: '50',
      GPU_STATUS_EVERY_MS: '100',
      GPU_PENDING_TIMEOUT_MS: '2000',
      POOL_REPORT_EVERY_MS: '300',
      GPU_IMAGE_PULL_GRACE_MS: '1000',
      JOBS_DIR: join(dir, 'jobs'),
      ARTIFACTS_DIR: join(dir, 'artifacts'),
    });
    await waitFor('the worker to start', async () => worker.output().includes('GPU executors: local, kubernetes'), 60_000);
    const config = { numLayers: 32, hiddenSize: 4096, numAttentionHeads: 32, numKeyValueHeads: 8, headDim: 128, intermediateSize: 14336, vocabSize: 128256, ropeTheta: 500_000, maxPositionEmbeddings: 8192, tokenizer: 'llama3' };
    baseId = (await api().models.create({ name: 'k-base', config })).id;
    ftId = (await api().models.create({ name: 'k-1048k', origin: 'derived', config: { ...config, ropeTheta: 3_580_165_449, maxPositionEmbeddings: 1_048_576 } })).id;
  }, 90_000);
  afterAll(async () => {
    await stopWorker(worker);
    await repos.scheduling.forgetPools('kubernetes');
    await fake.close();
    await new Promise((ok) => health.close(ok));
  });

  const finished = (jobId: string) => jobFinished(repos, jobId, 60_000, 100);
  const podOf = async (jobId: string) => (await fake.waitForPods(NS, `ctxlab.dev/job-id=${jobId}`, 1, 30_000))[0]!.metadata.name as string;
  const logsOf = async (jobId: string) => (await repos.jobs.events(jobId)).filter((e) => e.type === 'log').map((e) => e.message).join('\n');

  it('an extraction becomes a Job with the configured image, volumes and GPU; its pod log lands in the job log; the adapter is registered', async () => {
    const r = await api().gpu.start({
      executor: 'kubernetes',
      spec: { kind: 'lora-extract', finetuned: 'hf://gradientai/Llama-3-8B-Instruct-Gradient-1048k', base: 'hf://meta-llama/Meta-Llama-3-8B-Instruct', output: 'file:///artifacts/adapters/k-r32', maxRank: 32, gpuType: 'h100-sxm-80gb' },
      output: { kind: 'adapter', name: 'k-r32', baseModelId: baseId, sourceModelId: ftId, rank: 32, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] },
    });
    const pod = await podOf(r.job.id);
    const kjob = fake.list('jobs', NS, `ctxlab.dev/job-id=${r.job.id}`)[0]!;
    const spec = kjob.spec.template.spec;
    expect(spec.containers[0].image).toBe('ghcr.io/ctxlab/jobs:test');
    expect(spec.containers[0].command).toEqual(expect.arrayContaining(['mergekit-extract-lora', '--max-rank', '32']));
    expect(spec.containers[0].resources.limits).toEqual({ 'nvidia.com/gpu': '1' });
    expect(spec.nodeSelector).toEqual({ 'example.com/gpu': 'h100-sxm-80gb' });
    expect(spec.volumes).toEqual(expect.arrayContaining([{ name: 'artifacts', persistentVolumeClaim: { claimName: 'ctxlab-artifacts' } }]));
    expect(spec.containers[0].volumeMounts).toEqual(expect.arrayContaining([{ name: 'artifacts', mountPath: '/artifacts' }]));
    expect(kjob.spec.backoffLimit).toBe(0);

    fake.setPodPhase(NS, pod, 'Running');
    fake.appendLog(NS, pod, 'Loading base model', 'Extracting LoRA: 100%|██████████| 224/224');
    await waitFor('the pod log in the job log', async () => (await logsOf(r.job.id)).includes('Extracting LoRA: 100%'), 30_000);
    expect((await repos.jobs.get(r.job.id)).status).toBe('running');
    fake.appendLog(NS, pod, 'saved adapter');
    fake.setPodPhase(NS, pod, 'Succeeded', { exitCode: 0 });
    const job = await finished(r.job.id);
    expect(job.status, job.error ?? '').toBe('succeeded');
    expect(await logsOf(r.job.id)).toContain('saved adapter');
    const adapter = (await api().adapters.list({ search: 'k-r32' })).items[0];
    expect(adapter).toMatchObject({ rank: 32, baseModelId: baseId, sourceModelId: ftId, uri: 'file:///artifacts/adapters/k-r32' });
  }, 90_000);

  it('an OOM-killed training pod fails the job with the reason in words', async () => {
    const stage = { name: 's1', seqLength: 65536, seqLengthLog2: 16, ropeTheta: 15_296_098, batchSize: 8, steps: 20, learningRate: 2e-5, gpus: 8, gpuType: 'h100-sxm-80gb' };
    const r = await api().gpu.start({
      executor: 'kubernetes',
      spec: { kind: 'train', trainer: 'easycontext', model: 'hf://meta-llama/Meta-Llama-3-8B-Instruct', datasets: ['file:///artifacts/datasets/slimpajama-64k'], output: 'file:///artifacts/models/k-64k', stage },
      output: { kind: 'model', name: 'k-64k', parentModelId: baseId, lineage: 'context-extension', ropeTheta: 15_296_098, maxPositionEmbeddings: 65536 },
    });
    const pod = await podOf(r.job.id);
    expect(fake.list('jobs', NS, `ctxlab.dev/job-id=${r.job.id}`)[0]!.spec.template.spec.containers[0].resources.limits).toEqual({ 'nvidia.com/gpu': '8' });
    fake.setPodPhase(NS, pod, 'Running');
    fake.appendLog(NS, pod, 'step 1/20 loss 2.31');
    fake.setPodPhase(NS, pod, 'Failed', { exitCode: 137, reason: 'OOMKilled' });
    const job = await finished(r.job.id);
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/OOMKilled/);
    expect(job.error).toMatch(/exit 137/);
    expect(job.error).toContain('step 1/20 loss 2.31');
    expect(await repos.db.model.count({ where: { name: 'k-64k' } })).toBe(0);
  }, 90_000);

  it('cancel deletes the Job', async () => {
    const r = await api().gpu.start({
      executor: 'kubernetes',
      spec: { kind: 'lora-extract', finetuned: 'hf://a/ft', base: 'hf://a/base', output: 'file:///artifacts/adapters/k-cancel', maxRank: 8 },
    });
    await podOf(r.job.id);
    await api().jobs.cancel({ id: r.job.id });
    expect((await finished(r.job.id)).status).toBe('cancelled');
    await waitFor('the Job to be deleted', async () => fake.list('jobs', NS, `ctxlab.dev/job-id=${r.job.id}`).length === 0, 30_000);
  }, 90_000);

  it('a job for GPUs the cluster lacks waits (never failing) until a node pool has them, then runs', async () => {
    const r = await api().gpu.start({
      executor: 'kubernetes',
      spec: { kind: 'lora-extract', finetuned: 'hf://a/ft', base: 'hf://a/base', output: 'file:///artifacts/adapters/k-pending', maxRank: 8, gpuType: 'b200-180gb' },
    });
    // No node carries b200-180gb: the job waits in ctxlab's queue, with the reason, and no pod is made.
    await waitFor('the waiting reason', async () => (await repos.jobs.events(r.job.id)).find((e) => e.type === 'waiting'), 10_000);
    expect((await repos.jobs.events(r.job.id)).find((e) => e.type === 'waiting')?.message).toBe('no executor reports b200-180gb GPUs: waiting for a worker or node pool that has them');
    await new Promise((ok) => setTimeout(ok, 3000));
    expect((await repos.jobs.get(r.job.id)).status).toBe('queued');
    expect(fake.list('jobs', NS, `ctxlab.dev/job-id=${r.job.id}`)).toHaveLength(0);
    // The node pool grows (Terraform read the demand from the capacity API): the worker reports it, the scheduler admits the job.
    fake.setNode({ name: 'b200-a', labels: { 'example.com/gpu': 'b200-180gb' }, allocatableGpus: 8 });
    const pod = await podOf(r.job.id);
    // Admitted on a report that is already stale (another tenant took the GPUs): the pod waits past the pending timeout, and the job with it.
    fake.setPodUnschedulable(NS, pod, '0/13 nodes are available: 13 Insufficient nvidia.com/gpu.');
    await waitFor('the long-wait note', async () => (await repos.jobs.events(r.job.id)).some((e) => e.message.startsWith('still waiting for a place to run after 2 s (not enough free GPUs of the requested type); it goes on waiting')), 15_000);
    expect((await repos.jobs.get(r.job.id)).status).toBe('running');
    expect((await repos.jobs.get(r.job.id)).gpuStartedAt).toBeNull();
    fake.setPodPhase(NS, pod, 'Running');
    await waitFor('the GPU clock to start', async () => (await repos.jobs.get(r.job.id)).gpuStartedAt !== null, 10_000);
    fake.setPodPhase(NS, pod, 'Succeeded', { exitCode: 0 });
    const job = await finished(r.job.id);
    expect(job.status, job.error ?? '').toBe('succeeded');
    expect(job.gpuEndedAt!.getTime()).toBeGreaterThanOrEqual(job.gpuStartedAt!.getTime());
    expect((await repos.scheduling.pools()).filter((p) => p.executor === 'kubernetes').map((p) => [p.gpuType, p.gpus])).toEqual([['b200-180gb', 8], ['h100-sxm-80gb', 8]]);
  }, 90_000);

  it('an image that cannot be pulled fails the job after the grace period', async () => {
    const r = await api().gpu.start({
      executor: 'kubernetes',
      spec: { kind: 'lora-extract', finetuned: 'hf://a/ft', base: 'hf://a/base', output: 'file:///artifacts/adapters/k-image', maxRank: 8 },
    });
    const pod = await podOf(r.job.id);
    fake.setContainerWaiting(NS, pod, 'ImagePullBackOff', 'Back-off pulling image "ghcr.io/ctxlab/jobs:test"');
    const job = await finished(r.job.id);
    expect(job.status).toBe('failed');
    expect(job.error).toBe('mergekit did not start: the container image cannot be pulled: ImagePullBackOff: Back-off pulling image "ghcr.io/ctxlab/jobs:test"');
  }, 90_000);

  it('serve: a Deployment whose readiness probe answers registers an endpoint; stopping it scales the Deployment to zero', async () => {
    const config = { numLayers: 32, hiddenSize: 4096, numAttentionHeads: 32, numKeyValueHeads: 8, headDim: 128, intermediateSize: 14336, vocabSize: 128256, ropeTheta: 3_580_165_449, maxPositionEmbeddings: 1_048_576, tokenizer: 'llama3' };
    const r = await api().gpu.start({
      executor: 'kubernetes',
      spec: { kind: 'serve', model: 'hf://gradientai/Llama-3-8B-Instruct-Gradient-1048k', servedName: 'k-1048k', modelConfig: config, gpuType: 'h100-sxm-80gb', tensorParallelSize: 1, maxModelLen: 65536, port: healthPort },
      output: { kind: 'endpoint', name: 'k-1048k-serve', modelId: ftId },
    });
    const pod = await podOf(r.job.id);
    const dep = fake.list('deployments', NS, `ctxlab.dev/job-id=${r.job.id}`)[0]!;
    expect(dep.spec.template.spec.containers[0].image).toBe('vllm/vllm-openai:v0.6.3');
    expect(dep.spec.template.spec.containers[0].readinessProbe.httpGet).toMatchObject({ path: '/health', port: healthPort });
    fake.setPodPhase(NS, pod, 'Running');
    await new Promise((ok) => setTimeout(ok, 300));
    expect(await repos.db.endpoint.count({ where: { name: 'k-1048k-serve' } })).toBe(0); // not ready yet
    healthy = true;
    const endpoint = await waitFor('the endpoint', () => repos.db.endpoint.findUnique({ where: { name: 'k-1048k-serve' } }), 30_000);
    expect(endpoint).toMatchObject({ kind: 'vllm', servedModelName: 'k-1048k', gpuType: 'h100-sxm-80gb', gpuCount: 1, modelId: ftId });
    expect(endpoint.url).toMatch(new RegExp(`^http://ctxlab-[a-z0-9-]+\\.${NS}\\.svc(\\.cluster\\.local)?:${healthPort}/v1$`));
    await api().jobs.cancel({ id: r.job.id });
    expect((await finished(r.job.id)).status).toBe('cancelled');
    // Stopped = scaled to zero: the Deployment and Service stay, ready to scale back.
    await waitFor('the Deployment to scale to zero', async () => fake.list('deployments', NS, `ctxlab.dev/job-id=${r.job.id}`)[0]?.spec.replicas === 0, 30_000);
    await waitFor('the endpoint to say it is stopped', async () => (await repos.db.endpoint.findUnique({ where: { name: 'k-1048k-serve' } }))?.lastStatus === 'stopped: stopped by a person', 10_000);
    await waitFor('the serving pod to go', async () => fake.list('pods', NS, `ctxlab.dev/job-id=${r.job.id}`).length === 0, 30_000);
  }, 90_000);

  it('a recipe run dispatches each stage as a Job with its rendered command, chaining stage 2 to stage 1\'s output', async () => {
    const lab = { numLayers: 4, hiddenSize: 128, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 384, vocabSize: 259, tokenizer: 'byte', dtype: 'fp32', tieWordEmbeddings: true } as const;
    const base = await api().models.create({ name: 'k-lab', sourceUri: 'file:///artifacts/models/lab-stage1', config: { ...lab, ropeTheta: 10_000, maxPositionEmbeddings: 512 } });
    const stage = (name: string, seqLength: number, ropeTheta: number) => ({ name, seqLength, ropeTheta, steps: 300, batchSize: 4, learningRate: 1e-3, gpus: 1, gpuType: 'h100-sxm-80gb' });
    const recipe = await api().recipes.create({ name: 'k-lab-progressive', spec: { method: 'full', trainer: 'lab', baseModel: 'k-lab', targetContext: 2048, progressive: true, stages: [stage('k-1k', 1024, 40_000), stage('k-2k', 2048, 154_243)] } });
    await expect(api().recipes.run({ recipeId: recipe.id, baseModelId: base.id, executor: 'kubernetes', device: 'cuda' })).rejects.toThrow(/outputRoot: a run on Kubernetes writes its stage models where the cluster's jobs can/);
    const run = await api().recipes.run({ recipeId: recipe.id, baseModelId: base.id, name: 'k-run', executor: 'kubernetes', device: 'cuda', outputRoot: 'file:///artifacts/recipe-runs/k-run' });
    const commands: string[][] = [];
    for (const [k, out] of [[0, '/artifacts/recipe-runs/k-run/k-1k'], [1, '/artifacts/recipe-runs/k-run/k-2k']] as const) {
      const trainJobId = (await waitFor(`stage ${k + 1}'s training job`, async () => (await api().recipes.runGet({ id: run.id })).stages[k]!.trainJobId, 30_000))!;
      const pod = await podOf(trainJobId);
      const container = fake.list('jobs', NS, `ctxlab.dev/job-id=${trainJobId}`)[0]!.spec.template.spec.containers[0];
      expect(container.resources.limits).toEqual({ 'nvidia.com/gpu': '1' });
      commands.push(container.command as string[]);
      expect(container.command).toEqual(expect.arrayContaining(['--out', out, '--device', 'cuda', '--batch-tokens', String(4 * (k ? 2048 : 1024))]));
      fake.setPodPhase(NS, pod, 'Running');
      fake.appendLog(NS, pod, `step 300/300 len ${k ? 2048 : 1024} bs 4 loss_ans 0.2 (ema 0.2)`, `done: 300 steps, saved ${out}`);
      fake.setPodPhase(NS, pod, 'Succeeded', { exitCode: 0 });
    }
    // Stage 1 trains from the base model's weights; stage 2 from stage 1's output, with its own θ and length.
    const arg = (cmd: string[], flag: string) => cmd[cmd.indexOf(flag) + 1];
    expect(commands.map((c) => [arg(c, '--init'), arg(c, '--theta'), arg(c, '--seq-len')])).toEqual([
      ['/artifacts/models/lab-stage1', '40000', '1024'],
      ['/artifacts/recipe-runs/k-run/k-1k', '154243', '2048'],
    ]);
    const done = await waitFor('the run to succeed', async () => {
      const r = await api().recipes.runGet({ id: run.id });
      return r.status === 'succeeded' ? r : null;
    }, 30_000);
    expect(done.stages.map((s) => s.model?.name)).toEqual(['k-run-k-1k', 'k-run-k-2k']);
    // Pods hold a GPU each: the run's GPU-hours are their wall time.
    expect(done.gpuHours).toBeGreaterThan(0);
    expect((await repos.models.get(done.stages[1]!.model!.id)).sourceUri).toBe('file:///artifacts/recipe-runs/k-run/k-2k');
  }, 90_000);

  it('configuration errors name the variable at fault', () => {
    expect(() => loadKubeEnv({ CTXLAB_KUBE_EXECUTOR: 'kubeconfig', CTXLAB_JOB_IMAGE: 'x' })).toThrow(/KUBECONFIG must name a kubeconfig file/);
    expect(() => loadKubeEnv({ CTXLAB_KUBE_EXECUTOR: 'in-cluster' })).toThrow(/CTXLAB_JOB_IMAGE/);
    expect(() => loadKubeEnv({ CTXLAB_KUBE_EXECUTOR: 'yes' })).toThrow(/CTXLAB_KUBE_EXECUTOR must be off, in-cluster or kubeconfig/);
    expect(() => loadKubeEnv({ CTXLAB_KUBE_EXECUTOR: 'in-cluster', CTXLAB_JOB_IMAGE: 'x', CTXLAB_JOB_VOLUMES: '[{' })).toThrow(/CTXLAB_JOB_VOLUMES must be JSON/);
    expect(loadKubeEnv({}).CTXLAB_KUBE_EXECUTOR).toBe('off');
  });
});
