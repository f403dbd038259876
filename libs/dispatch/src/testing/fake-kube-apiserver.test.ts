import { BatchV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKubeApiServer, type FakeKubeApiServer } from './fake-kube-apiserver';

// The wire protocol of the double, checked with plain HTTP: what a real API server answers.

let fake: FakeKubeApiServer;
beforeAll(async () => {
  fake = await startFakeKubeApiServer();
});
afterAll(() => fake.close());

const JOBS = '/apis/batch/v1/namespaces/ctxlab/jobs';
const job = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name, labels: { app: name } },
  spec: { backoffLimit: 0, template: { metadata: { labels: { app: name } }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } } },
  ...extra,
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(fake.url + path, {
    method,
    headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/json', ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

describe('fake Kubernetes API server: protocol', () => {
  it('401 without the bearer token', async () => {
    const res = await fetch(fake.url + JOBS);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
  });

  it('create → 201 with uid and resourceVersion; get; list by labelSelector; duplicate → 409 AlreadyExists', async () => {
    const created = await call('POST', JOBS, job('proto-a'));
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ metadata: { name: 'proto-a', namespace: 'ctxlab' } });
    expect((created.json!.metadata as { uid: string }).uid).toMatch(/^[0-9a-f-]{36}$/);
    expect((await call('GET', `${JOBS}/proto-a`)).status).toBe(200);
    const list = await call('GET', `${JOBS}?labelSelector=app%3Dproto-a`);
    expect(list.json).toMatchObject({ kind: 'JobList', apiVersion: 'batch/v1' });
    expect((list.json!.items as unknown[]).length).toBe(1);
    const dup = await call('POST', JOBS, job('proto-a'));
    expect(dup.status).toBe(409);
    expect(dup.json).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'jobs.batch "proto-a" already exists',
      reason: 'AlreadyExists',
      details: { name: 'proto-a', group: 'batch', kind: 'jobs' },
      code: 409,
    });
  });

  it('404 NotFound for a missing object, a missing namespace and an unknown path', async () => {
    const missing = await call('GET', `${JOBS}/nope`);
    expect(missing.json).toMatchObject({ code: 404, reason: 'NotFound', message: 'jobs.batch "nope" not found', details: { name: 'nope', group: 'batch', kind: 'jobs' } });
    expect((await call('GET', '/apis/batch/v1/namespaces/elsewhere/jobs')).json).toMatchObject({ code: 404, message: 'namespaces "elsewhere" not found' });
    expect((await call('GET', '/apis/batch/v2/namespaces/ctxlab/jobs')).status).toBe(404);
  });

  it('422 Invalid with a cause per field', async () => {
    const bad = job('Bad_Name');
    (bad.spec.template.spec as Record<string, unknown>).containers = [{ name: 'main', image: '', env: [{ name: '1X', value: 'v' }], resources: { limits: { 'nvidia.com/gpu': '0.5' } } }];
    (bad.spec.template.spec as Record<string, unknown>).restartPolicy = 'Always';
    const r = await call('POST', JOBS, bad);
    expect(r.status).toBe(422);
    expect(r.json).toMatchObject({ kind: 'Status', reason: 'Invalid', code: 422, details: { name: 'Bad_Name', group: 'batch', kind: 'Job' } });
    const fields = (r.json!.details as { causes: { field: string }[] }).causes.map((c) => c.field);
    expect(fields).toEqual([
      'metadata.name',
      'spec.template.spec.containers[0].image',
      'spec.template.spec.containers[0].env[0].name',
      'spec.template.spec.containers[0].resources.limits[nvidia.com/gpu]',
      'spec.template.spec.restartPolicy',
    ]);
    expect(r.json!.message).toMatch(/^Job\.batch "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
  });

  it('schema errors from the OpenAPI models are 422 too', async () => {
    const bad = job('schema-bad');
    (bad.spec as Record<string, unknown>).backoffLimit = 'zero';
    const r = await call('POST', JOBS, bad);
    expect(r.status).toBe(422);
    expect((r.json!.details as { causes: { field: string }[] }).causes[0]!.field).toBe('spec.backoffLimit');
  });

  it('a Job creates its pod; logs of a pending pod are a 400; logs stream with timestamps; deleting a Job without a policy orphans its pods', async () => {
    await call('POST', JOBS, job('proto-logs'));
    const [pod] = await fake.waitForPods('ctxlab', 'job-name=proto-logs');
    const name = (pod!.metadata as { name: string }).name;
    const pending = await call('GET', `/api/v1/namespaces/ctxlab/pods/${name}/log`);
    expect(pending.status).toBe(400);
    expect(pending.json!.message).toBe(`container "main" in pod "${name}" is waiting to start: ContainerCreating`);
    fake.setPodPhase('ctxlab', name, 'Running');
    fake.appendLog('ctxlab', name, 'one', 'two');
    const logs = await call('GET', `/api/v1/namespaces/ctxlab/pods/${name}/log?timestamps=true`);
    expect(logs.text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z one\n\S+ two\n$/);
    expect((await call('GET', `/api/v1/namespaces/ctxlab/pods/${name}/log?container=sidecar`)).json!.message).toBe(`container sidecar is not valid for pod ${name}`);
    const del = await call('DELETE', `${JOBS}/proto-logs`);
    expect(del.json).toMatchObject({ kind: 'Status', status: 'Success' });
    expect(fake.get('jobs', 'ctxlab', 'proto-logs')).toBeUndefined();
    const orphan = fake.get('pods', 'ctxlab', name)!;
    expect(orphan.metadata.ownerReferences).toEqual([]);
  });

  it('the official client speaks to it through a kubeconfig', async () => {
    const api = fake.kubeConfig().makeApiClient(BatchV1Api);
    const list = await api.listNamespacedJob({ namespace: 'ctxlab' });
    expect(list.items.map((j) => j.metadata?.name)).toContain('proto-a');
  });
});

