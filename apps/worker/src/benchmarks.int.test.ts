/**
 * Capability benchmarks through the platform: LongBench and MMLU files imported as published
 * (the shipped fixtures, in the official formats), runs queued through the API and driven by a real
 * worker process against the OpenAI-compatible test server that fails the first request of prompts
 * in turn — every item stored once, no failed request scored, the official scores in the summary.
 */
import { fileDocuments, type BenchmarkSummary } from '@ctxlab/contracts';
import { parseLongBenchJsonl, parseMmluCsv } from '@ctxlab/capability';
import { loadCard, releaseSessions, sequencePerplexity, session, startLabServer } from '@ctxlab/inference';
import { perplexityWindows } from '@ctxlab/capability';
import { DEFAULT_CORPORA, loadDefaultCorpus } from '@ctxlab/niah/node';
import { getTokenizer } from '@ctxlab/tokenizers';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiDeps, createCaller } from '@ctxlab/api';
import { resetDb, testRepos, testSettings } from '@ctxlab/testing/db';
import { faultsOnFirstRequest, promptOf, sweepHarness } from '@ctxlab/testing/sweeps';

const prefix = `bench-${process.pid}`;
const repos = testRepos();
const api = () => createCaller({ ...apiDeps({ ...testSettings(), queuePrefix: prefix }), actor: null, source: 'internal' });
const h = sweepHarness(prefix, repos);
const fixtures = join(import.meta.dirname, '../../../libs/capability/fixtures');

/** Every file under a folder, named relative to it, as `ctxlab datasets import` sends them. */
function filesOf(dir: string): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push({ name: relative(dir, join(d, e.name)), text: readFileSync(join(d, e.name), 'utf8') });
    }
  };
  walk(dir);
  return out;
}
const documents = (files: { name: string; text: string }[]) => files.flatMap((f) => fileDocuments(f.name, f.text, 500_000));

const longbench = filesOf(join(fixtures, 'longbench'));
const mmlu = filesOf(join(fixtures, 'mmlu'));
const lbItems = longbench.flatMap((f) => parseLongBenchJsonl(f.name, f.text));
const mmluTest = mmlu.filter((f) => f.name.includes('_test')).flatMap((f) => parseMmluCsv(f.name, f.text).items);

/**
 * A model that knows the fixtures: it answers the item whose question sits last in the prompt
 * (MMLU's few-shot examples come before the question asked) with its first reference answer.
 */
function fixtureAnswerer(prompt: string): string {
  let best: { at: number; answer: string } | null = null;
  const consider = (key: string, answer: string) => {
    const at = prompt.lastIndexOf(key);
    if (at >= 0 && (!best || at > best.at)) best = { at, answer };
  };
  for (const i of lbItems) consider(i.input.trim() || i.context.slice(-200), i.answers[0]!);
  for (const q of mmluTest) consider(q.question, q.answer);
  return (best as { answer: string } | null)?.answer ?? 'I do not know.';
}

