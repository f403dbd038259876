import { TRPCError } from '@trpc/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { resetDb, testRepos, testSettings } from '@ctxlab/testing/db';
import { apiDeps } from '../deps';
import { createCaller } from '../index';
import { newestScorecards, scorecard } from './scorecard';
import { suiteResults } from './suite-results';
import { insertFinishedRun, rulerCells } from './testing/suite-runs';

const cfg = {
  numLayers: 4, hiddenSize: 128, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 384, vocabSize: 259, ropeTheta: 10_000, maxPositionEmbeddings: 1024, tokenizer: 'byte',
};
const api = () => createCaller({ ...apiDeps(testSettings()), actor: null, source: 'internal' });
const TASKS = ['niah_single_1', 'niah_multikey_2', 'vt'];
const LENGTHS = [1024, 2048];
const rulerSpec = { suite: 'ruler', tasks: TASKS, lengths: LENGTHS, samples: 20, seed: 1, tokenizer: 'byte', chatTemplate: false, threshold: 85.6, qaDataset: 'squad-dev-sample' };
const niahSpec = (lengths: number[]) => ({ variant: 'value', tokenizer: 'byte', grid: { lengths: { kind: 'list', values: lengths }, depths: { kind: 'list', values: [0, 0.5, 1] } } });
const niahCells = (lengths: number[], score: (l: number) => number) => lengths.flatMap((l) => [0, 0.5, 1].map((depth) => ({ contextLength: l, depth, sample: 0, score: score(l) })));
const at = (minutes: number) => new Date(Date.UTC(2026, 11, 4, 12, minutes));

