/**
 * Capability benchmarks in a real browser against the real stack (production build, worker,
 * PostgreSQL, Redis) and the lab model server: LongBench and MMLU, from the shipped fixtures in
 * their official formats, run on both lab stages; the run page shows the official scores the API
 * computes and every item's answer, and stage 2's scorecard gains the rows those runs add.
 */
import { fileDocuments } from '@ctxlab/contracts';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRepos } from '@ctxlab/testing/db';
import { jobFinished } from '@ctxlab/testing/worker';
import { adminPage, internalApi, startStack, stopAll } from './harness';
import { artifactsDir, startModelServer, type Portal } from './stack';

const prefix = `e2e-bench-${process.pid}`;
const fixtures = join(import.meta.dirname, '../../../libs/capability/fixtures');
const api = () => internalApi(prefix);

let portal: Portal;
let context: BrowserContext;
const pageErrors: string[] = [];
const teardown: (() => Promise<unknown>)[] = [];

function documentsOf(dir: string) {
  const out: { name: string; text: string }[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(...fileDocuments(relative(dir, join(d, e.name)), readFileSync(join(d, e.name), 'utf8'), 500_000));
    }
  };
  walk(dir);
  return out;
}

describe('capability benchmarks in the portal', () => {
  beforeAll(async () => {
    let modelServer!: Awaited<ReturnType<typeof startModelServer>>;
    const services = async () => {
      modelServer = await startModelServer();
      teardown.push(() => modelServer.stop());
    };
    // The lab models answer on the CPU: a long prompt can take seconds on a loaded machine.
    const stack = await startStack({ prefix, workerEnv: { REQUEST_TIMEOUT_MS: '60000' }, teardown, services });
    ({ portal, context } = stack);
    const { worker } = stack;

    await api().datasets.importBenchmark({ name: 'longbench-fixtures', format: 'longbench', source: 'libs/capability/fixtures/longbench', documents: documentsOf(join(fixtures, 'longbench')) });
    await api().datasets.importBenchmark({ name: 'mmlu-fixtures', format: 'mmlu', source: 'libs/capability/fixtures/mmlu', documents: documentsOf(join(fixtures, 'mmlu')) });
    const repos = testRepos();
    for (const name of ['lab-stage1', 'lab-stage2']) {
      const stage = (await repos.models.getByName(name))!;
      const endpoint = await api().endpoints.create({ name: `${name}-bench`, url: modelServer.url, servedModelName: name, modelId: stage.id, kind: 'local', maxModelLen: 8192 });
      const start = (run: string, spec: Parameters<ReturnType<typeof api>['evals']['startSuite']>[0]['spec']) =>
        api().evals.startSuite({ name: `${run} ${name}`, endpointId: endpoint.id, concurrency: 2, mode: 'completion-ids', spec });
      // The byte-level lab models have 2,048 positions: LongBench's prompts are cut in the middle to fit, as pred.py does.
      const lb = await start('LongBench', { suite: 'longbench', dataset: 'longbench-fixtures', tasks: ['narrativeqa', 'trec', 'passage_count'], maxLength: 1800, tokenizer: 'byte', chatTemplate: false });
      const mmlu = await start('MMLU', { suite: 'mmlu', dataset: 'mmlu-fixtures', shots: [0, 5], tokenizer: 'byte', chatTemplate: false });
      for (const r of [lb, mmlu]) {
        const job = await jobFinished(repos, r.job.id, 300_000, 500);
        expect(job.status, `${r.evalRun.id}: ${worker.output().slice(-2000)}`).toBe('succeeded');
      }
    }
  }, 600_000);

  afterAll(() => stopAll(teardown), 60_000);

  it("shows a benchmark run's official scores and every item's answer, and the scorecard rows the runs add", async () => {
    const page = await adminPage(context, portal, '/evals', pageErrors);

    // The portal's import: InfiniteBench's files as published; a broken one is refused by file, line and field.
    await page.goto(`${portal.url}/datasets`);
    const form = page.getByRole('form', { name: 'Import a benchmark' });
    await form.getByLabel('Benchmark', { exact: true }).selectOption('infinitebench');
    await form.getByLabel('Name').fill('infinitebench-portal');
    await form.getByLabel('Source').fill('libs/capability/fixtures/infinitebench');
    await form.getByLabel('Benchmark files').setInputFiles(['longbook_qa_eng.jsonl', 'longbook_sum_eng.jsonl'].map((f) => join(fixtures, 'infinitebench', f)));
    await form.getByRole('button', { name: 'Import benchmark' }).click();
    await expect.poll(() => form.getByTestId('benchmark-import-done').innerText(), { timeout: 30_000 }).toMatch(/^Imported infinitebench-portal: 2 tasks, \d+ items, /);
    const imported = (await testRepos().datasets.getByName('infinitebench-portal'))!;
    expect(Object.keys(imported.tasks).sort()).toEqual(['longbook_qa_eng', 'longbook_sum_eng']);
    await form.getByLabel('Name').fill('infinitebench-broken');
    await form.getByLabel('Benchmark files').setInputFiles({ name: 'longbook_qa_eng.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from('{"id": 1, "context": "c", "input": "q", "answer": ["a"], "options": []}\n{"id": 2}\n') });
    await form.getByRole('button', { name: 'Import benchmark' }).click();
    await expect.poll(() => form.innerText(), { timeout: 30_000 }).toMatch(/longbook_qa_eng\.jsonl:2: \w+: /);
    expect(await testRepos().datasets.getByName('infinitebench-broken')).toBeNull();
    await page.screenshot({ path: join(artifactsDir(), '39-benchmark-import.png'), fullPage: true });

    const repos = testRepos();
    const stage2 = (await repos.models.getByName('lab-stage2'))!;
    const runs = await repos.db.evalRun.findMany({ where: { modelId: stage2.id, kind: { in: ['longbench', 'mmlu'] } } });
    for (const run of runs) {
      const want = await api().evals.benchmarkResults({ id: run.id });
      await page.goto(`${portal.url}/evals/${run.id}`);
      const result = page.getByTestId('benchmark-result');
      await result.waitFor();
      // Every task × setting score on the page is the API's (recomputed from the cells).
      for (const row of want.rows) {
        for (const s of row.scores) {
          const text = (await page.getByTestId(`bench-${row.task}-${s.setting}`).innerText()).trim();
          expect(text, `${run.kind} ${row.task} ${s.setting}`).toBe(s.score === null ? '—' : s.score.toFixed(2));
        }
      }
      expect(await page.getByTestId('benchmark-bars').count()).toBe(1);
      const cells = await repos.db.evalCell.count({ where: { evalRunId: run.id } });
      expect(await page.locator('#cells-h').locator('..').innerText()).toContain(`${cells} recorded`);
      if (run.kind === 'mmlu') expect(await result.innerText()).toMatch(/answers read (from the answer letter's log-probability|from the letter the model wrote)/);
      await page.screenshot({ path: join(artifactsDir(), `40-${run.kind}-run.png`), fullPage: true });
    }

    // Stage 2 against its parent: the LongBench and MMLU rows, with the API's values.
    const card = await api().models.scorecard({ modelId: stage2.id });
    const keys = card.rows.map((r) => r.key);
    expect(keys).toEqual(expect.arrayContaining(['longbench:average', 'longbench:narrativeqa', 'mmlu:0-shot', 'mmlu:5-shot']));
    await page.goto(`${portal.url}/models/${stage2.id}`);
    const table = page.getByTestId('scorecard').locator('table');
    await table.waitFor();
    const shown = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => ({ key: tr.querySelector('[data-row]')?.getAttribute('data-row'), model: tr.querySelector('[data-cell="model"]')?.textContent ?? '' })));
    expect(shown.map((r) => r.key)).toEqual(keys);
    for (const r of card.rows.filter((x) => x.suite === 'longbench' || x.suite === 'mmlu')) {
      const row = shown.find((x) => x.key === r.key)!;
      expect(Number(row.model.replace(/,/g, '')), r.key).toBe(Number(r.model.value!.toFixed(2)));
    }
    await page.getByTestId('scorecard').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(artifactsDir(), '41-benchmark-scorecard.png'), fullPage: true });

    // Starting one from the portal: the subjects come from the import, the estimate is the API's.
    await page.goto(`${portal.url}/evals/new?suite=mmlu`);
    const start = page.getByRole('form', { name: 'Start a MMLU run' });
    const endpointField = start.getByLabel('Endpoint');
    await endpointField.selectOption((await endpointField.locator('option', { hasText: 'lab-stage2-bench' }).getAttribute('value'))!);
    await start.getByLabel('Tokenizer (counts lengths)').selectOption('byte');
    await start.getByLabel('Shots').fill('0');
    await start.getByLabel('astronomy', { exact: true }).uncheck();
    const spec = { suite: 'mmlu' as const, dataset: 'mmlu-fixtures', subjects: ['high_school_computer_science'], shots: [0], scoring: 'auto' as const, tokenizer: 'byte' as const, chatTemplate: true };
    const want = await api().evals.suiteEstimate({ spec, concurrency: 4 });
    await expect.poll(() => start.getByTestId('estimate-cells').innerText(), { timeout: 15_000 }).toBe(String(want.cells));
    await page.screenshot({ path: join(artifactsDir(), '42-start-mmlu.png'), fullPage: true });
    await start.getByTestId('start-suite').click();
    await page.waitForURL(/\/evals\/c[a-z0-9]{20,}$/);
    const started = await repos.evals.get(page.url().split('/').pop()!);
    expect(started).toMatchObject({ kind: 'mmlu', cellsTotal: want.cells });
    expect((started.config as { spec: unknown }).spec).toMatchObject(spec);
    expect(pageErrors).toEqual([]);
  }, 240_000);
});