describe('capability benchmarks through the queue and a worker', () => {
  beforeAll(async () => {
    await resetDb();
  });
  afterEach(() => h.stopWorkers());
  afterAll(() => h.closeServers());

  it('imports LongBench and MMLU files as published, items and sha256 per task; a broken file is refused by file, line and field', async () => {
    const lb = await api().datasets.importBenchmark({ name: 'lb-fixtures', format: 'longbench', source: 'libs/capability/fixtures/longbench', documents: documents(longbench) });
    expect(lb).toMatchObject({ kind: 'benchmark', tags: ['imported', 'longbench'] });
    expect(Object.keys(lb.tasks).sort()).toEqual([...new Set(lbItems.map((i) => i.dataset))].sort());
    expect(Object.values(lb.tasks).reduce((n, t) => n + t.items, 0)).toBe(lbItems.length);
    expect(Object.values(lb.tasks).every((t) => /^sha256:[0-9a-f]{64}$/.test(t.digest) || /^[0-9a-f]{64}$/.test(t.digest))).toBe(true);
    const mm = await api().datasets.importBenchmark({ name: 'mmlu-fixtures', format: 'mmlu', source: 'libs/capability/fixtures/mmlu', documents: documents(mmlu) });
    expect(mm.kind).toBe('benchmark');

    const broken = longbench[0]!.text.split('\n').filter(Boolean);
    broken.splice(1, 0, broken[0]!.replace(/"answers": \[[^\]]*\]/, '"answers": "not a list"'));
    await expect(api().datasets.importBenchmark({ name: 'lb-broken', format: 'longbench', source: 'test', documents: [{ name: longbench[0]!.name, text: broken.join('\n') }] })).rejects.toThrow(
      new RegExp(`^documents: ${longbench[0]!.name.replace('.', '\\.')}:2: answers: `),
    );
    await expect(api().datasets.importBenchmark({ name: 'lb-as-mmlu', format: 'mmlu', source: 'test', documents: documents(longbench) })).rejects.toThrow(/^format: the files are longbench, not mmlu$/);
    expect(await repos.datasets.getByName('lb-broken')).toBeNull();
    // A benchmark run names tasks the import has.
    const ep = await api().endpoints.create({ name: 'nowhere', url: 'http://127.0.0.1:9/v1', servedModelName: 'm' });
    await expect(api().evals.startSuite({ name: 'x', endpointId: ep.id, spec: { suite: 'longbench', dataset: 'lb-fixtures', tasks: ['hotpotqa'] } })).rejects.toThrow(/^spec\.tasks: dataset lb-fixtures has no hotpotqa \(it has /);
    await expect(api().evals.startSuite({ name: 'x', endpointId: ep.id, spec: { suite: 'mmlu', dataset: 'lb-fixtures' } })).rejects.toThrow(/^spec\.dataset: dataset lb-fixtures is a longbench import, not mmlu$/);
  });

  it('LongBench and MMLU runs against an endpoint failing first requests: every item once, no failed request scored, the official scores', async () => {
    const faults = faultsOnFirstRequest({ every: 3 });
    const s = await h.server({ model: 'bench-model', tokenizer: 'byte', answer: fixtureAnswerer, behaviour: faults.behaviour });
    const ep = await api().endpoints.create({ name: 'bench-ep', url: s.url, servedModelName: 'bench-model' });
    h.worker({ REQUEST_TIMEOUT_MS: '1500', REQUEST_ATTEMPTS: '3' });

    const est = await api().evals.suiteEstimate({ spec: { suite: 'longbench', dataset: 'lb-fixtures', maxLength: 4000, tokenizer: 'byte' }, endpointId: ep.id });
    expect(est.cells).toBe(lbItems.length);
    expect(est.warnings.join(' ')).toMatch(/estimated at 4 characters a token/);

    const lb = await api().evals.startSuite({ name: 'lb', endpointId: ep.id, spec: { suite: 'longbench', dataset: 'lb-fixtures', maxLength: 4000, tokenizer: 'byte' }, concurrency: 3 });
    const mm = await api().evals.startSuite({ name: 'mmlu', endpointId: ep.id, spec: { suite: 'mmlu', dataset: 'mmlu-fixtures', shots: [0, 5], scoring: 'generate', tokenizer: 'byte' }, concurrency: 3 });
    for (const r of [lb, mm]) expect((await h.finished(r.job.id)).status).toBe('succeeded');
    expect(faults.injected()).toBeGreaterThan(0);

    const lbCells = await repos.db.evalCell.findMany({ where: { evalRunId: lb.evalRun.id } });
    expect(lbCells).toHaveLength(lbItems.length);
    expect(new Set(lbCells.map((c) => `${c.task}/${c.sample}`)).size).toBe(lbItems.length);
    // The answerer knows every item: each scores 100 with its task's own metric, none failed (ROUGE-L's
    // F-measure of a summary against itself is 99.9999995: the rouge package's epsilon, as LongBench scores it).
    expect(lbCells.filter((c) => c.score === null || c.score < 99.9999).map((c) => `${c.task}/${c.sample}: ${c.score} ${c.response}`)).toEqual([]);
    const lbRun = await repos.evals.get(lb.evalRun.id);
    const lbSummary = lbRun.summary as unknown as BenchmarkSummary;
    expect(lbSummary).toMatchObject({ suite: 'longbench', average: 100, failed: 0, items: lbItems.length });
    expect(lbCells.every((c) => c.error === null)).toBe(true);
    expect(Object.keys(lbSummary.perTask).sort()).toEqual([...new Set(lbItems.map((i) => i.dataset))].sort());

    const mmCells = await repos.db.evalCell.findMany({ where: { evalRunId: mm.evalRun.id } });
    expect(mmCells).toHaveLength(mmluTest.length * 2);
    expect(new Set(mmCells.map((c) => `${c.task}/${c.contextLength}/${c.sample}`)).size).toBe(mmluTest.length * 2);
    expect(mmCells.every((c) => c.score === 100 && c.error === null)).toBe(true);
    expect((await repos.evals.get(mm.evalRun.id)).summary).toMatchObject({ suite: 'mmlu', scoring: 'generate', perSetting: { 0: 100, 5: 100 }, failed: 0 });

    // Each prompt that failed first was answered by its second request, and only that answer was stored.
    const sent = new Map<string, number>();
    for (const q of s.requests.filter((r) => r.path === '/v1/chat/completions' || r.path === '/v1/completions')) sent.set(promptOf(q.body), (sent.get(promptOf(q.body)) ?? 0) + 1);
    expect(sent.size).toBe(lbItems.length + mmluTest.length * 2);
    expect([...sent.values()].every((n) => n === 1 || n === 2)).toBe(true);
    console.log(`[benchmarks] ${sent.size} prompts, ${[...sent.values()].reduce((a, b) => a + b, 0)} requests, ${faults.injected()} first requests failed and retried`);

    // The read model the portal draws is the summary the worker stored.
    const r = await api().evals.benchmarkResults({ id: lb.evalRun.id });
    expect(r.average).toBe(100);
    expect(r.rows.map((x) => x.task)).toEqual(Object.keys(lbSummary.perTask).sort());
  }, 180_000);

  it("MMLU by the answer letter's log-probability: auto picks logprobs where the endpoint returns them; an endpoint without them is read by the letter it writes", async () => {
    const s = await h.server({ model: 'bench-lp', tokenizer: 'byte' });
    // The model's first token is " C" with " A", " B", " D" behind it: the questions whose answer is C score.
    s.setTopLogprobs([{ token: ' C', logprob: -0.2 }, { token: ' A', logprob: -1.9 }, { token: ' B', logprob: -2.4 }, { token: ' D', logprob: -3.1 }]);
    const ep = await api().endpoints.create({ name: 'bench-lp', url: s.url, servedModelName: 'bench-lp' });
    h.worker();
    const r = await api().evals.startSuite({ name: 'mmlu-lp', endpointId: ep.id, spec: { suite: 'mmlu', dataset: 'mmlu-fixtures', shots: [0], tokenizer: 'byte' } });
    expect((await h.finished(r.job.id)).status).toBe('succeeded');
    const cells = await repos.db.evalCell.findMany({ where: { evalRunId: r.evalRun.id }, orderBy: [{ task: 'asc' }, { sample: 'asc' }] });
    const want = mmluTest.map((q) => (q.answer === 'C' ? 100 : 0));
    expect(cells.map((c) => c.score).sort()).toEqual(want.sort());
    expect(cells.every((c) => /^C \(logprob -0\.2000; reply /.test(c.response ?? ''))).toBe(true);
    expect((await repos.evals.get(r.evalRun.id)).summary).toMatchObject({ suite: 'mmlu', scoring: 'logprobs', failed: 0 });
    // Every scored request asked for the top logprobs of one token.
    const asked = s.requests.filter((q) => q.path === '/v1/chat/completions').map((q) => q.body as { logprobs?: boolean; top_logprobs?: number; max_tokens?: number });
    expect(asked.every((b) => b.logprobs === true && (b.top_logprobs ?? 0) > 0 && b.max_tokens === 1)).toBe(true);

    // The same spec against an endpoint that leaves logprobs out: auto falls back to the letter written.
    const plain = await h.server({ model: 'bench-plain', tokenizer: 'byte', answer: () => 'The answer is C.', behaviour: ({ body }) => ((body as { logprobs?: boolean }).logprobs ? { kind: 'no-logprobs' } : { kind: 'answer' }) });
    const ep2 = await api().endpoints.create({ name: 'bench-plain', url: plain.url, servedModelName: 'bench-plain' });
    const r2 = await api().evals.startSuite({ name: 'mmlu-plain', endpointId: ep2.id, spec: { suite: 'mmlu', dataset: 'mmlu-fixtures', shots: [0], tokenizer: 'byte' } });
    expect((await h.finished(r2.job.id)).status).toBe('succeeded');
    expect((await repos.evals.get(r2.evalRun.id)).summary).toMatchObject({ suite: 'mmlu', scoring: 'generate', failed: 0 });
    const cells2 = await repos.db.evalCell.findMany({ where: { evalRunId: r2.evalRun.id } });
    expect(cells2.map((c) => c.score).sort()).toEqual(want.sort());
  }, 120_000);

  it('endpoint perplexity through the queue and the lab model server equals the onnxruntime-node perplexity of the same windows', async () => {
    const lab = await startLabServer({ threads: 1 });
    try {
      const stage1 = (await repos.models.getByName('lab-stage1')) ?? null;
      const ep = await api().endpoints.create({ name: 'lab-ppl', url: lab.url, servedModelName: 'lab-stage1', ...(stage1 ? { modelId: stage1.id } : {}) });
      h.worker({ REQUEST_TIMEOUT_MS: '60000' });
      const spec = { suite: 'perplexity' as const, corpus: DEFAULT_CORPORA.en, lengths: [128, 512], samples: 2, tokenizer: 'byte' as const };
      const r = await api().evals.startSuite({ name: 'ppl', endpointId: ep.id, spec, mode: 'completion-ids' });
      expect(r.evalRun).toMatchObject({ kind: 'perplexity', cellsTotal: 4 });
      expect((await h.finished(r.job.id)).status).toBe('succeeded');
      const cells = await repos.db.evalCell.findMany({ where: { evalRunId: r.evalRun.id }, orderBy: [{ contextLength: 'asc' }, { sample: 'asc' }] });
      expect(cells).toHaveLength(4);
      // The same windows, scored here on onnxruntime-node with the model's own theta.
      const card = loadCard();
      const m = card.stages.find((x) => x.stage === 1)!;
      const sess = await session(`${card.dir}/${m.file}`, 1);
      const text = loadDefaultCorpus(DEFAULT_CORPORA.en).text;
      let maxRel = 0;
      for (const c of cells) {
        const w = perplexityWindows(text, getTokenizer('byte'), c.contextLength, 2)[c.sample]!;
        const local = await sequencePerplexity(sess, card, Array.from(w), m.ropeTheta);
        maxRel = Math.max(maxRel, Math.abs(c.score! - local.perplexity) / local.perplexity);
      }
      console.log(`[benchmarks] endpoint perplexity through the queue vs onnxruntime-node: max relative difference ${maxRel.toExponential(2)}`);
      expect(maxRel).toBeLessThanOrEqual(1e-9);
      const summary = (await repos.evals.get(r.evalRun.id)).summary as { perLength: Record<string, number>; failed: number };
      expect(Object.keys(summary.perLength)).toEqual(['128', '512']);
      expect(summary.failed).toBe(0);
    } finally {
      await lab.close();
      await releaseSessions();
    }
  }, 180_000);

  it('a request the endpoint refuses for good is recorded unscored and named in the job', async () => {
    const s = await h.server({ model: 'bench-400', tokenizer: 'byte', answer: fixtureAnswerer, maxModelLen: 600 });
    const ep = await api().endpoints.create({ name: 'bench-400', url: s.url, servedModelName: 'bench-400' });
    h.worker({ REQUEST_ATTEMPTS: '2' });
    const r = await api().evals.startSuite({ name: 'lb-short', endpointId: ep.id, spec: { suite: 'longbench', dataset: 'lb-fixtures', tasks: ['narrativeqa', 'trec'], maxLength: 4000, tokenizer: 'byte' } });
    const job = await h.finished(r.job.id);
    expect(job.status).toBe('failed');
    const cells = await repos.db.evalCell.findMany({ where: { evalRunId: r.evalRun.id } });
    const failed = cells.filter((c) => c.error !== null);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((c) => c.score === null && c.response === null && /^http: HTTP 400/.test(c.error!))).toBe(true);
    const summary = (await repos.evals.get(r.evalRun.id)).summary as unknown as BenchmarkSummary;
    expect(summary.failed).toBe(failed.length);
    expect(summary.items).toBe(cells.length - failed.length);
  }, 120_000);
});