describe('fake Kubernetes API server: nodes and lists across namespaces', () => {
  const pod = (name: string, extra: Record<string, unknown> = {}) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { team: 'research' } },
    spec: { containers: [{ name: 'main', image: 'busybox', resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
    ...extra,
  });

  it('nodes: NodeList with labelSelector and fieldSelector, get by name, 404 for an unknown one; the API cannot write them', async () => {
    fake.setNode({ name: 'gpu-1', labels: { 'ctxlab.dev/gpu-type': 'h100-sxm-80gb' }, allocatableGpus: 8, taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] });
    fake.setNode({ name: 'gpu-2', labels: { 'ctxlab.dev/gpu-type': 'l40s-48gb' }, allocatableGpus: 4, unschedulable: true });
    fake.setNode({ name: 'cpu-1' });
    const list = await call('GET', '/api/v1/nodes?labelSelector=ctxlab.dev%2Fgpu-type');
    expect(list.json).toMatchObject({ apiVersion: 'v1', kind: 'NodeList', metadata: { resourceVersion: expect.stringMatching(/^\d+$/) } });
    expect((list.json!.items as { metadata: { name: string } }[]).map((n) => n.metadata.name)).toEqual(['gpu-1', 'gpu-2']);
    const l40s = await call('GET', '/api/v1/nodes?labelSelector=ctxlab.dev%2Fgpu-type%3Dl40s-48gb');
    expect((l40s.json!.items as unknown[]).length).toBe(1);
    const cordoned = await call('GET', '/api/v1/nodes?fieldSelector=spec.unschedulable%3Dtrue');
    expect((cordoned.json!.items as { metadata: { name: string } }[]).map((n) => n.metadata.name)).toEqual(['gpu-2']);

    const one = await call('GET', '/api/v1/nodes/gpu-1');
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'gpu-1', labels: { 'kubernetes.io/hostname': 'gpu-1', 'ctxlab.dev/gpu-type': 'h100-sxm-80gb' } },
      spec: { taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] },
      status: { capacity: { 'nvidia.com/gpu': '8' }, allocatable: { cpu: expect.any(String), memory: expect.any(String), pods: '110', 'nvidia.com/gpu': '8' } },
    });
    const conditions = (one.json!.status as { conditions: { type: string; status: string }[] }).conditions;
    expect(conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    expect(((await call('GET', '/api/v1/nodes/gpu-2')).json!.spec as { taints: unknown[] }).taints).toEqual([
      { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule', timeAdded: expect.any(String) },
    ]);
    expect((await call('GET', '/api/v1/nodes/cpu-1')).json!.status).not.toHaveProperty(['allocatable', 'nvidia.com/gpu']);

    const missing = await call('GET', '/api/v1/nodes/gpu-9');
    expect(missing.json).toMatchObject({ code: 404, reason: 'NotFound', message: 'nodes "gpu-9" not found', details: { name: 'gpu-9', kind: 'nodes' } });
    expect((await call('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'gpu-9' } })).status).toBe(405);
    expect((await call('GET', '/api/v1/nodes?fieldSelector=metadata.namespace%3Ddefault')).json).toMatchObject({
      code: 400,
      reason: 'BadRequest',
      message: 'Unable to find "/v1, Resource=nodes" that match label selector "", field selector "metadata.namespace=default": field label not supported: metadata.namespace',
    });
  });

  it('setNode replaces a node as its kubelet would (same uid, new resourceVersion); NotReady brings the not-ready taints; removeNode deletes it', async () => {
    const first = fake.setNode({ name: 'flaky-1', labels: { 'ctxlab.dev/gpu-type': 'a100-80gb' }, allocatableGpus: 8 });
    const second = fake.setNode({ name: 'flaky-1', labels: { 'ctxlab.dev/gpu-type': 'a100-80gb' }, allocatableGpus: 8, ready: false });
    expect(second.metadata.uid).toBe(first.metadata.uid);
    expect(Number(second.metadata.resourceVersion)).toBeGreaterThan(Number(first.metadata.resourceVersion));
    const read = (await call('GET', '/api/v1/nodes/flaky-1')).json as { spec: { taints: { key: string; effect: string }[] }; status: { conditions: { type: string; status: string }[] } };
    expect(read.status.conditions.find((c) => c.type === 'Ready')!.status).toBe('False');
    expect(read.spec.taints.map((t) => `${t.key}:${t.effect}`)).toEqual(['node.kubernetes.io/not-ready:NoSchedule', 'node.kubernetes.io/not-ready:NoExecute']);
    fake.removeNode('flaky-1');
    expect((await call('GET', '/api/v1/nodes/flaky-1')).status).toBe(404);
    expect(() => fake.setNode({ name: 'Bad_Node' })).toThrow(/metadata\.name/);
  });

  it('a pod created through the API starts Pending whatever status it was sent with; bindPod places it on a node', async () => {
    const created = await call('POST', '/api/v1/namespaces/default/pods', pod('notebook', { status: { phase: 'Running' } }));
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ status: { phase: 'Pending', qosClass: 'BestEffort' }, spec: { restartPolicy: 'Always', schedulerName: 'default-scheduler' } });
    expect(() => fake.bindPod('default', 'notebook', 'gpu-404')).toThrow('fake kube: no node gpu-404');
    fake.bindPod('default', 'notebook', 'gpu-1');
    fake.setPodPhase('default', 'notebook', 'Running');
    const read = (await call('GET', '/api/v1/namespaces/default/pods/notebook')).json as { spec: { nodeName: string }; status: { phase: string; conditions: { type: string; status: string }[] } };
    expect(read.spec.nodeName).toBe('gpu-1');
    expect(read.status.phase).toBe('Running');
    expect(() => fake.bindPod('default', 'notebook', 'gpu-2')).toThrow('already bound to gpu-1');
  });

  it('cluster-wide pod lists take field selectors (status.phase, spec.nodeName) and label selectors; unsupported fields are a 400', async () => {
    await call('POST', '/api/v1/namespaces/ctxlab/pods', pod('sweep'));
    fake.bindPod('ctxlab', 'sweep', 'gpu-1');
    fake.setPodPhase('ctxlab', 'sweep', 'Succeeded');
    await call('POST', '/api/v1/namespaces/ctxlab/pods', pod('queued'));
    const names = async (query: string) => {
      const r = await call('GET', `/api/v1/pods?${query}`);
      expect(r.json).toMatchObject({ apiVersion: 'v1', kind: 'PodList' });
      return (r.json!.items as { metadata: { namespace: string; name: string } }[]).map((p) => `${p.metadata.namespace}/${p.metadata.name}`).sort();
    };
    const active = new URLSearchParams({ fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed', labelSelector: 'team=research' }).toString();
    expect(await names(active)).toEqual(['ctxlab/queued', 'default/notebook']);
    expect(await names('fieldSelector=spec.nodeName%3Dgpu-1')).toEqual(['ctxlab/sweep', 'default/notebook']);
    expect(await names('fieldSelector=spec.nodeName%3D%2Cmetadata.namespace%3D%3Dctxlab&labelSelector=team')).toEqual(['ctxlab/queued']);
    expect(await names('fieldSelector=metadata.name%21%3Dqueued&labelSelector=team%3Dresearch')).toEqual(['ctxlab/sweep', 'default/notebook']);
    const bad = await call('GET', '/api/v1/pods?fieldSelector=status.hostIP%3D10.0.0.1');
    expect(bad.json).toMatchObject({
      code: 400,
      reason: 'BadRequest',
      message: 'Unable to find "/v1, Resource=pods" that match label selector "", field selector "status.hostIP=10.0.0.1": field label not supported: status.hostIP',
    });
    // Namespaced lists take field selectors too; other kinds know only the metadata fields.
    expect(((await call('GET', '/api/v1/namespaces/default/pods?fieldSelector=status.phase%3DRunning')).json!.items as unknown[]).length).toBe(1);
    expect((await call('GET', `${JOBS}?fieldSelector=status.phase%3DRunning`)).status).toBe(400);
    expect((await call('GET', '/apis/batch/v1/jobs?fieldSelector=metadata.namespace%3Dctxlab')).json).toMatchObject({ kind: 'JobList' });
    expect((await call('GET', '/api/v1/jobs')).status).toBe(404);
    expect((await call('POST', '/api/v1/pods', pod('nowhere'))).status).toBe(405);
  });

  it('limit and continue page through a list in namespace/name order', async () => {
    for (const name of ['page-c', 'page-a', 'page-b']) await call('POST', '/api/v1/namespaces/default/pods', pod(name, { metadata: { name, labels: { paging: 'yes' } } }));
    const first = await call('GET', '/api/v1/pods?labelSelector=paging&limit=2');
    expect((first.json!.items as { metadata: { name: string } }[]).map((p) => p.metadata.name)).toEqual(['page-a', 'page-b']);
    const token = (first.json!.metadata as { continue?: string }).continue;
    expect(token).toEqual(expect.any(String));
    const rest = await call('GET', `/api/v1/pods?labelSelector=paging&limit=2&continue=${encodeURIComponent(token!)}`);
    expect((rest.json!.items as { metadata: { name: string } }[]).map((p) => p.metadata.name)).toEqual(['page-c']);
    expect(rest.json!.metadata).not.toHaveProperty('continue');
    expect((await call('GET', '/api/v1/pods?limit=2&continue=garbage')).status).toBe(400);
  });

  it('faults apply to the new paths, with the reason the real server gives the code', async () => {
    fake.injectFault({ method: 'GET', path: /^\/api\/v1\/nodes$/, status: 403, message: 'nodes is forbidden' });
    expect((await call('GET', '/api/v1/nodes')).json).toMatchObject({ code: 403, reason: 'Forbidden', message: 'nodes is forbidden' });
    expect((await call('GET', '/api/v1/nodes')).status).toBe(200);
  });

  it('the official client lists nodes and pods across namespaces', async () => {
    const core = fake.kubeConfig().makeApiClient(CoreV1Api);
    const nodes = await core.listNode({ labelSelector: 'ctxlab.dev/gpu-type' });
    expect(nodes.items.map((n) => [n.metadata?.name, n.status?.allocatable?.['nvidia.com/gpu']])).toEqual([
      ['gpu-1', '8'],
      ['gpu-2', '4'],
    ]);
    expect(nodes.items[0]!.spec?.taints?.[0]?.effect).toBe('NoSchedule');
    const pods = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=gpu-1', limit: 1 });
    expect(pods.items.length).toBe(1);
    const next = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=gpu-1', limit: 1, _continue: pods.metadata!._continue! });
    expect([pods.items[0]!.metadata?.name, next.items[0]!.metadata?.name]).toEqual(['sweep', 'notebook']);
  });
});