describe('suite results and the scorecard', () => {
  const repos = testRepos();
  let parent: string;
  let child: string;
  let other: string;
  let childRuler: string;
  let childTopic: string;
  let childNiah: string;
  beforeAll(async () => {
    await resetDb();
    parent = (await repos.models.create({ name: 'lab-base', config: cfg } as never)).id;
    child = (await repos.models.create({ name: 'lab-extended', config: { ...cfg, maxPositionEmbeddings: 4096 } } as never)).id;
    other = (await repos.models.create({ name: 'unrelated', config: cfg } as never)).id;
    await repos.models.addLineage({ parentId: parent, childId: child, kind: 'context-extension' });

    // Parent: perfect at 1K, half the samples right at 2K. Child: perfect at both, one request failed at 2K.
    await insertFinishedRun(repos, { name: 'ruler base', kind: 'ruler', modelId: parent, spec: rulerSpec, cells: rulerCells(TASKS, LENGTHS, 20, (_t, l, s) => (l === 1024 || s % 2 === 0 ? 100 : 0)), finishedAt: at(1) });
    childRuler = (await insertFinishedRun(repos, { name: 'ruler extended', kind: 'ruler', modelId: child, spec: rulerSpec, cells: rulerCells(TASKS, LENGTHS, 20, (t, l, s) => (t === 'vt' && l === 2048 && s === 3 ? null : 100)), finishedAt: at(2) })).id;
    // A newer run of the child that has not finished does not count.
    const running = await repos.evals.create({ name: 'ruler unfinished', kind: 'ruler', modelId: child, config: { spec: rulerSpec, concurrency: 1, mode: 'endpoint' }, tags: [] });
    await repos.evals.recordCells(running.id, rulerCells(TASKS, LENGTHS, 2, () => 0));

    // Topic retrieval: 7 of 10 against 6 of 10 at N = 5, within noise.
    const topic = (right: number) => Array.from({ length: 10 }, (_, s) => ({ task: 'topic_retrieval', contextLength: 5, depth: 0, sample: s, score: s < right ? 100 : 0 }));
    const topicSpec = { suite: 'topic-retrieval', topics: [5], samples: 10, seed: 1, tokenizer: 'byte', chatTemplate: false, corpus: 'lmsys-sample', question: 'first' };
    await insertFinishedRun(repos, { name: 'topics base', kind: 'topic-retrieval', modelId: parent, spec: topicSpec, cells: topic(6), finishedAt: at(3), summary: { perTopics: { 5: 60 }, average: 60, failed: 0 } });
    childTopic = (await insertFinishedRun(repos, { name: 'topics extended', kind: 'topic-retrieval', modelId: child, spec: topicSpec, cells: topic(7), finishedAt: at(4) })).id;

    // Perplexity: the child is clearly lower at 1024.
    const ppl = (xs: number[]) => xs.map((score, sample) => ({ contextLength: 1024, depth: 0, sample, score }));
    await insertFinishedRun(repos, { name: 'ppl base', kind: 'perplexity', modelId: parent, spec: { kind: 'perplexity', lengths: [1024], samples: 4 }, cells: ppl([20, 21, 19, 20.5]), finishedAt: at(5) });
    await insertFinishedRun(repos, { name: 'ppl extended', kind: 'perplexity', modelId: child, spec: { kind: 'perplexity', lengths: [1024], samples: 4 }, cells: ppl([10, 10.5, 9.5, 10.2]), finishedAt: at(6) });

    // NIAH: both on grid A (an older child run on it is superseded); the child also on grid B, which the parent never ran.
    await insertFinishedRun(repos, { name: 'niah old', kind: 'niah', modelId: child, spec: niahSpec([512, 1024]), cells: niahCells([512, 1024], () => 0), finishedAt: at(7) });
    childNiah = (await insertFinishedRun(repos, { name: 'niah new', kind: 'niah', modelId: child, spec: niahSpec([512, 1024]), cells: niahCells([512, 1024], (l) => (l === 512 ? 100 : 50)), finishedAt: at(8) })).id;
    await insertFinishedRun(repos, { name: 'niah base', kind: 'niah', modelId: parent, spec: niahSpec([256]), cells: niahCells([256], () => 100), finishedAt: at(9) });
    await insertFinishedRun(repos, { name: 'niah grid B', kind: 'niah', modelId: child, spec: niahSpec([2048]), cells: niahCells([2048], () => 100), finishedAt: at(10) });
    // One sample per grid cell; the parent misses one cell at 512 that the child finds.
    const baseA = niahCells([512, 1024], (l) => (l === 512 ? 100 : 50)).map((c) => (c.contextLength === 512 && c.depth === 0.5 ? { ...c, score: 0 } : c));
    await insertFinishedRun(repos, { name: 'niah base A', kind: 'niah', modelId: parent, spec: niahSpec([512, 1024]), cells: baseA, finishedAt: at(11) });
  });

  it('suiteResults: per task and length from the cells, RULER averages per length, effective length, failed requests', async () => {
    const r = await suiteResults(repos, childRuler);
    expect(r.tasks).toEqual(TASKS);
    expect(r.lengths).toEqual(LENGTHS);
    expect(r.matrix).toEqual([[100, 100], [100, 100], [100, 100]]);
    expect(r.cells.find((c) => c.task === 'vt' && c.length === 2048)).toEqual({ task: 'vt', length: 2048, mean: 100, n: 19, failed: 1 });
    expect(r.perLength).toEqual([{ length: 1024, average: 100, tasks: 3 }, { length: 2048, average: 100, tasks: 3 }]);
    expect(r).toMatchObject({ average: 100, threshold: 85.6, effectiveLength: 2048, failed: 1, scoredSamples: 119 });
    expect(r.spec.qaDataset).toBe('squad-dev-sample');
    // niah_* tasks have a length × depth map; vt has none.
    expect(r.depthMaps.map((m) => m.task)).toEqual(['niah_single_1', 'niah_multikey_2']);
    const base = await suiteResults(repos, (await repos.evals.list({ search: 'ruler base', limit: 1, offset: 0 } as never)).items[0]!.id);
    expect(base.perLength.map((p) => p.average)).toEqual([100, 50]);
    expect(base.effectiveLength).toBe(1024);
  });

  it('the runs table shows a suite run’s average from its summary', async () => {
    const page = await api().portal.evalRuns({ search: 'topics base', limit: 5, offset: 0 });
    expect(page.items.map((r) => [r.name, r.averageScore])).toEqual([['topics base', 60]]);
  });

  it('suiteResults: topic retrieval accuracy per number of topics', async () => {
    const r = await suiteResults(repos, childTopic);
    expect(r.perTopics).toEqual([{ topics: 5, accuracy: 70, n: 10 }]);
    expect(r.effectiveLength).toBeNull();
  });

  it('scorecard: newest finished run per suite, against the parent, with direction-aware bootstrap verdicts', async () => {
    const s = await scorecard(repos, child);
    expect(s.against).toEqual({ id: parent, name: 'lab-base' });
    expect(s.againstSource).toBe('parent');
    const row = (key: string) => s.rows.find((r) => r.key === key)!;
    expect(s.rows.map((r) => r.suite)).toEqual(['niah', 'niah', 'ruler', 'ruler', 'ruler', 'topic-retrieval', 'perplexity']);

    const [gridB, gridA] = s.rows as [(typeof s.rows)[number], (typeof s.rows)[number]];
    expect(gridB).toMatchObject({ model: { value: 100, cells: 3 }, against: null, verdict: 'not comparable', difference: null });
    expect(gridB.note).toMatch(/lab-base has no finished run on this grid/);
    expect(gridA.model).toMatchObject({ runId: childNiah, value: 75, cells: 6 });
    expect(gridA.against!.value).toBeCloseTo(350 / 6, 10);
    expect(gridA.difference).toBeCloseTo(75 - 350 / 6, 10);
    // Six grid cells with one sample each: the grid cells are resampled, and a 17-point lead over six cells is within noise.
    expect(gridA.interval!.low).toBeLessThan(0);
    expect(gridA.verdict).toBe('no clear difference');

    expect(row('ruler:avg:1024')).toMatchObject({ model: { value: 100, runId: childRuler }, against: { value: 100 }, difference: 0, verdict: 'no clear difference', interval: { low: 0, high: 0 } });
    expect(row('ruler:avg:2048')).toMatchObject({ model: { value: 100 }, against: { value: 50 }, difference: 50, verdict: 'better' });
    expect(row('ruler:effective')).toMatchObject({ unit: 'tokens', model: { value: 2048 }, against: { value: 1024 }, difference: 1024, verdict: 'better' });
    expect(row('topic:5')).toMatchObject({ model: { value: 70 }, against: { value: 60 }, verdict: 'no clear difference' });
    const ppl = row('perplexity:1024');
    expect(ppl.better).toBe('lower');
    expect(ppl.difference).toBeLessThan(-9);
    // Lower perplexity is the better result.
    expect(ppl.verdict).toBe('better');
    expect(s.method).toMatchObject({ kind: 'percentile bootstrap', resamples: 2000, confidence: 0.95 });
  });

  it('scorecard: the same answer through the API, and against a picked model without results every row is not comparable', async () => {
    const viaApi = await api().models.scorecard({ modelId: child });
    expect(viaApi).toEqual(await scorecard(repos, child));
    const picked = await api().models.scorecard({ modelId: child, againstId: other });
    expect(picked.againstSource).toBe('picked');
    expect(new Set(picked.rows.map((r) => r.verdict))).toEqual(new Set(['not comparable']));
    const e = await api().models.scorecard({ modelId: child, againstId: child }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TRPCError);
    expect((e as TRPCError).code).toBe('BAD_REQUEST');
    expect((e as TRPCError).message).toMatch(/againstId/);
  });

  it('scorecard: a base model has no comparison unless one is picked', async () => {
    const s = await scorecard(repos, parent);
    expect(s.againstSource).toBe('none');
    expect(s.rows.every((r) => r.verdict === 'not comparable' && /no lineage parent/.test(r.note ?? ''))).toBe(true);
    const vs = await scorecard(repos, parent, { againstId: child });
    expect(vs.rows.find((r) => r.key === 'ruler:avg:2048')).toMatchObject({ difference: -50, verdict: 'worse' });
  });

  it('the overview: the models with the newest finished results, one NIAH grid each', async () => {
    const cards = await newestScorecards(repos, 2);
    expect(cards.map((c) => c.model.name)).toEqual(['lab-base', 'lab-extended']);
    const d = await api().portal.dashboard();
    expect(d.newestScorecards.map((c) => c.model.name)).toEqual(['lab-base', 'lab-extended']);
    expect(d.newestScorecards[1]!.rows.filter((r) => r.suite === 'niah')).toHaveLength(1);
  });
});
