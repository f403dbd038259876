/**
 * The portal's heaviest reads, timed over HTTP (the tRPC endpoint the browser calls, superjson and
 * all) against a registry at scale: 10,000 eval runs holding 5,000,000 cells, loaded with COPY
 * (399 runs of 100 lengths × 100 depths = 10,000 cells, one of 20 lengths × 25 depths × 20
 * samples = 10,000 cells, 400 of 200 and 9,200 of 100), plus two RULER runs. Timed: the evals
 * table (first page, a deep page by cursor and by offset, search + filter), the heatmap of a
 * 10,000-cell run of each shape — the API's evals.heatmap with its SVG over HTTP, and
 * portal.evalResult in process as the run page calls it (target: p95 under 50 ms; over HTTP too,
 * for reference) — with the parts of a heatmap read timed apart (the run, the SQL aggregate, the
 * matrix, the serializer, the SVG) and the run page's server render of the heatmap; a page of
 * cells (first and deep, by cursor), the compare view, a model's scorecard against its parent (a
 * 10,000-cell NIAH run and a 1,300-cell RULER run on each side, 2,000 bootstrap resamples per
 * row), the overview and a RULER run's read model (target: p95 under 150 ms for each). Also
 * reported: the seed's time and the cells table's size on disk (heap, TOAST and indexes) per
 * million cells.
 */
import { loadavg } from 'node:os';
import { apiDeps, createCaller } from '@ctxlab/api';
import { createClient } from '@ctxlab/api/client';
import { heatmapMatrix, heatmapSvg } from '@ctxlab/contracts';
import { closeAllDbs, type SeedCell } from '@ctxlab/db';
import { RULER_TASK_NAMES } from '@ctxlab/ruler';
import { insertFinishedRun, rulerCells } from '@ctxlab/api/testing';
import { time, type BenchResult, type Timing } from '@ctxlab/bench';
import { startApiServer } from '@ctxlab/testing/api-server';
import { resetDb, testRepos, testSettings, testToken } from '@ctxlab/testing/db';
import { AppRouterContext, type AppRouterInstance } from 'next/dist/shared/lib/app-router-context.shared-runtime.js';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import superjson from 'superjson';
import { EvalHeatmap } from '../src/components/EvalHeatmap';

const RUNS = 10_000;
/** The big runs' grid: 100 lengths × 100 depths. */
const AXIS = 100;
/** The small runs' grid: 10 × 10 (one or two samples per cell). */
const SMALL = 10;
const TARGET_MS = 150;
const HEATMAP_TARGET_MS = 50;
const CELLS = 5_000_000;

const axis = (n: number, lo: number, hi: number) => Array.from({ length: n }, (_, i) => Math.round(lo + (i * (hi - lo)) / (n - 1)));
const lengths = axis(AXIS, 1000, 1_048_576);
const depthPercents = axis(AXIS, 0, 100);
const depths = depthPercents.map((p) => p / 100);
const smallLengths = axis(SMALL, 1000, 131_072);
const smallDepths = axis(SMALL, 0, 100).map((p) => p / 100);
const gridSpec = (ls: number[], ds: number[], samples: number) => ({ variant: 'value', tokenizer: 'llama3', grid: { lengths: { kind: 'list', values: ls }, depths: { kind: 'list', values: ds }, samples } });
const spec = gridSpec(lengths, depths, 1);

/** Which of the 10,000 runs is which: the three newest are the heavy pair and the parent's sweep. */
const HEAVY_A = RUNS - 3;
const HEAVY_B = RUNS - 2;
const PARENT = RUNS - 1;
const isBig = (n: number) => n >= HEAVY_A || (n % 25 === 0 && n <= 9_900);
const samplesOf = (n: number) => (n % 25 === 1 ? 2 : 1);
/** One of the big runs sampled instead: 20 lengths × 25 depths × 20 samples, the same 10,000 cells on 500 heatmap cells. */
const SAMPLED = 9_900;
const sampledLengths = axis(20, 1000, 1_048_576);
const sampledDepths = axis(25, 0, 100).map((p) => p / 100);
/** A run's lengths, depths and samples per (length, depth). */
function shapeOf(n: number): { ls: number[]; ds: number[]; samples: number } {
  if (n === SAMPLED) return { ls: sampledLengths, ds: sampledDepths, samples: 20 };
  return isBig(n) ? { ls: lengths, ds: depths, samples: 1 } : { ls: smallLengths, ds: smallDepths, samples: samplesOf(n) };
}
const cellsOf = (n: number) => {
  const { ls, ds, samples } = shapeOf(n);
  return ls.length * ds.length * samples;
};

