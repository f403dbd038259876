import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatchV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderJob } from '../../render/index';
import { GRADIENT_1048K_EXTRACT, GRADIENT_1048K_MERGE, GRADIENT_TRAIN_SPECS, ZHINAO_360K_SERVE } from '../../testing/seeds';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../../testing/fake-kube-apiserver';
import type { JobHandle, LogLine } from '../types';
import { KubernetesExecutor, type KubernetesExecutorOptions } from './executor';
import { kubeName } from './manifests';
import { rejection } from '../../testing/thrown';

const NS = 'ctxlab';
let fake: FakeKubeApiServer;
let executor: KubernetesExecutor;
let options: KubernetesExecutorOptions;
let health: Server;
let healthy = false;
let healthPort = 0;

beforeAll(async () => {
  fake = await startFakeKubeApiServer({ probes: { host: '127.0.0.1', intervalMs: 20 } });
  options = {
    kubeConfig: fake.kubeConfig(),
    namespace: NS,
    images: { train: 'ghcr.io/ctxlab/easycontext:2024.06', 'lora-extract': 'ghcr.io/ctxlab/mergekit:0.1.4', 'lora-merge': 'ghcr.io/ctxlab/mergekit:0.1.4', serve: 'vllm/vllm-openai:v0.6.3' },
    pollIntervalMs: 20,
  };
  executor = new KubernetesExecutor(options);
  // Stands in for the vLLM pod: the fake kubelet's readiness probe calls it.
  health = createServer((req, res) => {
    res.statusCode = req.url === '/health' && healthy ? 200 : 503;
    res.end();
  });
  await new Promise<void>((ok) => health.listen(0, '127.0.0.1', ok));
  healthPort = (health.address() as AddressInfo).port;
});
afterAll(async () => {
  await fake.close();
  await new Promise((ok) => health.close(ok));
});

let n = 0;
const id = (p: string) => `${p}-${++n}`;

async function collect(h: JobHandle): Promise<string[]> {
  const out: string[] = [];
  for await (const l of h.logs() as AsyncIterable<LogLine>) out.push(l.text);
  return out;
}

const podName = (p: Record<string, unknown>) => (p.metadata as { name: string }).name;

