/**
 * Bad input is a 4xx that names the field, never a 500: NUL bytes, integers beyond their columns,
 * unique-constraint races, and grids too large to run (refused at their size, before expansion).
 */
import { getTokenizer } from '@ctxlab/tokenizers';
import { beforeAll, describe, expect, it } from 'vitest';
import { resetDb, testSettings, testToken } from '@ctxlab/testing/db';
import { apiDeps } from '../deps';
import { createCaller, handleTrpcRequest } from '../index';

const prefix = `${process.env.CTXLAB_TEST_REDIS_PREFIX ?? 'test'}-bad-input-${process.pid}`;
const deps = () => apiDeps({ ...testSettings(), queuePrefix: prefix });
const api = () => createCaller({ ...deps(), actor: null, source: 'internal' });
const llama = { numLayers: 4, hiddenSize: 128, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 384, vocabSize: 259, ropeTheta: 10_000, maxPositionEmbeddings: 512, tokenizer: 'byte' };

async function httpGet(path: string, token: string, input: unknown) {
  const res = await handleTrpcRequest(new Request(`http://localhost/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`, { headers: { authorization: `Bearer ${token}` } }), deps());
  const body = (await res.json()) as { error?: { json?: { message?: string; data?: { fields?: { path: string }[] } } } };
  return { status: res.status, message: body.error?.json?.message ?? '', fields: body.error?.json?.data?.fields?.map((f) => f.path) ?? [] };
}

const failure = (p: Promise<unknown>) => p.then(() => null, (e: { code?: string; message?: string }) => ({ code: e.code, message: e.message ?? '' }));

