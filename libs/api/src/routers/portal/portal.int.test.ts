import { startOpenAITestServer, type OpenAITestServer } from '@ctxlab/niah/testing';
import { heatmapLayout, heatmapSvg, scoreColor } from '@ctxlab/contracts';
import { TRPCError } from '@trpc/server';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetDb, testRepos, testSettings } from '@ctxlab/testing/db';
import { apiDeps } from '../../deps';
import { createCaller } from '../../index';

const llama8b = {
  numLayers: 32, hiddenSize: 4096, numAttentionHeads: 32, numKeyValueHeads: 8, headDim: 128,
  intermediateSize: 14336, vocabSize: 128256, ropeTheta: 500_000, maxPositionEmbeddings: 8192, tokenizer: 'llama3',
};
const api = () => createCaller({ ...apiDeps(testSettings()), actor: null, source: 'internal' });

async function expectCode(p: Promise<unknown>, code: TRPCError['code'], message?: RegExp) {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e, 'the call should have failed').toBeInstanceOf(TRPCError);
  expect((e as TRPCError).code).toBe(code);
  if (message) expect((e as TRPCError).message).toMatch(message);
}

const spec = (lengths: number[], depths: number[]) => ({ variant: 'value', tokenizer: 'llama3', grid: { lengths: { kind: 'list', values: lengths }, depths: { kind: 'list', values: depths } } });

/** A run written straight to the registry, with `score(l, d)` for each cell (undefined = not run, null = failed). */
async function runWith(name: string, lengths: number[], depths: number[], score: (l: number, d: number) => number | null | undefined, endpointId?: string) {
  const repos = testRepos();
  const run = await repos.db.evalRun.create({ data: { name, kind: 'niah', status: 'succeeded', config: { spec: spec(lengths, depths), concurrency: 2 }, cellsTotal: lengths.length * depths.length, endpointId: endpointId ?? null } });
  const data = lengths.flatMap((l) =>
    depths.flatMap((d) => {
      const s = score(l, d);
      if (s === undefined) return [];
      return [{ evalRunId: run.id, contextLength: l, depth: d, sample: 0, promptTokens: l, needle: 'The special magic Paris number is: 1234567', expected: '1234567', response: s === null ? null : `The number is ${s === 100 ? '1234567' : 'unknown'}. ${'x'.repeat(400)}`, score: s, latencyMs: 12, error: s === null ? 'http: 500 (after 2 attempts)' : null }];
    }),
  );
  await repos.db.evalCell.createMany({ data });
  return run;
}

