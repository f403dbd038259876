/**
 * The portal's heaviest reads, timed over HTTP (the tRPC endpoint the browser calls, superjson and
 * all) with a registry of 10,000 eval runs and two 1,225-cell heatmaps (35 lengths × 35 depths):
 * the evals table (first and last page), the heatmap, the result page's read model, a page of
 * cells and the compare view; and a model's scorecard against its parent (a 1,225-cell NIAH run and
 * a 1,300-cell RULER run on each side, 2,000 bootstrap resamples per row), the overview with its
 * newest scorecards, and a RULER run's read model. Target: p95 under 150 ms for each.
 */
import { createClient } from '@ctxlab/api/client';
import { closeAllDbs } from '@ctxlab/db';
import { RULER_TASK_NAMES } from '@ctxlab/ruler';
import { insertFinishedRun, rulerCells } from '@ctxlab/api/testing';
import { time, type BenchResult } from '@ctxlab/bench';
import { startApiServer } from '@ctxlab/testing/api-server';
import { resetDb, testRepos, testToken } from '@ctxlab/testing/db';

const RUNS = 10_000;
const AXIS = 35;
const TARGET_MS = 150;

const lengths = Array.from({ length: AXIS }, (_, i) => Math.round(1000 + (i * (1_048_576 - 1000)) / (AXIS - 1)));
const depthPercents = Array.from({ length: AXIS }, (_, i) => Math.round((i * 100) / (AXIS - 1)));
const depths = depthPercents.map((p) => p / 100);
const spec = { variant: 'value', tokenizer: 'llama3', grid: { lengths: { kind: 'list', values: lengths }, depths: { kind: 'list', values: depths }, samples: 1 } };

async function seedRegistry() {
  const repos = testRepos();
  const modelId = await repos.seeding.upsertModel({ name: 'bench-70b-1048k', numLayers: 80, hiddenSize: 8192, numAttentionHeads: 64, numKeyValueHeads: 8, headDim: 128, intermediateSize: 28672, vocabSize: 128256, ropeTheta: 3_580_165_449, maxPositionEmbeddings: 1_048_576, tokenizer: 'llama3' });
  const endpoint = await repos.endpoints.create({ name: 'bench-vllm', url: 'http://127.0.0.1:9/v1', servedModelName: 'bench', kind: 'vllm', tags: [], modelId });
  const statuses = ['succeeded', 'succeeded', 'succeeded', 'failed', 'cancelled', 'running', 'pending'] as const;
  const t0 = Date.now() - RUNS * 60_000;
  for (let i = 0; i < RUNS; i += 1000) {
    await repos.seeding.insertEvalRuns(
      Array.from({ length: Math.min(1000, RUNS - i) }, (_, k) => {
        const n = i + k;
        const status = statuses[n % statuses.length]!;
        return {
          name: `sweep ${String(n).padStart(5, '0')} ${n % 3 === 0 ? 'gradient' : 'zhinao'}`,
          kind: 'niah', status, modelId, endpointId: endpoint.id,
          config: { spec, concurrency: 8 }, cellsTotal: AXIS * AXIS, cellsDone: status === 'succeeded' ? AXIS * AXIS : (n * 37) % (AXIS * AXIS),
          summary: { done: AXIS * AXIS, total: AXIS * AXIS, failed: n % 5, averageScore: 40 + (n % 60), cellsPerSecond: 3.2, etaSeconds: null },
          createdAt: new Date(t0 + n * 60_000),
        };
      }),
    );
  }
  // Two full 35 × 35 runs with cells, newest of all (so they are on the first page).
  const heavy: string[] = [];
  for (const [h, name] of ['bench heavy A', 'bench heavy B'].entries()) {
    const runId = await repos.seeding.insertEvalRun({ name, kind: 'niah', status: 'succeeded', modelId, endpointId: endpoint.id, config: { spec, concurrency: 8 }, cellsTotal: AXIS * AXIS, cellsDone: AXIS * AXIS, summary: { averageScore: 80 } });
    heavy.push(runId);
    const cells = lengths.flatMap((l, x) =>
      depths.map((d, y) => {
        const miss = h === 1 && x > 20 && y > 10 && y < 28;
        const failed = (x * AXIS + y) % 97 === 0;
        const number = String(1_000_000 + ((x * 7919 + y * 104_729) % 9_000_000));
        return {
          contextLength: l, depth: d, sample: 0, promptTokens: l,
          needle: `The special magic Lisbon number is: ${number}`, expected: number,
          response: failed ? null : miss ? 'I could not find that in the document. '.repeat(3) : `The special magic Lisbon number is: ${number}. It appears in the document exactly once, about ${depthPercents[y]}% of the way in.`,
          score: failed ? null : miss ? 0 : 100, latencyMs: 200 + x * 40, error: failed ? 'http: 500 Internal Server Error (after 5 attempts)' : null,
        };
      }),
    );
    await repos.evals.recordCells(runId, cells);
  }
  // The model's parent with its own run on the same grid, and a RULER run (13 tasks × 4 lengths × 25 samples) for each.
  const parentId = await repos.seeding.upsertModel({ name: 'bench-70b-base', numLayers: 80, hiddenSize: 8192, numAttentionHeads: 64, numKeyValueHeads: 8, headDim: 128, intermediateSize: 28672, vocabSize: 128256, ropeTheta: 500_000, maxPositionEmbeddings: 8192, tokenizer: 'llama3' });
  await repos.models.addLineage({ parentId, childId: modelId, kind: 'context-extension' });
  const parentGrid = lengths.flatMap((l, x) => depths.map((d, y) => ({ contextLength: l, depth: d, sample: 0, score: x > 10 && (x + y) % 3 === 0 ? 0 : 100 })));
  await insertFinishedRun(repos, { name: 'bench parent sweep', kind: 'niah', modelId: parentId, spec, cells: parentGrid });
  const rulerLengths = [4096, 8192, 16384, 32768];
  const rulerSpec = { suite: 'ruler', tasks: [...RULER_TASK_NAMES], lengths: rulerLengths, samples: 25, seed: 1, tokenizer: 'llama3', chatTemplate: true, threshold: 85.6 };
  const ruler: string[] = [];
  for (const [m, falloff] of [[parentId, 8192], [modelId, 32768]] as const) {
    const cells = rulerCells(RULER_TASK_NAMES, rulerLengths, 25, (t, l, s) => ((s * 7 + t.length) % 25 < (l <= falloff ? 23 : 10) ? 100 : 0));
    ruler.push((await insertFinishedRun(repos, { name: `bench ruler ${m === modelId ? 'extended' : 'base'}`, kind: 'ruler', modelId: m, spec: rulerSpec, cells })).id);
  }
  // The heavy runs finish last: they are the model's newest NIAH results.
  await repos.seeding.finishEvalRuns(heavy);
  await repos.seeding.analyzeEvalTables();
  return { heavy, modelId, rulerRun: ruler[1]! };
}