describe('bad input never answers 500', () => {
  let viewer = '';
  let endpointId = '';
  beforeAll(async () => {
    await resetDb();
    viewer = (await testToken('viewer')).token;
    const m = await api().models.create({ name: 'bad-input-model', config: llama });
    endpointId = (await api().endpoints.create({ name: 'bad-input-ep', url: 'http://127.0.0.1:9/v1', servedModelName: 'm', modelId: m.id })).id;
  });

  it('a NUL byte in a string is a 400 naming the field, wherever the string goes', async () => {
    const r = await httpGet('models.list', viewer, { search: 'a\u0000b' });
    expect(r).toMatchObject({ status: 400, message: 'search: must not contain a NUL character', fields: ['search'] });
    expect((await httpGet('models.get', viewer, { id: '\u0000' })).status).toBe(400);
    // Inside free-form JSON (jsonb) too, keys included.
    const e = await failure(api().evals.create({ name: 'nul', kind: 'niah', config: { spec: { notes: ['ok', 'x\u0000'] } } }));
    expect(e).toMatchObject({ code: 'BAD_REQUEST', message: 'config.spec.notes.1: must not contain a NUL character' });
    expect(await failure(api().evals.create({ name: 'nul', kind: 'niah', config: { 'k\u0000': 1 } }))).toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('integers beyond an int4 column are refused by the schema, with the bound', async () => {
    const r = await httpGet('models.list', viewer, { minContext: 2 ** 31 });
    expect(r).toMatchObject({ status: 400, fields: ['minContext'] });
    expect(r.message).toMatch(/^minContext: must be at most 16,777,216 tokens/);
    expect(await failure(api().portal.evalCell({ evalRunId: 'x', length: 2 ** 31, depth: 0 }))).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/^length: must be at most/) });
    expect(await failure(api().endpoints.create({ name: 'big', url: 'http://127.0.0.1:9/v1', servedModelName: 'm', maxModelLen: 2 ** 31 }))).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/^maxModelLen: must be at most/) });
    expect(await failure(api().datasets.create({ name: 'big', kind: 'haystack', source: 's', documents: 2 ** 31 }))).toMatchObject({ code: 'BAD_REQUEST', message: 'documents: must be at most 2,147,483,647' });
    expect(await failure(api().models.list({ offset: 2 ** 31 }))).toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('six concurrent creates of one unique name: one succeeds, five answer CONFLICT naming the field', async () => {
    const six = <T>(fn: () => Promise<T>) => Promise.all(Array.from({ length: 6 }, () => fn().then(() => 'ok', (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`)));
    const email = `race-${process.pid}-${Date.now()}@bad-input.test`;
    const users = await six(() => api().users.create({ email, name: 'Race', password: 'correct horse battery staple' }));
    expect(users.filter((x) => x === 'ok')).toHaveLength(1);
    expect(users.filter((x) => x !== 'ok')).toEqual(Array(5).fill(`CONFLICT: a user with email ${email} already exists`));
    const models = await six(() => api().models.create({ name: 'race-model', config: llama }));
    expect(models.filter((x) => x === 'ok')).toHaveLength(1);
    expect(models.filter((x) => x !== 'ok')).toEqual(Array(5).fill('CONFLICT: a model with this name already exists'));
    // Adding an allowed host is idempotent: racing adds all succeed, and one row is kept.
    expect(await six(() => api().allowedHosts.add({ host: 'race.example' }))).toEqual(Array(6).fill('ok'));
  });

  it('grids beyond the limits are refused at once, by their size, with the setting to change', async () => {
    const t0 = Date.now();
    const huge = await failure(api().portal.evalEstimate({ grid: { lengths: { kind: 'step', min: 1, max: 1e12, step: 1 }, depths: { kind: 'list', values: [0.5] } } }));
    expect(huge).toMatchObject({ code: 'BAD_REQUEST' });
    expect(huge?.message).toMatch(/grid\.lengths\.(max: must be at most 16,777,216 tokens|step: an axis has at most 1,000 values)/);
    expect(await failure(api().portal.evalEstimate({ grid: { lengths: { kind: 'list', values: [3_000_000_000] }, depths: { kind: 'list', values: [0.5] } } }))).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/must be at most 16,777,216 tokens/) });
    const grid = { lengths: { kind: 'linspace' as const, min: 1000, max: 100_000, count: 1000 }, depths: { kind: 'linspace' as const, count: 101 }, samples: 100 };
    const start = await failure(api().evals.start({ name: 'too big', endpointId, spec: { variant: 'value', tokenizer: 'byte', grid } }));
    expect(start).toMatchObject({ code: 'BAD_REQUEST', message: 'spec.grid: the grid has 10,100,000 cells; the limit is 100,000 (NIAH_MAX_CELLS)' });
    expect(await failure(api().portal.evalEstimate({ grid }))).toMatchObject({ code: 'BAD_REQUEST', message: 'grid: the grid has 10,100,000 cells; the limit is 100,000 (NIAH_MAX_CELLS)' });
    // Refusals are arithmetic: no grid was expanded (the heap and the clock say so loosely; the messages say so exactly).
    expect(Date.now() - t0).toBeLessThan(20_000);

    // The limits are settings.
    const small = createCaller({ ...apiDeps({ ...testSettings(), queuePrefix: prefix, niahMaxCells: 10, niahMaxPromptTokens: 50_000 }), actor: null, source: 'internal' });
    const g12 = { lengths: { kind: 'list' as const, values: [1000, 2000, 3000] }, depths: { kind: 'list' as const, values: [0, 0.5, 0.75, 1] } };
    expect(await failure(small.portal.evalEstimate({ grid: g12 }))).toMatchObject({ message: 'grid: the grid has 12 cells; the limit is 10 (NIAH_MAX_CELLS)' });
    const tokens = { lengths: { kind: 'list' as const, values: [30_000] }, depths: { kind: 'list' as const, values: [0, 1] } };
    expect(await failure(small.portal.evalEstimate({ grid: tokens }))).toMatchObject({ message: "grid: the grid's prompts add up to 60,000 tokens; the limit is 50,000 (NIAH_MAX_PROMPT_TOKENS)" });
    expect(await small.portal.evalEstimate({ grid: { lengths: { kind: 'list', values: [1000] }, depths: { kind: 'list', values: [0, 1] } } })).toMatchObject({ cells: 2, promptTokens: 2000 });
  });

  it('a corpus import is bounded per document and counted without stalling the server', async () => {
    const tooLong = await failure(api().datasets.importCorpus({ name: 'too-long', source: 's', documents: [{ name: 'a.txt', text: 'x'.repeat(500_001) }] }));
    expect(tooLong).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/^documents\.0\.text: a document may hold at most 500,000 characters/) });
    // Four documents of half a million characters at the tokenizer's slowest (one long run of
    // punctuation each, different in each document so none is a cache hit): the event loop gets a
    // turn after each document, so a timer due every 50 ms is never held for most of the import.
    // The Llama-3 tokenizer's one-time load (its vocabulary file) happens once per process, not per import.
    getTokenizer('llama3');
    const docs = ['!#', '$%', '&*', '+;'].map((pair, i) => ({ name: `${i}.txt`, text: pair.repeat(250_000) }));
    let worstLag = 0;
    let last = performance.now();
    const tick = setInterval(() => {
      const now = performance.now();
      worstLag = Math.max(worstLag, now - last - 50);
      last = now;
    }, 50);
    const t0 = performance.now();
    const d = await api().datasets.importCorpus({ name: 'heavy', source: 's', documents: docs });
    const total = performance.now() - t0;
    clearInterval(tick);
    expect(d.tokenCounts.byte).toBe(4 * (500_000 + 2));
    expect(worstLag).toBeLessThan(total * 0.6);
  });
});