const CITIES = ['Lisbon', 'Oslo', 'Lima', 'Hanoi', 'Quito', 'Perth', 'Dakar', 'Riga'];
const FAILED = 'http: 500 Internal Server Error (after 5 attempts)';
const MISS = 'I could not find that number anywhere in the document.';

/** Ids shaped like the registry's (25 characters), increasing in insertion order as cuids do. */
const salt = Math.random().toString(36).slice(2, 12).padEnd(10, '0');
const runId = (n: number) => `cr${n.toString(36).padStart(4, '0')}${salt}bench0000`;
const cellId = (n: number, i: number) => `cc${n.toString(36).padStart(4, '0')}${i.toString(36).padStart(4, '0')}${salt}bnch0`;

/** One run's cells: long contexts miss more often, one request in 97 fails. */
function runCells(n: number, createdAt: Date): SeedCell[] {
  const { ls, ds, samples } = shapeOf(n);
  const city = CITIES[n % CITIES.length]!;
  const out: SeedCell[] = [];
  let i = 0;
  for (const [x, l] of ls.entries()) {
    for (const [y, d] of ds.entries()) {
      for (let sample = 0; sample < samples; sample++, i++) {
        const number = String(1_000_000 + ((x * 7919 + y * 104_729 + n * 31 + sample) % 9_000_000));
        const failed = (i + n) % 97 === 0;
        // Run B misses a block of long contexts (what the compare view shows); others fall off with length.
        const miss = n === HEAVY_B ? x > 57 && y > 28 && y < 80 : n !== HEAVY_A && x / ls.length > 0.6 && (x * 3 + y * 7 + n + sample) % 5 < 2;
        out.push({
          id: cellId(n, i), evalRunId: runId(n), task: '', contextLength: l, depth: d, sample,
          promptTokens: l + 64, needleToken: Math.max(0, Math.round(d * l) - (y % 13)),
          needle: `The special magic ${city} number is: ${number}`, expected: number,
          response: failed ? null : miss ? MISS : `The special magic ${city} number is: ${number}.`,
          score: failed ? null : miss ? 0 : 100, latencyMs: 200 + x * 40 + (y % 7), error: failed ? FAILED : null, attempts: failed ? 5 : 1,
          createdAt: new Date(createdAt.getTime() + i * 50),
        });
      }
    }
  }
  return out;
}

