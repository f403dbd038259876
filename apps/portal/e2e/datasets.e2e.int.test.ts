/**
 * Training data from the portal in a real browser against the real stack (production build,
 * worker, PostgreSQL, Redis): a corpus imported through the API is prepared from the /datasets
 * form (refusals shown under their fields first), the job is followed live to its end, and the
 * registered dataset's page shows the stats the job recorded, the length histogram, the lineage
 * back to the corpus and the shards — file:// here, so a download shows the path on the server —
 * and an adapter stored as a folder lists its files the same way.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRepos } from '@ctxlab/testing/db';
import { adminPage, internalApi, startStack, stopAll } from './harness';
import { artifactsDir, type Portal } from './stack';

const prefix = `e2e-data-${process.pid}`;
const SEQ = 256;
// The portal names the output (datasets/<name> under its artifact root) and the worker writes it: one root for both.
const scratch = mkdtempSync(join(tmpdir(), 'ctxlab-e2e-data-'));
const shared = { ARTIFACTS_DIR: join(scratch, 'artifacts') };

let portal: Portal;
let context: BrowserContext;
const pageErrors: string[] = [];
const teardown: (() => Promise<unknown>)[] = [];

/** Essay-like documents, short ones and every fourth over 1,024 tokens (two histogram buckets), the same on every run. */
function essays(n: number): { name: string; text: string }[] {
  const words = ['context', 'window', 'rotary', 'position', 'needle', 'haystack', 'attention', 'stage', 'token', 'length', 'scaling', 'model'];
  let x = 7;
  const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31);
  return Array.from({ length: n }, (_, i) => {
    const len = i % 4 === 0 ? 1500 + (next() % 1500) : 60 + (next() % 150);
    return { name: `essay-${String(i).padStart(2, '0')}`, text: `Essay ${i}: ${Array.from({ length: len }, () => words[next() % words.length]).join(' ')}.` };
  });
}