async function until(f: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('kubernetes executor: batch jobs', () => {
  it('creates the Job with the rendered command, GPU limits, node selector, toleration and files; cancel deletes it in the foreground', async () => {
    const jobId = id('gradient-stage-4');
    const rendered = renderJob(GRADIENT_TRAIN_SPECS[3]!);
    const h = await executor.start(jobId, rendered);
    const name = kubeName(jobId);
    expect(name).toBe(`ctxlab-${jobId}`);
    const job = fake.get('jobs', NS, name)!;
    expect(job.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'ctxlab', 'ctxlab.dev/job-id': jobId, 'ctxlab.dev/kind': 'train' });
    expect(job.metadata.annotations['ctxlab.dev/job-id']).toBe(jobId);
    expect(job.spec).toMatchObject({ backoffLimit: 0, ttlSecondsAfterFinished: 604800, completionMode: 'Indexed', completions: 16, parallelism: 16 });
    const pod = job.spec.template.spec;
    expect(pod.serviceAccountName).toBe('ctxlab-jobs');
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.subdomain).toBe(name);
    expect(pod.nodeSelector).toEqual({ 'ctxlab.dev/gpu-type': 'l40s-48gb' });
    expect(pod.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    const c = pod.containers[0];
    expect(c.name).toBe('main');
    expect(c.image).toBe('ghcr.io/ctxlab/easycontext:2024.06');
    expect(c.command).toEqual(rendered.argv);
    expect(c.workingDir).toBe('/ctxlab/work');
    expect(c.resources).toEqual({ limits: { 'nvidia.com/gpu': '8' } });
    expect(c.env).toEqual([
      { name: 'CTXLAB_NODE_RANK', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } },
      { name: 'CTXLAB_MASTER_ADDR', value: `${name}-0.${name}.ctxlab.svc` },
    ]);
    expect(c.volumeMounts).toEqual(
      expect.arrayContaining([
        { name: 'work', mountPath: '/ctxlab/work' },
        { name: 'dshm', mountPath: '/dev/shm' },
        { name: 'files', mountPath: '/ctxlab/work/accelerate.yaml', subPath: 'accelerate.yaml', readOnly: true },
        { name: 'files', mountPath: '/ctxlab/work/deepspeed_zero3.json', subPath: 'deepspeed_zero3.json', readOnly: true },
      ]),
    );
    // Files: a ConfigMap owned by the Job.
    const cm = fake.get('configmaps', NS, `${name}-files`)!;
    expect(Object.values(cm.data)).toEqual(rendered.files.map((f) => f.content));
    expect(cm.metadata.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'Job', name, uid: job.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    // Rank 0's DNS name: a headless Service owned by the Job.
    const svc = fake.get('services', NS, name)!;
    expect(svc.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true, selector: { 'ctxlab.dev/job-id': jobId } });
    const pods = await fake.waitForPods(NS, `ctxlab.dev/job-id=${jobId}`, 16);
    expect(pods.map((p) => p.metadata.labels['batch.kubernetes.io/job-completion-index']).sort((a, b) => a - b)).toEqual([...Array(16).keys()].map(String));

    expect((await h.status()).phase).toBe('pending');
    await h.cancel('superseded by a new recipe version');
    expect(await h.wait()).toEqual({ exitCode: null, reason: 'cancelled', message: 'superseded by a new recipe version' });
    const del = fake.requests.find((r) => r.method === 'DELETE' && r.path === `/apis/batch/v1/namespaces/${NS}/jobs/${name}`)!;
    expect(del.query.propagationPolicy ?? (del.body as { propagationPolicy?: string })?.propagationPolicy).toBe('Foreground');
    expect(fake.get('jobs', NS, name)).toBeUndefined();
    expect(fake.list('pods', NS, `ctxlab.dev/job-id=${jobId}`)).toEqual([]);
    expect(fake.get('configmaps', NS, `${name}-files`)).toBeUndefined();
    expect(fake.get('services', NS, name)).toBeUndefined();
    expect((await h.status()).phase).toBe('cancelled');
  });

  it('streams the log while the pod runs and maps success', async () => {
    const jobId = id('extract');
    const h = await executor.start(jobId, renderJob(GRADIENT_1048K_EXTRACT));
    const job = fake.get('jobs', NS, kubeName(jobId))!;
    expect(job.spec.template.spec.containers[0].resources).toEqual({ limits: { 'nvidia.com/gpu': '1' } });
    expect(job.spec.template.spec.nodeSelector).toBeUndefined();
    expect(job.spec.completionMode).toBeUndefined();
    const [pod] = await fake.waitForPods(NS, `ctxlab.dev/job-id=${jobId}`);
    const logs = collect(h);
    fake.setPodPhase(NS, podName(pod!), 'Running');
    await until(() => fake.list('pods', NS, `ctxlab.dev/job-id=${jobId}`)[0]!.status.phase === 'Running');
    expect((await h.status()).phase).toBe('running');
    fake.appendLog(NS, podName(pod!), 'Planning operations', 'LoRA adapter extracted to /artifacts/adapters/llama-3-70b-1048k-r32');
    await new Promise((r) => setTimeout(r, 60));
    fake.appendLog(NS, podName(pod!), 'done');
    fake.setPodPhase(NS, podName(pod!), 'Succeeded', { exitCode: 0 });
    expect(await h.wait()).toEqual({ exitCode: 0, reason: 'succeeded' });
    expect(await logs).toEqual(['Planning operations', 'LoRA adapter extracted to /artifacts/adapters/llama-3-70b-1048k-r32', 'done']);
    expect(await h.status()).toEqual({ phase: 'succeeded', exitCode: 0 });
    // Read again after the fact: the whole log.
    expect(await collect(h)).toEqual(['Planning operations', 'LoRA adapter extracted to /artifacts/adapters/llama-3-70b-1048k-r32', 'done']);
  });

  it('maps failure with the container exit code and reason', async () => {
    const jobId = id('merge');
    const h = await executor.start(jobId, renderJob(GRADIENT_1048K_MERGE));
    const [pod] = await fake.waitForPods(NS, `ctxlab.dev/job-id=${jobId}`);
    fake.setPodPhase(NS, podName(pod!), 'Running');
    fake.appendLog(NS, podName(pod!), 'torch.OutOfMemoryError: CUDA out of memory');
    fake.setPodPhase(NS, podName(pod!), 'Failed', { exitCode: 137, reason: 'OOMKilled' });
    const r = await h.wait();
    expect(r).toEqual({
      exitCode: 137,
      reason: 'failed',
      message: 'BackoffLimitExceeded: Job has reached the specified backoff limit (container OOMKilled, exit 137)',
    });
    expect(await collect(h)).toEqual(['torch.OutOfMemoryError: CUDA out of memory']);
    expect((await h.status()).phase).toBe('failed');
  });

  it('a pod that starts, writes and fails between two polls of the log follower still has its log read', async () => {
    const jobId = id('blink');
    const h = await executor.start(jobId, renderJob(GRADIENT_1048K_MERGE));
    const [pod] = await fake.waitForPods(NS, `ctxlab.dev/job-id=${jobId}`);
    const name = podName(pod!);
    // Right after the follower's first pod listing (the pod still Pending) is answered, and before
    // it asks whether the Job is over, the pod runs, writes a line and is killed.
    let moved = false;
    const off = fake.afterAnswer((r) => {
      if (moved || r.method !== 'GET' || !r.path.endsWith(`/namespaces/${NS}/pods`) || !r.query.labelSelector?.includes(jobId)) return;
      moved = true;
      fake.setPodPhase(NS, name, 'Running');
      fake.appendLog(NS, name, 'step 1/20 loss 2.31');
      fake.setPodPhase(NS, name, 'Failed', { exitCode: 137, reason: 'OOMKilled' });
    });
    try {
      const lines = await collect(h);
      expect(moved).toBe(true);
      expect(lines).toEqual(['step 1/20 loss 2.31']);
      expect((await h.wait()).exitCode).toBe(137);
    } finally {
      off();
    }
  });

  it('says why a pod is pending', async () => {
    const jobId = id('pending');
    const h = await executor.start(jobId, renderJob(GRADIENT_1048K_EXTRACT));
    const [pod] = await fake.waitForPods(NS, `ctxlab.dev/job-id=${jobId}`);
    fake.setPodUnschedulable(NS, podName(pod!), '0/4 nodes are available: 4 Insufficient nvidia.com/gpu.');
    expect(await h.status()).toEqual({ phase: 'pending', message: 'Unschedulable: 0/4 nodes are available: 4 Insufficient nvidia.com/gpu.' });
    await h.cancel();
  });

  it('a second start with the same job id attaches to the existing Job (409 AlreadyExists)', async () => {
    const jobId = id('twice');
    const a = await executor.start(jobId, renderJob(GRADIENT_1048K_MERGE));
    const b = await new KubernetesExecutor(options).start(jobId, renderJob(GRADIENT_1048K_MERGE));
    const posts = fake.requests.filter((r) => r.method === 'POST' && r.path === `/apis/batch/v1/namespaces/${NS}/jobs` && (r.body as { metadata: { name: string } }).metadata.name === kubeName(jobId));
    expect(posts.length).toBe(2);
    expect(fake.list('jobs', NS, `ctxlab.dev/job-id=${jobId}`).length).toBe(1);
    const pods = await fake.waitForPods(NS, `ctxlab.dev/job-id=${jobId}`);
    expect(pods.length).toBe(1);
    fake.setPodPhase(NS, podName(pods[0]!), 'Succeeded', { exitCode: 0 });
    expect((await a.wait()).reason).toBe('succeeded');
    expect((await b.wait()).reason).toBe('succeeded');
  });

  it('refuses to attach to an object of the same name that is not this job', async () => {
    const jobId = id('squatted');
    const api = fake.kubeConfig().makeApiClient(BatchV1Api);
    await api.createNamespacedJob({
      namespace: NS,
      body: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: kubeName(jobId) }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'x', image: 'busybox' }] } } } },
    });
    const e = await rejection(executor.start(jobId, renderJob(GRADIENT_1048K_MERGE)));
    expect(e.code).toBe('KUBE_CONFLICT');
    expect(e.message).toMatch(/belongs to something other than ctxlab/);
  });

  it('422 from the API server surfaces the field it names, and leaves nothing behind', async () => {
    const jobId = id('bad-label');
    // A node label key the cluster refuses (operator configuration; a spec's own fields are checked before any call).
    const bad = new KubernetesExecutor({ ...options, gpuTypeLabel: 'ctxlab.dev/gpu type' });
    const e = await rejection(bad.start(jobId, renderJob({ ...GRADIENT_1048K_EXTRACT, gpuType: 'h100-sxm-80gb' })));
    expect(e.code).toBe('KUBE_INVALID');
    expect(e.field).toBe('spec.template.spec.nodeSelector');
    expect(e.message).toMatch(/^Kubernetes rejected creating Job ctxlab-bad-label-\d+: Job\.batch "ctxlab-bad-label-\d+" is invalid: spec\.template\.spec\.nodeSelector: Invalid value: "ctxlab\.dev\/gpu type"/);
    expect(fake.get('jobs', NS, kubeName(jobId))).toBeUndefined();
  });

  it('a rendered env no spec could set is refused before any API call', async () => {
    const jobId = id('bad-env');
    for (const env of [{ NODE_OPTIONS: '--import=data:text/javascript,1' }, { LD_PRELOAD: '/tmp/x.so' }, { '1_BAD': 'x' }] as Record<string, string>[]) {
      const e = await rejection(executor.start(jobId, { ...renderJob(GRADIENT_1048K_EXTRACT), env }));
      expect(e.code).toBe('INVALID_SPEC');
      expect(e.field).toBe(`env.${Object.keys(env)[0]}`);
    }
    expect(fake.get('jobs', NS, kubeName(jobId))).toBeUndefined();
  });

  it('no image for the job kind is refused before any API call', async () => {
    const e = await rejection(new KubernetesExecutor({ ...options, images: {} }).start(id('noimage'), renderJob(GRADIENT_1048K_EXTRACT)));
    expect(e.code).toBe('INVALID_SPEC');
    expect(e.field).toBe('images.lora-extract');
  });

  it('reconnects a log stream the server closed, without repeating lines', async () => {
    const jobId = id('reconnect');
    const h = await executor.start(jobId, renderJob(GRADIENT_1048K_EXTRACT));
    const [pod] = await fake.waitForPods(NS, `ctxlab.dev/job-id=${jobId}`);
    const name = podName(pod!);
    fake.setPodPhase(NS, name, 'Running');
    fake.appendLog(NS, name, 'a', 'b', 'c');
    const seen: string[] = [];
    const reader = (async () => {
      for await (const l of h.logs()) seen.push(l.text);
    })();
    await until(() => seen.length === 3);
    const opened = fake.requests.filter((r) => r.path.endsWith(`/pods/${name}/log`)).length;
    fake.dropLogStreams(NS, name);
    await until(() => fake.requests.filter((r) => r.path.endsWith(`/pods/${name}/log`)).length > opened);
    expect(fake.requests.filter((r) => r.path.endsWith(`/pods/${name}/log`)).at(-1)!.query.sinceTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    fake.appendLog(NS, name, 'd', 'e');
    fake.setPodPhase(NS, name, 'Succeeded', { exitCode: 0 });
    await reader;
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('rides out transient API errors', async () => {
    const jobId = id('flaky');
    const h = await executor.start(jobId, renderJob(GRADIENT_1048K_EXTRACT));
    fake.injectFault({ method: 'GET', path: new RegExp(`/jobs/${kubeName(jobId)}$`), status: 503, times: 3 });
    const [pod] = await fake.waitForPods(NS, `ctxlab.dev/job-id=${jobId}`);
    fake.setPodPhase(NS, podName(pod!), 'Succeeded', { exitCode: 0 });
    expect((await h.wait()).reason).toBe('succeeded');
  });

  it('a timeout becomes activeDeadlineSeconds, and DeadlineExceeded maps to reason "timeout"', async () => {
    const jobId = id('deadline');
    const h = await executor.start(jobId, renderJob(GRADIENT_1048K_EXTRACT), { timeoutMs: 1000 });
    expect(fake.get('jobs', NS, kubeName(jobId))!.spec.activeDeadlineSeconds).toBe(1);
    const r = await h.wait();
    expect(r.reason).toBe('timeout');
    expect(r.message).toMatch(/^DeadlineExceeded: Job was active longer than specified deadline/);
  });

  it('attach() finds a job after a restart', async () => {
    const jobId = id('restart');
    await executor.start(jobId, renderJob(GRADIENT_1048K_EXTRACT));
    const again = await new KubernetesExecutor(options).attach(jobId);
    expect(again?.kind).toBe('lora-extract');
    const [pod] = await fake.waitForPods(NS, `ctxlab.dev/job-id=${jobId}`);
    fake.setPodPhase(NS, podName(pod!), 'Succeeded', { exitCode: 0 });
    expect((await again!.wait()).reason).toBe('succeeded');
    expect(await executor.attach(id('never-started'))).toBeNull();
  });
});

describe('kubernetes executor: close', () => {
  it('close() detaches followers and leaves the Job running', async () => {
    const jobId = id('detach');
    const own = new KubernetesExecutor(options);
    const h = await own.start(jobId, renderJob(GRADIENT_1048K_EXTRACT));
    const waiting = h.wait();
    own.close();
    const e = await rejection(waiting);
    expect(e.code).toBe('DETACHED');
    expect(fake.get('jobs', NS, kubeName(jobId))).toBeDefined();
    const again = await executor.attach(jobId);
    const [pod] = await fake.waitForPods(NS, `ctxlab.dev/job-id=${jobId}`);
    fake.setPodPhase(NS, podName(pod!), 'Succeeded', { exitCode: 0 });
    expect((await again!.wait()).reason).toBe('succeeded');
  });
});

describe('kubernetes executor: serve', () => {
  it('Deployment + Service; ready when the pod answers /health; stop scales to zero; start again scales back', async () => {
    healthy = false;
    const jobId = id('serve-360k');
    const rendered = renderJob({ ...ZHINAO_360K_SERVE, port: healthPort });
    const h = await executor.start(jobId, rendered);
    const name = kubeName(jobId);
    const d = fake.get('deployments', NS, name)!;
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy).toEqual({ type: 'Recreate' });
    const c = d.spec.template.spec.containers[0];
    expect(c.command).toEqual(rendered.argv);
    expect(c.image).toBe('vllm/vllm-openai:v0.6.3');
    expect(c.resources).toEqual({ limits: { 'nvidia.com/gpu': '8' } });
    expect(c.readinessProbe).toEqual({ httpGet: { path: '/health', port: healthPort }, periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 5 });
    expect(c.env).toEqual([
      { name: 'PYTORCH_CUDA_ALLOC_CONF', value: 'max_split_size_mb:256' },
      { name: 'VLLM_ALLOW_LONG_MAX_MODEL_LEN', value: '1' },
    ]);
    expect(d.spec.template.spec.nodeSelector).toEqual({ 'ctxlab.dev/gpu-type': 'a800-80gb' });
    expect(d.spec.template.spec.restartPolicy).toBe('Always');
    const svc = fake.get('services', NS, name)!;
    expect(svc.spec.ports).toEqual([{ name: 'http', port: healthPort, targetPort: healthPort }]);
    expect(svc.metadata.ownerReferences[0].uid).toBe(d.metadata.uid);

    const [pod] = await fake.waitForPods(NS, `ctxlab.dev/job-id=${jobId}`);
    fake.setPodPhase(NS, podName(pod!), 'Running');
    const ready = h.ready({ timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 100));
    expect((await h.status()).phase).toBe('running'); // probe answers 503 so far
    healthy = true;
    expect(await ready).toEqual({ url: `http://${name}.${NS}.svc:${healthPort}` });
    expect((await h.status()).phase).toBe('ready');

    await h.cancel();
    expect(await h.wait()).toEqual({ exitCode: null, reason: 'stopped', message: 'stopped' });
    const scale = fake.requests.find((r) => r.method === 'PATCH' && r.path === `/apis/apps/v1/namespaces/${NS}/deployments/${name}/scale`)!;
    expect(scale.contentType).toBe('application/merge-patch+json');
    expect(scale.body).toEqual({ spec: { replicas: 0 } });
    expect(fake.get('deployments', NS, name)!.spec.replicas).toBe(0);
    expect(fake.list('pods', NS, `ctxlab.dev/job-id=${jobId}`)).toEqual([]);

    const again = await executor.start(jobId, rendered);
    expect(fake.get('deployments', NS, name)!.spec.replicas).toBe(1);
    await fake.waitForPods(NS, `ctxlab.dev/job-id=${jobId}`);
    await again.cancel();
  });

  it('a crash-looping server fails the job and is scaled to zero', async () => {
    const jobId = id('serve-crash');
    const h = await executor.start(jobId, renderJob({ ...ZHINAO_360K_SERVE, port: healthPort }));
    const [pod] = await fake.waitForPods(NS, `ctxlab.dev/job-id=${jobId}`);
    fake.setPodPhase(NS, podName(pod!), 'Running');
    fake.setContainerWaiting(NS, podName(pod!), 'CrashLoopBackOff', 'back-off 40s restarting failed container', 3);
    const r = await h.wait();
    expect(r.reason).toBe('failed');
    expect(r.message).toMatch(/^CrashLoopBackOff after 3 restarts: back-off 40s restarting failed container; scaled to zero$/);
    expect(fake.get('deployments', NS, kubeName(jobId))!.spec.replicas).toBe(0);
    expect((await rejection(h.ready())).code).toBe('NOT_READY');
  });
});