async function seedRegistry() {
  const repos = testRepos();
  const modelId = await repos.seeding.upsertModel({ name: 'bench-70b-1048k', numLayers: 80, hiddenSize: 8192, numAttentionHeads: 64, numKeyValueHeads: 8, headDim: 128, intermediateSize: 28672, vocabSize: 128256, ropeTheta: 3_580_165_449, maxPositionEmbeddings: 1_048_576, tokenizer: 'llama3' });
  const parentId = await repos.seeding.upsertModel({ name: 'bench-70b-base', numLayers: 80, hiddenSize: 8192, numAttentionHeads: 64, numKeyValueHeads: 8, headDim: 128, intermediateSize: 28672, vocabSize: 128256, ropeTheta: 500_000, maxPositionEmbeddings: 8192, tokenizer: 'llama3' });
  await repos.models.addLineage({ parentId, childId: modelId, kind: 'context-extension' });
  const endpoint = await repos.endpoints.create({ name: 'bench-vllm', url: 'http://127.0.0.1:9/v1', servedModelName: 'bench', kind: 'vllm', tags: [], modelId });
  const statuses = ['succeeded', 'succeeded', 'succeeded', 'failed', 'cancelled', 'running'] as const;
  const t0 = Date.now() - (RUNS + 60) * 60_000;
  const createdAt = (n: number) => new Date(t0 + n * 60_000);
  for (let i = 0; i < RUNS; i += 1000) {
    await repos.seeding.insertEvalRuns(
      Array.from({ length: Math.min(1000, RUNS - i) }, (_, k) => {
        const n = i + k;
        const status = n >= HEAVY_A ? 'succeeded' : statuses[n % statuses.length]!;
        const total = cellsOf(n);
        const at = createdAt(n);
        const name = n === HEAVY_A ? 'bench heavy A' : n === HEAVY_B ? 'bench heavy B' : n === PARENT ? 'bench parent sweep' : `sweep ${String(n).padStart(5, '0')} ${n % 3 === 0 ? 'gradient' : 'zhinao'}`;
        return {
          id: runId(n), name, kind: 'niah', status, modelId: n === PARENT ? parentId : modelId, endpointId: endpoint.id,
          config: { spec: n === SAMPLED ? gridSpec(sampledLengths, sampledDepths, 20) : isBig(n) ? spec : gridSpec(smallLengths, smallDepths, samplesOf(n)), concurrency: 8 }, cellsTotal: total, cellsDone: total,
          summary: { done: total, total, failed: Math.floor(total / 97), averageScore: 40 + (n % 60), cellsPerSecond: 3.2, etaSeconds: null },
          createdAt: at, startedAt: at, finishedAt: status === 'running' ? null : new Date(at.getTime() + 30 * 60_000),
        };
      }),
    );
  }
  const tCopy = performance.now();
  // Runs in id order, so each index grows at its end; rows are made as COPY reads them.
  function* batches() {
    for (let n = 0; n < RUNS; n++) yield runCells(n, createdAt(n));
  }
  const copied = await repos.seeding.copyEvalCells(batches());
  const copySeconds = (performance.now() - tCopy) / 1000;
  if (copied !== CELLS) throw new Error(`COPY wrote ${copied} cells, expected ${CELLS}`);
  // A RULER run (13 tasks × 4 lengths × 25 samples) for the model and its parent.
  const rulerLengths = [4096, 8192, 16384, 32768];
  const rulerSpec = { suite: 'ruler', tasks: [...RULER_TASK_NAMES], lengths: rulerLengths, samples: 25, seed: 1, tokenizer: 'llama3', chatTemplate: true, threshold: 85.6 };
  const ruler: string[] = [];
  for (const [m, falloff] of [[parentId, 8192], [modelId, 32768]] as const) {
    const cells = rulerCells(RULER_TASK_NAMES, rulerLengths, 25, (t, l, s) => ((s * 7 + t.length) % 25 < (l <= falloff ? 23 : 10) ? 100 : 0));
    ruler.push((await insertFinishedRun(repos, { name: `bench ruler ${m === modelId ? 'extended' : 'base'}`, kind: 'ruler', modelId: m, spec: rulerSpec, cells })).id);
  }
  // The heavy runs finish last: they are the model's newest NIAH results.
  await repos.seeding.finishEvalRuns([runId(HEAVY_A), runId(HEAVY_B)]);
  const tAnalyze = performance.now();
  await repos.seeding.analyzeEvalTables();
  const analyzeSeconds = (performance.now() - tAnalyze) / 1000;
  const bytes = await repos.seeding.evalCellBytes();
  return { heavy: [runId(HEAVY_A), runId(HEAVY_B)], sampled: runId(SAMPLED), modelId, rulerRun: ruler[1]!, copySeconds, analyzeSeconds, bytes };
}