describe('preparing training data in the portal', () => {
  beforeAll(async () => {
    ({ portal, context } = await startStack({ prefix, workerEnv: { ...shared, JOBS_DIR: join(scratch, 'jobs') }, portalEnv: shared, teardown, services: async () => undefined }));
    teardown.push(async () => rmSync(scratch, { recursive: true, force: true }));
    await internalApi(prefix).datasets.importCorpus({ name: 'e2e-essays', source: 'generated for the browser test', documents: essays(24) });
  }, 300_000);

  afterAll(() => stopAll(teardown), 60_000);

  it('prepares a corpus from the form, follows the job, and shows the stats, histogram, lineage and shard downloads; an adapter\'s files download too', async () => {
    const t0 = Date.now();
    const page = await adminPage(context, portal, '/datasets', pageErrors);
    const form = page.getByRole('form', { name: 'Prepare training data' });
    await form.waitFor();

    // The form's own check, then the API's: each refusal under its field.
    await form.getByRole('button', { name: 'Prepare' }).click();
    await expect.poll(() => form.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');
    expect(await form.innerText()).toContain('name the prepared dataset');
    expect(await form.innerText()).toContain('give the sequence length the trainer trains at');
    await form.getByLabel('Name').fill('e2e-essays');
    await form.getByLabel('Sequence length (tokens)').fill(String(SEQ));
    await form.getByRole('button', { name: 'Prepare' }).click();
    await expect.poll(() => form.innerText(), { timeout: 15_000 }).toMatch(/a dataset named e2e-essays already exists/);
    expect(await form.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');

    // A recipe stage: its length and whether it has a data recipe, from the seeded recipes.
    await form.getByLabel('for a recipe stage').check();
    await expect.poll(() => form.getByTestId('stage-data').innerText()).toMatch(/^Trains at [\d,]+ tokens\. (Data recipe: |This stage has no data recipe)/);
    await page.screenshot({ path: join(artifactsDir(), '50-prepare-for-stage.png'), fullPage: true });
    await form.getByLabel('from sources').check();

    // From sources: the corpus, short documents kept half the time, a small token budget.
    await form.getByLabel('Name').fill('e2e-essays-256');
    const source = form.getByRole('group', { name: 'Source 1' });
    await source.getByLabel('Dataset').selectOption('e2e-essays');
    await source.getByLabel('Keep short docs (0–1)').fill('0.5');
    await source.getByLabel('Short means under (tokens)').fill('200');
    await form.getByLabel('Max tokens (optional)').fill(String(20 * (SEQ + 1)));
    await page.screenshot({ path: join(artifactsDir(), '51-prepare-form.png'), fullPage: true });
    await form.getByRole('button', { name: 'Prepare' }).click();

    const progress = page.getByTestId('prepare-progress');
    await progress.waitFor();
    const done = progress.getByTestId('prepare-done');
    await done.waitFor({ timeout: 60_000 });
    const repos = testRepos();
    const d = (await repos.datasets.getByName('e2e-essays-256'))!;
    const stats = d.prepared as { sequences: number; tokens: number; shards: { path: string }[]; perSource: Record<string, { lengthHistogram: { documents: number }[] }> };
    expect(stats.tokens).toBe(stats.sequences * (SEQ + 1));
    expect(await done.innerText()).toContain(`${stats.sequences.toLocaleString('en-US')} sequences, ${stats.tokens.toLocaleString('en-US')} tokens`);
    expect(await progress.getByTestId('prepare-sequences').innerText()).toBe(stats.sequences.toLocaleString('en-US'));
    expect(await progress.getByRole('link', { name: 'job page' }).getAttribute('href')).toBe(`/jobs/${d.jobId}`);
    await page.screenshot({ path: join(artifactsDir(), '52-prepare-done.png'), fullPage: true });

    await done.getByRole('link', { name: 'e2e-essays-256' }).click();
    await page.waitForURL(`${portal.url}/datasets/${d.id}`);
    const panel = page.getByTestId('prepared-stats');
    await panel.waitFor();
    const shown = await panel.innerText();
    expect(shown).toContain('EasyContext');
    expect(shown).toContain(`${SEQ} tokens`);
    expect(shown).toContain(stats.sequences.toLocaleString('en-US'));
    expect(shown).toMatch(/token budget \(5,140 tokens\) was reached|every source read to its end/);

    // One bar per length bucket the source's documents fell in, named for assistive technology.
    const histogram = page.getByTestId('length-histogram').locator('svg[role="img"]');
    expect(await histogram.getAttribute('aria-labelledby')).toBe('length-histogram-title');
    expect(await histogram.locator('title').first().textContent()).toBe('Document lengths per source');
    const buckets = stats.perSource['e2e-essays']!.lengthHistogram.filter((b) => b.documents > 0);
    expect(buckets.length).toBeGreaterThanOrEqual(2);
    expect(await histogram.locator('rect[data-series="e2e-essays"]').count()).toBe(buckets.length);

    const lineage = page.getByTestId('dataset-lineage');
    expect(await lineage.getByRole('link', { name: 'e2e-essays', exact: true }).getAttribute('href')).toBe(`/datasets/${(await repos.datasets.getByName('e2e-essays'))!.id}`);

    // A shard's download: the file:// store answers with the path on the server, where the shard is.
    const shards = page.getByTestId('shards');
    const first = stats.shards[0]!.path;
    await shards.getByRole('button', { name: `Download ${first}` }).click();
    const path = await shards.getByTestId('download-path').first().locator('code').innerText();
    expect(path).toBe(join(shared.ARTIFACTS_DIR, 'datasets/e2e-essays-256', first));
    expect(existsSync(path)).toBe(true);

    // The whole dataset's files, listed on demand.
    const files = page.getByTestId('dataset-download');
    await files.getByRole('button', { name: 'List the dataset’s files' }).click();
    await files.getByRole('button', { name: `Download ${first}` }).waitFor();
    await page.screenshot({ path: join(artifactsDir(), '53-prepared-dataset.png'), fullPage: true });

    // The corpus's page shows where it went.
    await lineage.getByRole('link', { name: 'e2e-essays', exact: true }).click();
    await page.getByTestId('dataset-lineage').getByRole('link', { name: 'e2e-essays-256' }).waitFor();

    // The job's page: the totals written and the dataset it registered.
    await page.goto(`${portal.url}/jobs/${d.jobId}`);
    const live = page.getByTestId('job-live');
    await live.waitFor();
    expect(await live.getByTestId('prepare-tokens').innerText()).toBe(stats.tokens.toLocaleString('en-US'));
    expect(await page.getByRole('link', { name: 'e2e-essays-256' }).getAttribute('href')).toBe(`/datasets/${d.id}`);

    // An adapter stored as a file:// folder: its files listed, each with its path on the server.
    const folder = join(shared.ARTIFACTS_DIR, 'adapters/e2e-lora');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 8, lora_alpha: 16, target_modules: ['q_proj', 'v_proj'] }));
    writeFileSync(join(folder, 'adapter_model.safetensors'), Buffer.alloc(4096, 1));
    const base = (await repos.models.getByName('lab-stage1'))!;
    const adapter = await internalApi(prefix).adapters.create({ name: 'e2e-lora', baseModelId: base.id, rank: 8, alpha: 16, targetModules: ['q_proj', 'v_proj'], uri: pathToFileURL(folder).href });
    await page.goto(`${portal.url}/adapters/${adapter.id}`);
    const adapterFiles = page.getByTestId('adapter-download');
    await adapterFiles.getByRole('button', { name: 'List the adapter’s files' }).click();
    await adapterFiles.getByRole('button', { name: 'Download adapter_model.safetensors' }).click();
    expect(await adapterFiles.getByTestId('download-path').locator('code').innerText()).toBe(join(folder, 'adapter_model.safetensors'));
    expect(await adapterFiles.locator('tbody tr').count()).toBe(2);
    await page.screenshot({ path: join(artifactsDir(), '54-adapter-download.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    console.info(`datasets e2e: form to adapter downloads in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 120_000);
});
