import { BatchV1Api } from '@kubernetes/client-node';
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