export default async function bench(): Promise<BenchResult[]> {
  await resetDb();
  const tSeed = performance.now();
  const { heavy, sampled, modelId, rulerRun, copySeconds, analyzeSeconds, bytes } = await seedRegistry();
  const seedSeconds = (performance.now() - tSeed) / 1000;
  const server = await startApiServer();
  // A viewer's token: the pages' reads, with authentication on every request as in production.
  const viewer = await testToken('viewer');
  const api = createClient(server.url, { token: viewer.token });
  // The run page calls the API in process, through the same procedures, as the signed-in person.
  const page = () => createCaller({ ...apiDeps(testSettings()), actor: { id: viewer.userId, name: 'viewer tester', role: 'viewer', via: 'session' }, source: 'http' });
  const repos = testRepos();
  const [a, b] = heavy as [string, string];
  const mb = (n: number) => n / 1024 / 1024;
  const perMillion = CELLS / 1_000_000;
  const out: BenchResult[] = [
    { suite: 'portal', name: `seed ${RUNS.toLocaleString('en-US')} runs + ${CELLS.toLocaleString('en-US')} cells (total)`, value: seedSeconds, unit: 's' },
    { suite: 'portal', name: 'seed: COPY of the cells', value: copySeconds, unit: 's', note: `${Math.round(CELLS / copySeconds).toLocaleString('en-US')} cells/s` },
    { suite: 'portal', name: 'seed: ANALYZE', value: analyzeSeconds, unit: 's' },
    { suite: 'portal', name: 'EvalCell on disk per million cells (heap + TOAST + indexes)', value: mb(bytes.total) / perMillion, unit: 'MB', note: `total ${mb(bytes.total).toFixed(0)} MB for ${CELLS.toLocaleString('en-US')} cells` },
    { suite: 'portal', name: 'EvalCell indexes per million cells', value: mb(bytes.indexes) / perMillion, unit: 'MB' },
  ];
  try {
    const total = RUNS + 2;
    // Sanity: the reads return what the pages show.
    const first = await api.evals.list.query({ limit: 50 });
    if (first.total !== total) throw new Error(`expected ${total} runs, the API counts ${first.total}`);
    // Deep positions: the cursor after row 9,950 of the runs table, after cell 9,600 of a run.
    const deepList = (await api.evals.list.query({ limit: 50, offset: 9_900 })).nextCursor;
    const deepRuns = (await api.portal.evalRuns.query({ limit: 50, offset: 9_900 })).nextCursor;
    const deepCells = (await api.evals.cells.query({ evalRunId: a, limit: 200, offset: 9_400 })).nextCursor;
    if (!deepList || !deepRuns || !deepCells) throw new Error('a deep page has no nextCursor');
    const byCursor = await api.evals.list.query({ limit: 50, cursor: deepList });
    const byOffset = await api.evals.list.query({ limit: 50, offset: 9_950 });
    if (JSON.stringify(byCursor.items.map((r) => r.id)) !== JSON.stringify(byOffset.items.map((r) => r.id))) throw new Error('the page after a cursor differs from the page at its offset');

    // The heatmaps: every cell of both shapes accounted for, the page's in-process answer the same as the API's.
    const grid = `${AXIS} × ${AXIS} × 1`;
    const sampledGrid = `${sampledLengths.length} × ${sampledDepths.length} × 20`;
    const heat = await api.evals.heatmap.query({ id: a });
    const heatSampled = await api.evals.heatmap.query({ id: sampled });
    for (const [h, nx, ny] of [[heat, AXIS, AXIS], [heatSampled, sampledLengths.length, sampledDepths.length]] as const) {
      if (h.lengths.length !== nx || h.depths.length !== ny || h.scored + h.failed !== AXIS * AXIS) throw new Error(`heatmap is ${h.lengths.length} × ${h.depths.length} with ${h.scored} scored + ${h.failed} failed samples`);
    }
    if (heatSampled.counts.flat().some((n) => n < 19) || !heatSampled.matrix.flat().some((v) => v !== null && v > 0 && v < 100)) throw new Error('the sampled run should average 20 samples per cell');
    if (heat.svg.includes('<title>') || !heat.svg.includes('<path')) throw new Error('a 10,000-cell heatmap should be served as the compact picture');
    const hm = await api.portal.evalResult.query({ id: b });
    const hmPage = await page().portal.evalResult({ id: b });
    if (hm.lengths.length !== AXIS || hm.depths.length !== AXIS || JSON.stringify(hmPage.matrix) !== JSON.stringify(hm.matrix)) throw new Error('the page and the API read different heatmaps');
    const hd = JSON.parse((await api.portal.evalResultDetails.query({ id: b })).rows) as unknown[];
    if (hm.details !== null || hd.length !== AXIS * AXIS) throw new Error('a 10,000-cell result should leave its hover details to evalResultDetails, which has every cell');

    // Where a heatmap read's time goes, part by part (the 100 × 100 run, one group per cell).
    const agg = await repos.reads.heatmapAggregates(a);
    const heatmapProps = { runId: b, runName: 'bench heavy B', titleName: 'bench-70b-1048k', lengths: hm.lengths, depths: hm.depths, matrix: hm.matrix, counts: hm.counts, details: hm.details, average: hm.average };
    // The page's router, which the server render of a heatmap never calls.
    const router: AppRouterInstance = { back() {}, forward() {}, refresh() {}, push() {}, replace() {}, prefetch() {}, bfcacheId: 'bench' };
    const pageHeatmap = () => renderToString(createElement(AppRouterContext.Provider, { value: router }, createElement(EvalHeatmap, heatmapProps)));
    const pageHtml = pageHeatmap();
    if (pageHtml.includes('data-x=') || !pageHtml.includes('<path')) throw new Error('the run page should server-render a 10,000-cell heatmap as its compact picture');
    const wire = JSON.stringify(superjson.serialize(heat));
    const parts: [string, () => unknown, string?][] = [
      ['the run (evals.get)', () => repos.evals.get(a)],
      [`the SQL aggregate, ${agg.length.toLocaleString('en-US')} (length, depth) groups as rows (heatmapAggregates)`, () => repos.reads.heatmapAggregates(a)],
      ['the matrix from the aggregate (heatmapMatrix)', () => heatmapMatrix(agg, heat)],
      ['the SVG drawn afresh (compact; evals.heatmap keeps pictures by content)', () => heatmapSvg(heat, { name: 'bench' })],
      ['the API serializer on the evals.heatmap answer (superjson + JSON)', () => JSON.stringify(superjson.serialize(heat)), `${(wire.length / 1e6).toFixed(2)} MB on the wire`],
      [`the run page's server render of the heatmap (EvalHeatmap, React ${process.env.NODE_ENV === 'production' ? 'production' : 'development'} build)`, pageHeatmap, `${(pageHtml.length / 1e6).toFixed(2)} MB of HTML: the compact picture, made interactive in the browser`],
    ];
    const partP50: number[] = [];
    for (const [name, fn, note] of parts) {
      const t = await time(fn, { iterations: 40, warmup: 5 });
      partP50.push(t.p50Ms);
      out.push({ suite: 'portal', name: `heatmap ${grid}, ${name}: p50`, value: t.p50Ms, unit: 'ms' }, { suite: 'portal', name: `heatmap ${grid}, ${name}: p95`, value: t.p95Ms, unit: 'ms', ...(note ? { note } : {}) });
    }
    out.push(
      { suite: 'portal', name: `heatmap ${grid}: SVG markup as served (compact)`, value: mb(heat.svg.length), unit: 'MB' },
      { suite: 'portal', name: `heatmap ${grid}: SVG markup drawn in full (a rect, title and data attributes per cell)`, value: mb(heatmapSvg(heat, { name: 'bench', compact: false }).length), unit: 'MB', note: 'what evals.heatmap served before; still the download for grids up to 2,500 cells' },
    );
    const load = () => `load average ${loadavg()[0]!.toFixed(1)}`;
    const heatWhy = () =>
      `parts' p50 here: run ${partP50[0]!.toFixed(1)} ms and SQL aggregate ${partP50[1]!.toFixed(1)} ms read side by side, matrix ${partP50[2]!.toFixed(1)} ms, serializer ${partP50[4]!.toFixed(1)} ms (HTTP only), the rest HTTP and authentication; ${load()}`;

    /** Name, read, target (null: timed for reference only, with the reason as its note), why a miss happened where known. */
    const cases: [string, () => Promise<unknown>, number | null, (() => string)?][] = [
      [`evals.list, first page (50 of ${total.toLocaleString('en-US')})`, () => api.evals.list.query({ limit: 50 }), TARGET_MS],
      ['evals.list, deep page by cursor (rows 9,951–10,000)', () => api.evals.list.query({ limit: 50, cursor: deepList }), TARGET_MS],
      ['evals.list, deep page by offset 9,950 (older clients)', () => api.evals.list.query({ limit: 50, offset: 9_950 }), TARGET_MS],
      ['portal.evalRuns, first page (the evals table)', () => api.portal.evalRuns.query({ limit: 50 }), TARGET_MS],
      ['portal.evalRuns, deep page by cursor', () => api.portal.evalRuns.query({ limit: 50, cursor: deepRuns }), TARGET_MS],
      ['portal.evalRuns, search + status filter', () => api.portal.evalRuns.query({ limit: 50, search: 'gradient', status: 'succeeded' }), TARGET_MS],
      [`evals.heatmap over HTTP (${grid} = 10,000 cells, with SVG)`, () => api.evals.heatmap.query({ id: a }), HEATMAP_TARGET_MS, heatWhy],
      [`portal.evalResult over HTTP (${grid})`, () => api.portal.evalResult.query({ id: b }), null, () => 'no client reads it over HTTP: the run page calls it in process (the next row); the difference is authentication and the serializer'],
      [`portal.evalResult in process, as the run page calls it (${grid})`, () => page().portal.evalResult({ id: b }), HEATMAP_TARGET_MS, heatWhy],
      [`evals.heatmap over HTTP (${sampledGrid} = 10,000 cells, with SVG)`, () => api.evals.heatmap.query({ id: sampled }), HEATMAP_TARGET_MS],
      [`portal.evalResult in process, as the run page calls it (${sampledGrid})`, () => page().portal.evalResult({ id: sampled }), HEATMAP_TARGET_MS],
      [`portal.evalResultDetails (hover details of ${(AXIS * AXIS).toLocaleString('en-US')} cells, read after the heatmap, parsed)`, async () => JSON.parse((await api.portal.evalResultDetails.query({ id: b })).rows) as unknown, TARGET_MS],
      ['evals.cells, first page of 200', () => api.evals.cells.query({ evalRunId: a, limit: 200 }), TARGET_MS],
      ['evals.cells, deep page of 200 by cursor (cells 9,601–9,800)', () => api.evals.cells.query({ evalRunId: a, limit: 200, cursor: deepCells }), TARGET_MS],
      [`portal.compare (2 runs × ${(AXIS * AXIS).toLocaleString('en-US')} cells)`, () => api.portal.compare.query({ ids: [a, b] }), TARGET_MS],
      [`models.scorecard (NIAH ${(AXIS * AXIS).toLocaleString('en-US')} cells + RULER against the parent, 2,000 resamples per row)`, () => api.models.scorecard.query({ modelId }), TARGET_MS],
      ['portal.dashboard (the overview, with its newest scorecards)', () => api.portal.dashboard.query(), TARGET_MS],
      ['evals.suiteResults (RULER, 13 tasks × 4 lengths × 25 samples)', () => api.evals.suiteResults.query({ id: rulerRun }), TARGET_MS],
    ];
    // The first read of a scorecard computes every row's bootstrap; later reads reuse the intervals.
    const tCold = performance.now();
    const card = await api.models.scorecard.query({ modelId });
    out.push({ suite: 'portal', name: 'models.scorecard, first read (bootstraps computed)', value: performance.now() - tCold, unit: 'ms' });
    if (card.against?.name !== 'bench-70b-base' || !card.rows.some((r) => r.key === 'ruler:effective' && r.verdict === 'better')) throw new Error(`unexpected scorecard: ${JSON.stringify(card.rows.map((r) => [r.key, r.verdict]))}`);
    for (const [name, fn, target, why] of cases) {
      const t: Timing = await time(fn, { iterations: 40, warmup: 5 });
      out.push({ suite: 'portal', name: `${name}: p50`, value: t.p50Ms, unit: 'ms' });
      if (target === null) {
        out.push({ suite: 'portal', name: `${name}: p95`, value: t.p95Ms, unit: 'ms', ...(why ? { note: why() } : {}) });
        continue;
      }
      const pass = t.p95Ms < target;
      out.push({
        suite: 'portal', name: `${name}: p95`, value: t.p95Ms, unit: 'ms', target: `< ${target} ms`, pass,
        ...(pass ? {} : { note: `missed: p95 ${t.p95Ms.toFixed(1)} ms (p50 ${t.p50Ms.toFixed(1)} ms): ${why?.() ?? `no cause identified in this run (${load()}); EXPLAIN ANALYZE the read`}` }),
      });
    }
    return out;
  } finally {
    await server.close();
    await closeAllDbs();
  }
}
