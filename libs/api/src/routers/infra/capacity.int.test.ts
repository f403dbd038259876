import { capacityResponseSchema } from '@ctxlab/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { resetDb, testRepos, testSettings } from '@ctxlab/testing/db';
import { apiDeps } from '../../deps';
import { createCaller, handleTrpcRequest } from '../../index';

const token = 'infra-token-for-tests-0123456789';
// The endpoints name in-cluster services (vllm-70b:8000): an admin allow-lists them, as the chart does for its namespace.
const deps = () => apiDeps({ ...testSettings(), infraToken: token, gpusPerNode: 8, outboundAllow: 'vllm-70b,vllm-8b,cpu,gone,x' });
const get = (headers: Record<string, string> = {}) => handleTrpcRequest(new Request('http://ctxlab.internal/api/trpc/infra.capacity', { headers }), deps());

describe('infra.capacity: what Terraform reads to size GPU pools', () => {
  beforeAll(async () => {
    await resetDb();
    const a = createCaller({ ...deps(), actor: null, source: 'internal' });
    await a.endpoints.create({ name: 'serve-70b-1m', url: 'http://vllm-70b:8000/v1', servedModelName: 'g', gpuType: 'H100', gpuCount: 8 });
    await a.endpoints.create({ name: 'serve-8b', url: 'http://vllm-8b:8000/v1', servedModelName: 'z', gpuType: 'h100-sxm-80gb', gpuCount: 4 });
    await a.endpoints.create({ name: 'cpu-only', url: 'http://cpu:8000/v1', servedModelName: 'c' });
    const repos = testRepos();
    const gpu = (gpus: number, admitted: boolean) => ({ teamId: null, priority: 'normal' as const, gpuType: 'a100-80gb', gpus, admitted });
    // Still waiting for the scheduler: its GPUs are the demand the pool should grow by.
    await repos.jobs.create({ kind: 'train', spec: {}, gpu: gpu(16, false) });
    const running = await repos.jobs.create({ kind: 'lora-extract', spec: {}, gpu: gpu(1, true) });
    await repos.db.job.update({ where: { id: running.job.id }, data: { status: 'running' } });
    const done = await repos.jobs.create({ kind: 'train', spec: {}, gpu: gpu(64, true) });
    await repos.db.job.update({ where: { id: done.job.id }, data: { status: 'succeeded' } });
    const archived = await a.endpoints.create({ name: 'gone', url: 'http://gone:8000/v1', servedModelName: 'x', gpuType: 'l40s-48gb', gpuCount: 2 });
    await a.endpoints.archive({ id: archived.id });
  });

  it('answers a plain GET with the bearer token, in exactly the shape the HCL reads', async () => {
    const res = await get({ authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    const body = capacityResponseSchema.parse(await res.json());
    expect(body.result.data.json.pools).toEqual([
      { gpuType: 'a100-80gb', gpuMemoryGiB: 80, gpusNeeded: 17, nodesNeeded: 3, gpusPerNode: 8, sources: { serveEndpoints: 0, queuedJobs: 1, runningJobs: 1, queuedGpus: 16 } },
      { gpuType: 'h100-sxm-80gb', gpuMemoryGiB: expect.closeTo(79.65, 2), gpusNeeded: 12, nodesNeeded: 2, gpusPerNode: 8, sources: { serveEndpoints: 2, queuedJobs: 0, runningJobs: 0, queuedGpus: 0 } },
    ]);
  });

  it('refuses callers without the token, and endpoints with GPU types it cannot size', async () => {
    expect((await get()).status).toBe(401);
    expect((await get({ authorization: 'Bearer wrong-token-0000000000000000' })).status).toBe(401);
    const a = createCaller({ ...deps(), actor: null, source: 'internal' });
    const e = await a.endpoints.create({ name: 'tpu', url: 'http://x:1/v1', servedModelName: 'x', gpuType: 'tpu-v5', gpuCount: 1 }).catch((x: Error) => x);
    expect((e as Error).message).toMatch(/gpuType: unknown GPU type tpu-v5; known: h100-sxm-80gb/);
    const off = await handleTrpcRequest(new Request('http://x/api/trpc/infra.capacity'), apiDeps({ ...testSettings() }));
    expect(off.status).toBe(412);
  });
});
