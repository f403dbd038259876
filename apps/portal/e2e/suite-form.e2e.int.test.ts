/**
 * Starting a RULER run from the portal in a real browser against the real stack (production build,
 * worker, PostgreSQL, Redis) with the local OpenAI-compatible test server standing in for vLLM:
 * the estimate shown is the API's, a length a task cannot fit is refused under the lengths field,
 * and the run started lands on its page and finishes there with its heatmap.
 */
import { startOpenAITestServer, type OpenAITestServer } from '@ctxlab/niah/testing';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRepos } from '@ctxlab/testing/db';
import { waitFor } from '@ctxlab/testing/worker';
import { adminPage, internalApi, startStack, stopAll } from './harness';
import { artifactsDir, type Portal } from './stack';

const prefix = `e2e-suite-${process.pid}`;

let portal: Portal;
let context: BrowserContext;
let server: OpenAITestServer;
const pageErrors: string[] = [];
/** What beforeAll started, stopped in reverse order whatever got started before a failure. */
const teardown: (() => Promise<unknown>)[] = [];

const api = () => internalApi(prefix);

describe('starting a suite run from the portal', () => {
  beforeAll(async () => {
    const services = async () => {
      server = await startOpenAITestServer({ model: 'lab-model' });
      teardown.push(() => server.close());
    };
    ({ portal, context } = await startStack({ prefix, workerEnv: { REQUEST_TIMEOUT_MS: '10000' }, teardown, services }));
  }, 300_000);

  afterAll(() => stopAll(teardown), 60_000);

  it('prices a RULER spec as the API does, refuses a length too short by its field, starts it and shows the finished heatmap', async () => {
    const endpoint = await api().endpoints.create({ name: 'lab-suite', url: server.url, servedModelName: 'lab-model' });
    const page = await adminPage(context, portal, '/evals/new', pageErrors);
    // NIAH stays the default form.
    await page.getByTestId('start-eval').waitFor();

    await page.getByRole('navigation', { name: 'Suite' }).getByRole('link', { name: 'RULER' }).click();
    await page.waitForURL(/suite=ruler/);
    const form = page.getByRole('form', { name: 'Start a RULER run' });
    await form.waitFor();
    await form.getByLabel('Run name').fill('e2e ruler from the form');
    await form.getByLabel('Endpoint').selectOption({ label: `lab-suite — ${server.url}` });
    await form.getByLabel('vt', { exact: true }).check();
    // niah_single_1 is ticked by default; the QA picker only shows with a QA task.
    expect(await form.getByLabel('niah_single_1', { exact: true }).isChecked()).toBe(true);
    expect(await form.getByLabel('QA dataset').count()).toBe(0);
    await form.getByLabel('qa_1', { exact: true }).check();
    await form.getByLabel('QA dataset').waitFor();
    await form.getByLabel('qa_1', { exact: true }).uncheck();
    await form.getByLabel('Tokenizer (counts lengths)').selectOption('byte');
    await form.getByLabel('Samples per cell').fill('2');

    // Too short for the tasks: refused by the API, the message under the lengths field.
    const lengths = form.getByLabel('Lengths (tokens)');
    await lengths.fill('256');
    await expect.poll(() => lengths.getAttribute('aria-invalid'), { timeout: 15_000 }).toBe('true');
    const describedBy = (await lengths.getAttribute('aria-describedby'))!;
    expect(await page.locator(`[id="${describedBy}"]`).innerText()).toMatch(/^spec\.lengths: task \w+ cannot fit in 256 byte tokens/);
    expect(await form.getByTestId('start-suite').isDisabled()).toBe(true);

    await lengths.fill('2048');
    const spec = { suite: 'ruler' as const, tasks: ['niah_single_1' as const, 'vt' as const], lengths: [2048], samples: 2, tokenizer: 'byte' as const };
    const want = await api().evals.suiteEstimate({ spec, endpointId: endpoint.id, concurrency: 4 });
    expect(want.cells).toBe(4);
    await expect.poll(() => form.getByTestId('estimate-cells').innerText(), { timeout: 15_000 }).toBe(String(want.cells));
    expect(await form.getByTestId('estimate-tokens').innerText()).toBe(want.promptTokens.toLocaleString('en-US'));
    expect(await form.getByTestId('estimate-requests').innerText()).toBe(String(want.requests));
    expect(await lengths.getAttribute('aria-invalid')).toBe('false');
    await page.screenshot({ path: join(artifactsDir(), '30-start-ruler.png'), fullPage: true });

    await form.getByTestId('start-suite').click();
    await page.waitForURL(/\/evals\/c[a-z0-9]{20,}$/);
    const runId = page.url().split('/').pop()!;
    const run = await testRepos().evals.get(runId);
    expect(run).toMatchObject({ name: 'e2e ruler from the form', endpointId: endpoint.id, cellsTotal: 4 });
    expect((run.config as { spec: unknown }).spec).toMatchObject({ ...spec, chatTemplate: true });

    await waitFor('the RULER run to finish', async () => (await testRepos().evals.get(runId)).status === 'succeeded', 120_000, 250);
    await page.reload();
    const heatmap = page.getByTestId('ruler-heatmap');
    await heatmap.waitFor({ timeout: 30_000 });
    expect(await heatmap.locator('svg').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(artifactsDir(), '31-ruler-run.png'), fullPage: true });

    // The same spec asked for again returns that run, said so, and a fresh one is one click away.
    await page.goto(`${portal.url}/evals/new?suite=ruler`);
    const again = page.getByRole('form', { name: 'Start a RULER run' });
    await again.getByLabel('Endpoint').selectOption({ label: `lab-suite — ${server.url}` });
    await again.getByLabel('vt', { exact: true }).check();
    await again.getByLabel('Tokenizer (counts lengths)').selectOption('byte');
    await again.getByLabel('Samples per cell').fill('2');
    await again.getByLabel('Lengths (tokens)').fill('2048');
    await expect.poll(() => again.getByTestId('estimate-cells').innerText(), { timeout: 15_000 }).toBe('4');
    await again.getByTestId('start-suite').click();
    const existing = page.getByTestId('suite-existing');
    await existing.waitFor();
    expect(await existing.innerText()).toContain('An existing run was returned');
    expect(await existing.getByRole('link', { name: 'e2e ruler from the form' }).getAttribute('href')).toBe(`/evals/${runId}`);
    expect(page.url()).toBe(`${portal.url}/evals/new?suite=ruler`);
    await existing.getByRole('button', { name: 'Start a fresh run' }).click();
    await page.waitForURL((u) => /\/evals\/c[a-z0-9]{20,}$/.test(u.pathname) && !u.pathname.endsWith(runId));
    const fresh = await testRepos().evals.get(page.url().split('/').pop()!);
    expect(fresh).toMatchObject({ endpointId: endpoint.id, cellsTotal: 4 });

    // Topic retrieval prices its documents from the shipped English corpus, read inside the portal's
    // production bundle (where a package's files must still be found on disk).
    await page.goto(`${portal.url}/evals/new?suite=topic-retrieval`);
    const topic = page.getByRole('form', { name: 'Start a topic-retrieval run' });
    await topic.getByLabel('Endpoint').selectOption({ label: `lab-suite — ${server.url}` });
    await topic.getByLabel('Samples per cell').fill('1');
    const topicSpec = { suite: 'topic-retrieval' as const, topics: [5, 10, 20], length: 4096, question: 'first' as const, samples: 1, tokenizer: 'llama3' as const, chatTemplate: true };
    const topicWant = await api().evals.suiteEstimate({ spec: topicSpec, endpointId: endpoint.id, concurrency: 4 });
    await expect.poll(() => topic.getByTestId('estimate-tokens').innerText(), { timeout: 30_000 }).toBe(topicWant.promptTokens.toLocaleString('en-US'));
    expect(await topic.getByTestId('estimate-cells').innerText()).toBe(String(topicWant.cells));
    expect(pageErrors).toEqual([]);
  }, 240_000);
});