describe('portal read models', () => {
  let server: OpenAITestServer;
  let endpointId: string;
  beforeAll(async () => {
    await resetDb();
    server = await startOpenAITestServer({ model: 'lab-model' });
    const a = api();
    const m = await a.models.create({ name: 'base-8b', family: 'llama-3', config: llama8b });
    endpointId = (await a.endpoints.create({ name: 'lab', url: server.url, servedModelName: 'lab-model', modelId: m.id, maxModelLen: 3000 })).id;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('evalResult: the full grid, missing and failed cells null (never 0), hover details per cell', async () => {
    const run = await runWith('r1', [1000, 2000, 4000], [0, 0.5, 1], (l, d) => (l === 4000 && d === 1 ? undefined : l === 2000 && d === 0.5 ? null : l === 1000 ? 100 : 50));
    const r = await api().portal.evalResult({ id: run.id });
    expect(r.lengths).toEqual([1000, 2000, 4000]);
    expect(r.depths).toEqual([0, 0.5, 1]);
    expect(r.matrix[0]).toEqual([100, 50, 50]);
    expect(r.matrix[1]).toEqual([100, null, 50]);
    expect(r.matrix[2]).toEqual([100, 50, null]);
    expect(r.failed).toBe(1);
    expect(r.average).toBeCloseTo((100 * 3 + 50 * 4) / 7, 10);
    expect(r.details![1]![1]).toMatchObject({ error: 'http: 500 (after 2 attempts)', excerpt: null });
    expect(r.details![0]![0]!.excerpt).toHaveLength(160);
    expect(r.details![0]![0]).toMatchObject({ promptTokens: 1000, latencyMs: 12, samples: 1 });
    expect(r.details![2]![2]).toBeNull();
    expect(r.spec).toMatchObject({ variant: 'value', tokenizer: 'llama3' });
    await expectCode(api().portal.evalResult({ id: 'nope' }), 'NOT_FOUND');
  });

  it('evalResult of a grid over 2,500 cells leaves its hover details to evalResultDetails', async () => {
    const axis = Array.from({ length: 60 }, (_, i) => 1000 + i * 100);
    const depths = axis.map((_, i) => i / 59);
    const run = await runWith('r-big', axis, depths, (l, d) => (l === 1000 && d === 0 ? null : 100));
    const r = await api().portal.evalResult({ id: run.id });
    expect(r.matrix).toHaveLength(60);
    expect(r.details).toBeNull();
    // [length, depth, prompt tokens, excerpt, error, latency], one per cell, each on the result's axes.
    const rows = JSON.parse((await api().portal.evalResultDetails({ id: run.id })).rows) as [number, number, number | null, string | null, string | null, number | null][];
    expect(rows).toHaveLength(3600);
    expect(new Set(rows.map(([l, d]) => `${r.lengths.indexOf(l)}|${r.depths.indexOf(d)}`)).size).toBe(3600);
    expect(rows.every(([l, d]) => r.lengths.includes(l) && r.depths.includes(d))).toBe(true);
    expect(rows.find(([l, d]) => l === 1000 && d === 0)).toEqual([1000, 0, 1000, null, 'http: 500 (after 2 attempts)', 12]);
    const last = rows.find(([l, d]) => l === 6900 && d === 1)!;
    expect(last).toEqual([6900, 1, 6900, expect.stringMatching(/^The number is 1234567\. x+$/), null, 12]);
    expect(last[3]).toHaveLength(160);
    await expectCode(api().portal.evalResultDetails({ id: 'nope' }), 'NOT_FOUND');
  });

  it('the heatmap of a grid over 2,500 cells is served as the compact picture: every cell drawn, in its colour, on its place', async () => {
    const axis = Array.from({ length: 60 }, (_, i) => 1000 + i * 100);
    const depths = axis.map((_, i) => i / 59);
    // Failed on a diagonal, missed beyond 4,000 tokens in the lower half, found elsewhere.
    const run = await runWith('r-svg', axis, depths, (l, d) => (Math.round(d * 59) === (l - 1000) / 100 ? null : l > 4000 && d > 0.5 ? 0 : 100));
    const [heat, result] = await Promise.all([api().evals.heatmap({ id: run.id }), api().portal.evalResult({ id: run.id })]);
    expect(heat.matrix).toEqual(result.matrix);
    expect(heat.counts).toEqual(result.counts);
    expect(heat.failed).toBe(60);
    expect(heat.svg).toContain(`Avg score ${heat.average!.toFixed(2)}`);
    expect(heat.svg).not.toContain('<title>');
    expect(heat.svg.length).toBeLessThan(heatmapSvg(heat, { compact: false }).length / 8);
    // One path per colour, one closed square per cell; walking its moves gives back every cell's place.
    const L = heatmapLayout(60, 60);
    const drawn = new Map<string, string>();
    for (const [, fill, d] of heat.svg.matchAll(/<path fill="([^"]+)" d="([^"]+)"/g)) {
      let x = 0;
      let y = 0;
      for (const [, abs, dx, dy] of d!.matchAll(/([Mm])(-?\d+) (-?\d+)h\d+v\d+h-\d+z/g)) {
        x = abs === 'M' ? Number(dx) : x + Number(dx);
        y = abs === 'M' ? Number(dy) : y + Number(dy);
        drawn.set(`${(x - L.left) / L.cellWidth},${(y - L.top) / L.cellHeight}`, fill!);
      }
    }
    expect(drawn.size).toBe(3600);
    for (const [y, row] of heat.matrix.entries()) {
      for (const [x, v] of row.entries()) expect(drawn.get(`${x},${y}`)).toBe(v === null ? 'url(#hm-missing-svg)' : scoreColor(v));
    }
  });

  it('evalCell: every sample of a cell with the full answer, and its neighbours on the grid', async () => {
    const run = await runWith('r-cell', [1000, 2000], [0, 0.5], () => 100);
    const c = await api().portal.evalCell({ evalRunId: run.id, length: 2000, depth: 0.5 });
    expect(c.samples).toHaveLength(1);
    expect(c.samples[0]!.response!.length).toBeGreaterThan(400);
    expect(c.samples[0]!.expected).toEqual(['1234567']);
    expect(c.nominalNeedleToken).toBe(1000);
    expect(c.neighbours).toEqual({ left: { length: 1000, depth: 0.5 }, right: null, up: { length: 2000, depth: 0 }, down: null });
    await expectCode(api().portal.evalCell({ evalRunId: run.id, length: 3000, depth: 0.5 }), 'NOT_FOUND');
  });

  it('compare: runs with different grids on their union, differences only where both scored', async () => {
    const a = await runWith('cmp-a', [1000, 2000], [0, 1], () => 100);
    const b = await runWith('cmp-b', [2000, 4000], [0, 1], (l, d) => (d === 1 ? 40 : 100));
    const c = await api().portal.compare({ ids: [a.id, b.id] });
    expect(c.lengths).toEqual([1000, 2000, 4000]);
    expect(c.depths).toEqual([0, 1]);
    expect(c.runs[0]!.matrix).toEqual([[100, 100, null], [100, 100, null]]);
    expect(c.runs[1]!.matrix).toEqual([[null, 100, 100], [null, 40, 40]]);
    expect(c.runs[1]!.diff).toEqual([[null, 0, null], [null, -60, null]]);
    expect(c.commonCells).toBe(2);
    expect(c.runs[1]!.meanDiff).toBe(-30);
    expect(c.runs[1]!.commonAverage).toBe(70);
    const flipped = await api().portal.compare({ ids: [a.id, b.id], baseline: b.id });
    expect(flipped.runs[0]!.diff[1]).toEqual([null, 60, null]);
    await expectCode(api().portal.compare({ ids: [a.id] }), 'BAD_REQUEST', /at least two/);
    await expectCode(api().portal.compare({ ids: [a.id, a.id] }), 'BAD_REQUEST', /once/);
    await expectCode(api().portal.compare({ ids: [a.id, 'nope'] }), 'NOT_FOUND', /nope/);
    await expectCode(api().portal.compare({ ids: [a.id, b.id], baseline: 'other' }), 'BAD_REQUEST', /baseline/);
  });

  it('evalEstimate: cells and prompt tokens from the engine’s own axis rules; warns past the endpoint’s max length', async () => {
    const e = await api().portal.evalEstimate({ grid: { lengths: { kind: 'linspace', min: 1000, max: 4000, count: 4 }, depths: { kind: 'linspace', min: 0, max: 1, count: 5 }, samples: 2 }, endpointId });
    expect(e.lengths).toEqual([1000, 2000, 3000, 4000]);
    expect(e.cells).toBe(40);
    expect(e.promptTokens).toBe(10_000 * 5 * 2);
    expect(e.warnings.join(' ')).toMatch(/beyond lab's max model length 3,000/);
    const g = await api().portal.evalEstimate({ grid: { preset: 'gradient', samples: 1 } });
    expect(g).toMatchObject({ cells: 14 * 6, maxLength: 1_126_875 });
    await expectCode(api().portal.evalEstimate({ grid: { lengths: { kind: 'list', values: [100] } } as never }), 'BAD_REQUEST', /preset, or both lengths and depths/);
  });

  it('evalRuns: newest first, with model/endpoint names and the average score; filters and pages', async () => {
    const p = await api().portal.evalRuns({ limit: 2 });
    expect(p.total).toBeGreaterThanOrEqual(4);
    expect(p.items).toHaveLength(2);
    expect(p.nextOffset).toBe(2);
    const s = await api().portal.evalRuns({ search: 'CMP-' });
    expect(s.items.map((r) => r.name).sort()).toEqual(['cmp-a', 'cmp-b']);
  });

  it('jobsBoard and dashboard answer on an empty queue', async () => {
    const j = await api().portal.jobsBoard({ activeOnly: true });
    expect(j).toMatchObject({ items: [], total: 0 });
    const d = await api().portal.dashboard();
    expect(d.counts.models).toBe(1);
    expect(d.counts.evalRuns).toBeGreaterThanOrEqual(4);
    expect(d.recentEvals.length).toBeGreaterThan(0);
  });

  it('endpointHealth: the served models, or a clear error for each way a server fails — never a 500', async () => {
    const a = api();
    const ok = await a.portal.endpointHealth({ id: endpointId });
    expect(ok).toMatchObject({ ok: true, models: ['lab-model'], servedModelListed: true, error: null });
    expect((await a.endpoints.get({ id: endpointId })).lastStatus).toBe('ok');
    expect(await a.portal.endpointHealth({ url: `${server.url}/v1/`, servedModelName: 'other' })).toMatchObject({ ok: true, servedModelListed: false, error: expect.stringMatching(/does not list the served model name "other"/) });

    // Nothing listening.
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect(await a.portal.endpointHealth({ url: `http://127.0.0.1:${port}` })).toMatchObject({ ok: false, error: expect.stringMatching(/connection refused/) });

    // A web page instead of an API, an HTTP error, and a server that never answers.
    const odd = http.createServer((req, res) => {
      if (req.url?.startsWith('/html')) return void res.end('<html>hello</html>');
      if (req.url?.startsWith('/err')) return void res.writeHead(503).end('{"error":"overloaded"}');
      // /hang: never answers
    });
    await new Promise<void>((r) => odd.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(odd.address() as AddressInfo).port}`;
    try {
      expect(await a.portal.endpointHealth({ url: `${base}/html` })).toMatchObject({ ok: false, error: expect.stringMatching(/did not answer with JSON/) });
      expect(await a.portal.endpointHealth({ url: `${base}/err` })).toMatchObject({ ok: false, error: expect.stringMatching(/^HTTP 503 from /) });
      const t0 = Date.now();
      expect(await a.portal.endpointHealth({ url: `${base}/hang` })).toMatchObject({ ok: false, error: expect.stringMatching(/no answer .* within 3 s/) });
      expect(Date.now() - t0).toBeLessThan(6000);
    } finally {
      odd.closeAllConnections();
      await new Promise((r) => odd.close(r));
    }
    await expectCode(a.portal.endpointHealth({ url: 'ftp://x' }), 'BAD_REQUEST', /http or https/);
  });
});