export default async function bench(): Promise<BenchResult[]> {
  await resetDb();
  const tSeed = performance.now();
  const { heavy, modelId, rulerRun } = await seedRegistry();
  const seedSeconds = (performance.now() - tSeed) / 1000;
  const server = await startApiServer();
  // A viewer's token: the pages' reads, with authentication on every request as in production.
  const api = createClient(server.url, { token: (await testToken('viewer')).token });
  const [a, b] = heavy as [string, string];
  const out: BenchResult[] = [{ suite: 'portal', name: `seed ${RUNS.toLocaleString('en-US')} runs + 2 × ${AXIS * AXIS} cells`, value: seedSeconds, unit: 's' }];
  try {
    const cases: [string, () => Promise<unknown>][] = [
      ['evals.list, first page (50 of 10,005)', () => api.evals.list.query({ limit: 50 })],
      ['evals.list, last page (offset 9,950)', () => api.evals.list.query({ limit: 50, offset: 9_950 })],
      ['portal.evalRuns, first page (the evals table)', () => api.portal.evalRuns.query({ limit: 50 })],
      ['portal.evalRuns, search + status filter', () => api.portal.evalRuns.query({ limit: 50, search: 'gradient', status: 'succeeded' })],
      [`evals.heatmap (${AXIS} × ${AXIS} = ${AXIS * AXIS} cells, with SVG)`, () => api.evals.heatmap.query({ id: a })],
      [`portal.evalResult (${AXIS * AXIS} cells + hover details)`, () => api.portal.evalResult.query({ id: b })],
      ['evals.cells, a page of 200', () => api.evals.cells.query({ evalRunId: a, limit: 200, offset: 600 })],
      [`portal.compare (2 runs × ${AXIS * AXIS} cells)`, () => api.portal.compare.query({ ids: [a, b] })],
      ['models.scorecard (NIAH + RULER against the parent, 2,000 resamples per row)', () => api.models.scorecard.query({ modelId })],
      ['portal.dashboard (the overview, with its newest scorecards)', () => api.portal.dashboard.query()],
      ['evals.suiteResults (RULER, 13 tasks × 4 lengths × 25 samples)', () => api.evals.suiteResults.query({ id: rulerRun })],
    ];
    // Sanity: the reads return what the pages show.
    const first = await api.evals.list.query({ limit: 50 });
    if (first.total !== RUNS + 5) throw new Error(`expected ${RUNS + 5} runs, the API counts ${first.total}`);
    // The first read of a scorecard computes every row's bootstrap; later reads reuse the intervals.
    const tCold = performance.now();
    const card = await api.models.scorecard.query({ modelId });
    out.push({ suite: 'portal', name: 'models.scorecard, first read (bootstraps computed)', value: performance.now() - tCold, unit: 'ms' });
    if (card.against?.name !== 'bench-70b-base' || !card.rows.some((r) => r.key === 'ruler:effective' && r.verdict === 'better')) throw new Error(`unexpected scorecard: ${JSON.stringify(card.rows.map((r) => [r.key, r.verdict]))}`);
    const hm = await api.portal.evalResult.query({ id: b });
    if (hm.lengths.length !== AXIS || hm.depths.length !== AXIS) throw new Error(`heatmap is ${hm.lengths.length} × ${hm.depths.length}`);
    for (const [name, fn] of cases) {
      const t = await time(fn, { iterations: 100, warmup: 10 });
      out.push(
        { suite: 'portal', name: `${name}: p50`, value: t.p50Ms, unit: 'ms' },
        { suite: 'portal', name: `${name}: p95`, value: t.p95Ms, unit: 'ms', target: `< ${TARGET_MS} ms`, pass: t.p95Ms < TARGET_MS },
      );
    }
    return out;
  } finally {
    await server.close();
    await closeAllDbs();
  }
}
