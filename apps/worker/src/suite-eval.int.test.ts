/**
 * RULER and topic retrieval on the platform: real worker processes, the queue, PostgreSQL, and the
 * OpenAI-compatible test server on a real socket, failing the ways real servers do. Every run ends
 * with each cell stored exactly once and no failed request scored; each scenario prints how many
 * model requests its cells cost.
 */
import { qaDocuments, RULER_TASK_IDS, type RulerSummary, type SuiteSpecInput, type TopicSummary } from '@ctxlab/contracts';
import { rulerAverage, rulerTaskScore, effectiveLength, type RulerTaskName } from '@ctxlab/ruler';
import type { OpenAITestServer } from '@ctxlab/niah/testing';
import { TRPCError } from '@trpc/server';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiDeps, createCaller } from '@ctxlab/api';
import { resetDb, testRepos, testSettings } from '@ctxlab/testing/db';
import { stopWorker, waitFor } from '@ctxlab/testing/worker';
import { faultsOnFirstRequest, requestsSince, sweepHarness } from '@ctxlab/testing/sweeps';

const prefix = `suitetest-${process.pid}`;
const repos = testRepos();
const api = () => createCaller({ ...apiDeps({ ...testSettings(), queuePrefix: prefix }), actor: null, source: 'internal' });
const fixture = (name: string) => readFileSync(new URL(`../../../libs/ruler/src/testing/fixtures/${name}`, import.meta.url), 'utf8');

const ruler = (tasks: readonly string[], lengths: number[], samples = 1, seed = 0): SuiteSpecInput =>
  ({ suite: 'ruler', tasks: [...tasks], lengths, samples, seed, tokenizer: 'byte', qaDataset: 'qa-fixtures' }) as SuiteSpecInput;

const cellsOf = (evalRunId: string) => repos.db.evalCell.findMany({ where: { evalRunId }, orderBy: [{ task: 'asc' }, { contextLength: 'asc' }, { sample: 'asc' }] });

async function expectEveryCellOnce(evalRunId: string, total: number) {
  const cells = await cellsOf(evalRunId);
  expect(cells).toHaveLength(total);
  expect(new Set(cells.map((c) => `${c.task}/${c.contextLength}/${c.depth}/${c.sample}`)).size).toBe(total);
  // A failed request is recorded with its error and never scored; an answered one always is.
  for (const c of cells) expect(c.error === null ? c.score !== null && c.response !== null : c.score === null).toBe(true);
  return cells;
}


function report(scenario: string, cells: number, total: number) {
  console.log(`[suite] ${scenario}: ${cells} cells, ${total} model requests (${(total / cells).toFixed(2)} per cell)`);
}

/** The RULER summary recomputed from the stored cells with RULER's own arithmetic. */
function recompute(cells: { task: string; contextLength: number; score: number | null }[], threshold: number) {
  const perTask: Record<string, Record<string, number>> = {};
  const lengths = [...new Set(cells.map((c) => c.contextLength))].sort((a, b) => a - b);
  const perLength: Record<string, number> = {};
  for (const l of lengths) {
    const byTask: Partial<Record<RulerTaskName, number>> = {};
    for (const t of new Set(cells.map((c) => c.task))) {
      const scores = cells.filter((c) => c.task === t && c.contextLength === l && c.score !== null).map((c) => c.score!);
      if (!scores.length) continue;
      byTask[t as RulerTaskName] = (perTask[t] ??= {})[l] = rulerTaskScore(scores);
    }
    if (Object.keys(byTask).length) perLength[l] = rulerAverage(byTask);
  }
  return { perTask, perLength, effectiveLength: effectiveLength(Object.fromEntries(Object.entries(perLength).map(([k, v]) => [Number(k), v])), threshold) ?? null };
}