describe('kubernetes executor: GPU capacity', () => {
  let cluster: FakeKubeApiServer;
  let kube: KubernetesExecutor;
  const GPU_TAINT = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' } as const;
  const pool = (gpuType: string) => ({ 'ctxlab.dev/gpu-type': gpuType, 'node.kubernetes.io/instance-type': 'p5.48xlarge' });

  /** A pod of someone else's, created through the API and bound to `node` by the scheduler. */
  async function foreignPod(ns: string, name: string, node: string | null, resources: Record<string, unknown>, extra: { labels?: Record<string, string>; initContainers?: unknown[] } = {}) {
    const res = await fetch(`${cluster.url}/api/v1/namespaces/${ns}/pods`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cluster.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, labels: { app: name, ...extra.labels } },
        spec: {
          containers: [{ name: 'main', image: 'nvcr.io/nvidia/pytorch:24.08-py3', resources }],
          ...(extra.initContainers ? { initContainers: extra.initContainers } : {}),
          tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
        },
      }),
    });
    expect(res.status).toBe(201);
    if (node) cluster.bindPod(ns, name, node);
    cluster.setPodPhase(ns, name, 'Running');
  }

  beforeAll(async () => {
    cluster = await startFakeKubeApiServer();
    kube = new KubernetesExecutor({ ...options, kubeConfig: cluster.kubeConfig() });
    cluster.setNode({ name: 'h100-a', labels: pool('h100-sxm-80gb'), allocatableGpus: 8, taints: [GPU_TAINT] });
    cluster.setNode({ name: 'h100-b', labels: pool('h100-sxm-80gb'), allocatableGpus: 8, taints: [GPU_TAINT] });
    cluster.setNode({ name: 'h100-notready', labels: pool('h100-sxm-80gb'), allocatableGpus: 8, taints: [GPU_TAINT], ready: false });
    cluster.setNode({ name: 'h100-cordoned', labels: pool('h100-sxm-80gb'), allocatableGpus: 8, taints: [GPU_TAINT], unschedulable: true });
    // A soft preference does not keep jobs off; a taint ctxlab's pods do not tolerate does.
    cluster.setNode({ name: 'l40s-a', labels: pool('l40s-48gb'), allocatableGpus: 4, taints: [GPU_TAINT, { key: 'spot', value: 'true', effect: 'PreferNoSchedule' }] });
    cluster.setNode({ name: 'l40s-dedicated', labels: pool('l40s-48gb'), allocatableGpus: 4, taints: [GPU_TAINT, { key: 'dedicated', value: 'inference', effect: 'NoSchedule' }] });
    // ctxlab's pods tolerate the GPU taint with effect NoSchedule only.
    cluster.setNode({ name: 'l40s-draining', labels: pool('l40s-48gb'), allocatableGpus: 4, taints: [{ ...GPU_TAINT, effect: 'NoExecute' }] });
    cluster.setNode({ name: 'a100-down', labels: pool('a100-80gb'), allocatableGpus: 8, ready: false });
    cluster.setNode({ name: 'gpu-unlabelled', allocatableGpus: 8, taints: [GPU_TAINT] });
    cluster.setNode({ name: 'cpu-a' });

    await foreignPod('default', 'notebook', 'h100-a', { limits: { 'nvidia.com/gpu': '2' } });
    // An init container holds more than the containers: the pod holds what its init phase needs.
    await foreignPod('default', 'eval-harness', 'h100-b', { requests: { 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '1' } }, {
      initContainers: [{ name: 'warmup', image: 'busybox', resources: { limits: { 'nvidia.com/gpu': '3' } } }],
    });
    // Another ctxlab installation's job on the same nodes is not this executor's work.
    await foreignPod('default', 'other-ctxlab-job', 'h100-b', { limits: { 'nvidia.com/gpu': '1' } }, { labels: { 'ctxlab.dev/job-id': 'theirs-1' } });
    await foreignPod('default', 'on-notready', 'h100-notready', { limits: { 'nvidia.com/gpu': '4' } });
    await foreignPod('default', 'on-unlabelled', 'gpu-unlabelled', { limits: { 'nvidia.com/gpu': '8' } });
    await foreignPod('default', 'unscheduled', null, { limits: { 'nvidia.com/gpu': '8' } });
    await foreignPod('default', 'finished', 'l40s-a', { limits: { 'nvidia.com/gpu': '4' } });
    cluster.setPodPhase('default', 'finished', 'Succeeded');
    await foreignPod('default', 'web', 'l40s-a', { requests: { cpu: '500m', memory: '1Gi' } });

    // ctxlab's own job, running on h100-b: the scheduler counts it from its own records.
    await kube.start('capacity-own-job', renderJob(GRADIENT_1048K_EXTRACT));
    const [own] = await cluster.waitForPods(NS, 'ctxlab.dev/job-id=capacity-own-job');
    cluster.bindPod(NS, podName(own!), 'h100-b');
    cluster.setPodPhase(NS, podName(own!), 'Running');
  });
  afterAll(() => cluster.close());

  it('sums allocatable GPUs of the nodes that take jobs per GPU-type label, and the GPUs other pods hold there', async () => {
    expect(await kube.capacity()).toEqual([
      { gpuType: 'a100-80gb', gpus: 0, nodes: 0, foreignUsed: 0 },
      { gpuType: 'h100-sxm-80gb', gpus: 16, nodes: 2, foreignUsed: 2 + 3 + 1 },
      { gpuType: 'l40s-48gb', gpus: 4, nodes: 1, foreignUsed: 0 },
    ]);
    const nodes = cluster.requests.findLast((r) => r.path === '/api/v1/nodes')!;
    expect(nodes.query.labelSelector).toBe('ctxlab.dev/gpu-type');
    const pods = cluster.requests.findLast((r) => r.path === '/api/v1/pods')!;
    expect(pods.query.fieldSelector).toBe('status.phase!=Succeeded,status.phase!=Failed');
  });

  it('reads the GPU type from the configured node label', async () => {
    cluster.setNode({ name: 'pool-x-1', labels: { 'example.com/accelerator': 'mi300x' }, allocatableGpus: 8 });
    const custom = new KubernetesExecutor({ ...options, kubeConfig: cluster.kubeConfig(), gpuTypeLabel: 'example.com/accelerator' });
    try {
      expect(await custom.capacity()).toEqual([{ gpuType: 'mi300x', gpus: 8, nodes: 1, foreignUsed: 0 }]);
    } finally {
      cluster.removeNode('pool-x-1');
    }
  });

  it('pages through the pods of a cluster larger than one list answer', async () => {
    const before = cluster.requests.length;
    // 520 pods: the last in key order holds a GPU on l40s-a, so it is on the second page.
    for (let i = 0; i < 520; i++) {
      const name = `batch-${String(i).padStart(3, '0')}`;
      await foreignPod('default', name, i === 519 ? 'l40s-a' : 'cpu-a', i === 519 ? { limits: { 'nvidia.com/gpu': '1' } } : {});
    }
    const l40s = (await kube.capacity()).find((p) => p.gpuType === 'l40s-48gb');
    expect(l40s).toEqual({ gpuType: 'l40s-48gb', gpus: 4, nodes: 1, foreignUsed: 1 });
    const pages = cluster.requests.slice(before).filter((r) => r.path === '/api/v1/pods');
    expect(pages.map((r) => [r.query.limit, Boolean(r.query.continue)])).toEqual([
      ['500', false],
      ['500', true],
    ]);
  });

  it('an API server that refuses the listing fails with what was being listed and why', async () => {
    const forbidden = 'nodes is forbidden: User "system:serviceaccount:ctxlab:ctxlab-worker" cannot list resource "nodes" in API group "" at the cluster scope';
    cluster.injectFault({ method: 'GET', path: /^\/api\/v1\/nodes$/, status: 403, message: forbidden });
    const refused = await rejection(kube.capacity());
    expect(refused.code).toBe('KUBE_FORBIDDEN');
    expect(refused.message).toBe(`listing nodes for GPU capacity: the API server refused the credentials (403): ${forbidden}`);

    cluster.injectFault({ method: 'GET', path: /^\/api\/v1\/pods$/, status: 500, message: 'etcdserver: request timed out' });
    const failed = await rejection(kube.capacity());
    expect(failed.code).toBe('KUBE_UNAVAILABLE');
    expect(failed.message).toBe('listing pods for GPU capacity: HTTP 500: etcdserver: request timed out');
  });

  it('gives up on an API server that does not answer', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'silent', server: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'ctxlab-worker', token: 't' }],
      contexts: [{ name: 'silent', cluster: 'silent', user: 'ctxlab-worker', namespace: NS }],
      currentContext: 'silent',
    });
    try {
      const started = Date.now();
      const e = await rejection(new KubernetesExecutor({ ...options, kubeConfig: kc, capacityTimeoutMs: 200 }).capacity());
      expect(e.code).toBe('KUBE_UNAVAILABLE');
      expect(e.message).toBe('listing nodes for GPU capacity: the API server did not answer within 200 ms');
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      silent.closeAllConnections();
      await new Promise((ok) => silent.close(ok));
    }
  });
});
