/**
 * The capability suites on the scorecard: LongBench per task and on average, MMLU per shot count
 * with the short-context regression flag past CTXLAB_MMLU_REGRESSION_POINTS, and LongBench runs at
 * different max lengths named as not comparable.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { resetDb, testRepos, testSettings } from '@ctxlab/testing/db';
import { apiDeps } from '../deps';
import { createCaller } from '../index';
import { insertFinishedRun } from './testing/suite-runs';

const cfg = { numLayers: 4, hiddenSize: 128, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 384, vocabSize: 259, ropeTheta: 10_000, maxPositionEmbeddings: 1024, tokenizer: 'byte' };
const at = (minutes: number) => new Date(Date.UTC(2026, 11, 4, 13, minutes));
/** MMLU cells: `right` of `n` questions of one subject answered right at the shot count. */
const mmlu = (shots: number, right: number, n: number) => Array.from({ length: n }, (_, sample) => ({ task: 'anatomy', contextLength: shots, depth: 0, sample, score: sample < right ? 100 : 0 }));
const longbench = (maxLength: number, scores: Record<string, number[]>) =>
  Object.entries(scores).flatMap(([task, xs]) => xs.map((score, sample) => ({ task, contextLength: maxLength, depth: 0, sample, score })));

describe('capability suites on the scorecard', () => {
  const repos = testRepos();
  let child: string;
  beforeAll(async () => {
    await resetDb();
    const parent = (await repos.models.create({ name: 'bench-base', config: cfg } as never)).id;
    child = (await repos.models.create({ name: 'bench-extended', config: { ...cfg, maxPositionEmbeddings: 8192 } } as never)).id;
    await repos.models.addLineage({ parentId: parent, childId: child, kind: 'context-extension' });
    const mmluSpec = { suite: 'mmlu', dataset: 'mmlu', shots: [0, 5], tokenizer: 'byte', chatTemplate: true, scoring: 'auto' };
    // 0-shot: 70 of 100 against 50 of 100 (a clear fall of 20 points); 5-shot: 71 against 70 (within the threshold).
    await insertFinishedRun(repos, { name: 'mmlu base', kind: 'mmlu', modelId: parent, spec: mmluSpec, cells: [...mmlu(0, 70, 100), ...mmlu(5, 71, 100)], finishedAt: at(1) });
    await insertFinishedRun(repos, { name: 'mmlu extended', kind: 'mmlu', modelId: child, spec: mmluSpec, cells: [...mmlu(0, 50, 100), ...mmlu(5, 70, 100)], finishedAt: at(2) });
    await insertFinishedRun(repos, { name: 'lb base', kind: 'longbench', modelId: parent, spec: { suite: 'longbench', dataset: 'lb', maxLength: 3500, tokenizer: 'byte' }, cells: longbench(3500, { qasper: [10, 20], trec: [0, 100] }), finishedAt: at(3) });
    await insertFinishedRun(repos, { name: 'lb extended', kind: 'longbench', modelId: child, spec: { suite: 'longbench', dataset: 'lb', maxLength: 31500, tokenizer: 'byte' }, cells: longbench(31500, { qasper: [30, 40], trec: [100, 100] }), finishedAt: at(4) });
  });

  it('rows per LongBench task and MMLU shot count; an MMLU fall past the threshold is flagged; different max lengths are not compared', async () => {
    const card = await createCaller({ ...apiDeps(testSettings()), actor: null, source: 'internal' }).models.scorecard({ modelId: child });
    const row = (key: string) => card.rows.find((r) => r.key === key)!;
    expect(card.rows.map((r) => r.key)).toEqual(['longbench:average', 'longbench:qasper', 'longbench:trec', 'mmlu:0-shot', 'mmlu:5-shot']);
    expect(row('mmlu:0-shot')).toMatchObject({ model: { value: 50 }, against: { value: 70 }, difference: -20, verdict: 'worse', flag: 'short-context regression: 20.00 points below the comparison model (threshold 2)' });
    expect(row('mmlu:5-shot')).toMatchObject({ model: { value: 70 }, against: { value: 71 }, difference: -1, flag: null });
    expect(row('longbench:qasper')).toMatchObject({ model: { value: 35 }, against: { value: 15 }, verdict: 'not comparable', note: 'the comparison run\'s max length is 3500, this run\'s 31500', flag: null });
    expect(row('longbench:average')).toMatchObject({ model: { value: 67.5 } });
  });
});