describe('RULER and topic-retrieval runs through queue, worker and PostgreSQL', () => {
  const h = sweepHarness(prefix, repos, { tokenizer: 'byte' });
  const { worker, server } = h;
  const finished = (jobId: string) => h.finished(jobId, 150_000);
  const endpointFor = async (s: OpenAITestServer, name: string) => (await api().endpoints.create({ name, url: s.url, servedModelName: s.model })).id;

  beforeAll(async () => {
    await resetDb();
    // The fixtures as `ctxlab datasets import-qa` stores them: each file's text, read back by RULER's parsers.
    await api().datasets.importCorpus({
      name: 'qa-fixtures',
      source: 'test fixtures',
      documents: [...qaDocuments('squad', fixture('squad-v2.json'), 1000), ...qaDocuments('hotpotqa', fixture('hotpotqa.json'), 1_000_000)],
    });
  });
  afterEach(() => h.stopWorkers());
  afterAll(() => h.closeServers());

  it('all 13 tasks at 4 lengths with 500s, resets and a timeout: every cell once, failed requests never scored, the summary from the scored cells', async () => {
    // Every fourth prompt's first request fails (a 500, a reset connection, no answer at all, in
    // turn) and is retried; fwe's prompts fail on every attempt, so those cells end failed.
    const faults = faultsOnFirstRequest({ every: 4, always: (p) => (p.includes('Read the following coded text') ? { kind: 'status', status: 500, message: 'internal error' } : undefined) });
    const s = await server({ model: 'm-sweep', behaviour: faults.behaviour });
    const endpointId = await endpointFor(s, 'sweep');
    worker({ REQUEST_TIMEOUT_MS: '1500', REQUEST_ATTEMPTS: '3' });
    const lengths = [2048, 2560, 3072, 3584];
    const total = 13 * 4;
    const r = await api().evals.startSuite({ name: 'ruler-13', endpointId, spec: ruler(RULER_TASK_IDS, lengths), concurrency: 3 });
    expect(r.evalRun).toMatchObject({ kind: 'ruler', cellsTotal: total });
    const job = await finished(r.job.id);
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/^4 of 52 cells failed after 3 attempts each; last error: http: HTTP 500: internal error/);
    const cells = await expectEveryCellOnce(r.evalRun.id, total);
    const failed = cells.filter((c) => c.error !== null);
    expect(failed.map((c) => `${c.task}@${c.contextLength}`).sort()).toEqual(lengths.map((l) => `fwe@${l}`).sort());
    // The test model reads RULER's numeric needles (its answerer finds "One of the special magic numbers for …"): those score 100; it cannot track variables.
    expect(cells.filter((c) => c.task === 'niah_single_1').every((c) => c.score === 100)).toBe(true);
    expect(cells.filter((c) => c.task === 'vt').every((c) => c.score === 0)).toBe(true);
    expect(cells.every((c) => c.contextLength >= c.promptTokens! && c.expected !== null)).toBe(true);

    const run = await api().evals.get({ id: r.evalRun.id });
    const summary = run.summary as unknown as RulerSummary;
    const want = recompute(cells, 85.6);
    expect(summary.perTask).toEqual(want.perTask);
    expect(summary.perTask.fwe).toBeUndefined();
    expect(summary.perLength).toEqual(want.perLength);
    expect(summary.effectiveLength).toBe(want.effectiveLength);
    expect(summary).toMatchObject({ failed: 4, threshold: 85.6 });
    expect(summary.average).toBe(rulerTaskScore(Object.values(want.perLength)));

    const sent = requestsSince(s, 0);
    // Each answered prompt once, or twice after a transient fault; each fwe prompt three times.
    expect(sent.prompts).toBe(total);
    const fwe = [...sent.byPrompt].filter(([p]) => p.includes('Read the following coded text'));
    expect(fwe.map(([, k]) => k)).toEqual([3, 3, 3, 3]);
    const others = [...sent.byPrompt].filter(([p]) => !p.includes('Read the following coded text')).map(([, k]) => k);
    expect(others.filter((k) => k === 2)).toHaveLength(faults.injected());
    expect(faults.injected()).toBeGreaterThanOrEqual(3);
    expect(others.every((k) => k === 1 || k === 2)).toBe(true);
    const kinds = new Set(s.requests.map((q) => q.behaviour));
    expect([...kinds].sort()).toEqual(['answer', 'hang', 'reset', 'status']);
    report('13 tasks × 4 lengths, 500s/resets/timeout, fwe failing for good', total, sent.total);

    // Retry: only the failed cells are redone, and now answered.
    s.setBehaviour({ kind: 'answer' });
    const from = s.requests.length;
    await api().jobs.retry({ id: r.job.id });
    expect((await finished(r.job.id)).status).toBe('succeeded');
    const after = await expectEveryCellOnce(r.evalRun.id, total);
    expect(after.every((c) => c.error === null)).toBe(true);
    expect(requestsSince(s, from).total).toBe(4);
    expect(((await api().evals.get({ id: r.evalRun.id })).summary as unknown as RulerSummary).perTask.fwe).toBeDefined();
  }, 240_000);

  it('kill -9 of the worker mid-run: another worker finishes; every cell once, nothing sent again but what was in flight', async () => {
    const s = await server({ model: 'm-kill', behaviour: { kind: 'delay', ms: 150 } });
    const endpointId = await endpointFor(s, 'kill');
    const total = 13 * 2 * 2;
    const w1 = worker({ WORKER_NAME: 'doomed' });
    const r = await api().evals.startSuite({ name: 'kill', endpointId, spec: ruler(RULER_TASK_IDS, [2048, 2560], 2, 7), concurrency: 2 });
    await waitFor('some cells', async () => (await repos.db.evalCell.count({ where: { evalRunId: r.evalRun.id } })) >= 8, 60_000);
    await stopWorker(w1, 'SIGKILL');
    const sentBefore = requestsSince(s, 0).total;
    const storedBefore = await repos.db.evalCell.count({ where: { evalRunId: r.evalRun.id } });
    expect(storedBefore).toBeLessThan(total);
    worker({ WORKER_NAME: 'survivor' });
    expect((await finished(r.job.id)).status).toBe('succeeded');
    const cells = await expectEveryCellOnce(r.evalRun.id, total);
    expect(cells.every((c) => c.error === null)).toBe(true);
    const sent = requestsSince(s, 0);
    expect(sent.prompts).toBe(total);
    expect(sent.total - total).toBeLessThanOrEqual(sentBefore - storedBefore);
    report('kill -9 mid-run', total, sent.total);
    const events = await repos.jobs.events(r.job.id);
    expect(events.some((e) => e.type === 'lease' && /^survivor\/\w+ took over from doomed\/\w+/.test(e.message))).toBe(true);
  }, 180_000);

  it('the same request returns the same run, --rerun starts a fresh one; cancel stops it and retry finishes it; topic retrieval scores 0 or 100', async () => {
    const s = await server({ model: 'm-smoke', behaviour: { kind: 'delay', ms: 200 } });
    const endpointId = await endpointFor(s, 'smoke');
    worker();
    const input = { name: 'smoke', endpointId, spec: ruler(['niah_single_1', 'niah_multikey_2', 'cwe'], [2048, 3072], 4, 3), concurrency: 1 };
    const first = await api().evals.startSuite(input);
    const again = await api().evals.startSuite(input);
    expect(again).toMatchObject({ existing: true, evalRun: { id: first.evalRun.id } });
    await waitFor('a few cells', async () => (await repos.db.evalCell.count({ where: { evalRunId: first.evalRun.id } })) >= 3, 60_000);
    await api().jobs.cancel({ id: first.job.id });
    expect((await finished(first.job.id)).status).toBe('cancelled');
    const partial = await cellsOf(first.evalRun.id);
    expect(partial.length).toBeLessThan(24);
    await api().jobs.retry({ id: first.job.id });
    expect((await finished(first.job.id)).status).toBe('succeeded');
    await expectEveryCellOnce(first.evalRun.id, 24);
    const fresh = await api().evals.startSuite({ ...input, rerun: true });
    expect(fresh.existing).toBe(false);
    expect(fresh.evalRun.id).not.toBe(first.evalRun.id);
    await api().jobs.cancel({ id: fresh.job.id });

    s.setBehaviour({ kind: 'answer' });
    // The test model cannot name topics: every answered topic cell scores 0, and the summary says so.
    const topic = await api().evals.startSuite({ name: 'topics', endpointId, spec: { suite: 'topic-retrieval', topics: [3, 5], length: 2048, samples: 2, tokenizer: 'byte' }, concurrency: 2 });
    expect(topic.evalRun).toMatchObject({ kind: 'topic-retrieval', cellsTotal: 4 });
    expect((await finished(topic.job.id)).status).toBe('succeeded');
    const tcells = await expectEveryCellOnce(topic.evalRun.id, 4);
    expect(tcells.every((c) => c.task === 'topic_retrieval' && [3, 5].includes(c.contextLength) && c.score === 0 && c.promptTokens === 2048)).toBe(true);
    expect((await api().evals.get({ id: topic.evalRun.id })).summary).toMatchObject({ perTopics: { 3: 0, 5: 0 }, average: 0, failed: 0 } satisfies TopicSummary);
  }, 180_000);

  it('refuses, before creating anything, a length a task cannot fit, a missing QA dataset, too many topics and a run beyond the grid limits — naming the field', async () => {
    const s = await server({ model: 'm-refuse' });
    const endpointId = await endpointFor(s, 'refuse');
    const jobsBefore = await repos.db.job.count();
    const refusal = async (spec: SuiteSpecInput) => {
      try {
        await api().evals.startSuite({ name: 'refused', endpointId, spec });
      } catch (e) {
        expect(e).toBeInstanceOf(TRPCError);
        expect((e as TRPCError).code).toBe('BAD_REQUEST');
        return (e as TRPCError).message;
      }
      throw new Error('not refused');
    };
    expect(await refusal(ruler(['niah_single_1', 'vt'], [1024, 2048]))).toMatch(/^spec\.lengths: task vt cannot fit in 1,024 byte tokens/);
    expect(await refusal({ suite: 'ruler', tasks: ['qa_1'], lengths: [2048], tokenizer: 'byte' })).toMatch(/^spec\.qaDataset: tasks qa_1 need an imported QA dataset/);
    expect(await refusal({ ...ruler(['qa_2'], [2048]), qaDataset: 'no-such-set' } as SuiteSpecInput)).toMatch(/^spec\.qaDataset: no dataset is named no-such-set/);
    expect(await refusal(ruler(RULER_TASK_IDS, Array.from({ length: 32 }, (_, i) => 2048 + i), 1000))).toMatch(/^spec: the run has 416,000 cells; the limit is 100,000 \(NIAH_MAX_CELLS\)/);
    expect(await refusal({ suite: 'topic-retrieval', topics: [5, 300], tokenizer: 'byte' })).toMatch(/^spec\.topics: corpus sotu-en has 233 documents \(topics\), fewer than the 300 asked/);
    expect(await repos.db.job.count()).toBe(jobsBefore);

    const estimate = await api().evals.suiteEstimate({ spec: ruler(['niah_single_1', 'vt'], [2048, 4096], 3) as never, endpointId });
    // Prompts are the lengths less each task's tokens to generate (niah 128, vt 30).
    expect(estimate).toMatchObject({ cells: 12, requests: 12, promptTokens: 3 * (2048 - 128 + 4096 - 128 + 2048 - 30 + 4096 - 30) });
  }, 60_000);
});
