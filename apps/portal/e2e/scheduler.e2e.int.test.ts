/**
 * GPU scheduling and the cost accounts in a real browser against the real stack (production
 * build, worker, PostgreSQL, Redis): a team and a price for the lab's cpu device (with its peak,
 * so the planner estimates lab training) are set through the API before a real lab training job
 * runs on the worker, charged to the team. /costs then shows the job's GPU-hours and cost, and the
 * estimate against the actual; the job's page and the trained model's page show the same figures;
 * /scheduler shows its sections and takes a quota and a price from its forms (refusals under their
 * fields first); /teams lists the team with its weight.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRepos } from '@ctxlab/testing/db';
import { jobFinished } from '@ctxlab/testing/worker';
import { fmtGpuHours, fmtMoney, fmtRatio } from '../src/lib/costs';
import { adminPage, internalApi, startStack, stopAll } from './harness';
import { artifactsDir, type Portal } from './stack';

const prefix = `e2e-sched-${process.pid}`;
const scratch = mkdtempSync(join(tmpdir(), 'ctxlab-e2e-sched-'));
const shared = { ARTIFACTS_DIR: join(scratch, 'artifacts') };
const api = () => internalApi(prefix);
const TEAM = 'e2e-lab';
const OUTPUT = 'e2e-lab-512';

let portal: Portal;
let context: BrowserContext;
let jobId: string;
const pageErrors: string[] = [];
const teardown: (() => Promise<unknown>)[] = [];

/** A page's script errors and console errors (a hydration mismatch is only logged) go to `pageErrors`. */
function watch(page: Page, name: string) {
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(`${name}: console: ${m.text()}`);
  });
}

describe('the GPU queue, costs and teams in the portal', () => {
  beforeAll(async () => {
    const t0 = Date.now();
    const stack = await startStack({ prefix, workerEnv: { ...shared, JOBS_DIR: join(scratch, 'jobs') }, portalEnv: shared, teardown, services: async () => undefined });
    ({ portal, context } = stack);
    teardown.push(async () => rmSync(scratch, { recursive: true, force: true }));
    await api().teams.create({ name: TEAM, weight: 2, description: 'the browser test’s team' });
    // Before the job is queued: the planner estimates lab training from the cpu price's peak.
    await api().scheduler.setPrice({ gpuType: 'cpu', pricePerHour: 0.5, currency: 'USD', peakFlops: 5e10, note: 'browser test rate' });
    const repos = testRepos();
    const base = (await repos.models.getByName('lab-stage1'))!;
    const stage = { name: 'lab-512', seqLength: 512, ropeTheta: 10_000, batchSize: 1, steps: 2, learningRate: 1e-3, gpus: 1, gpuType: 'cpu' };
    const r = await api().gpu.start({
      spec: { kind: 'train', trainer: 'lab', model: base.sourceUri!, output: pathToFileURL(join(shared.ARTIFACTS_DIR, 'models', OUTPUT)).href, stage, seed: 3 },
      output: { kind: 'model', name: OUTPUT, parentModelId: base.id, lineage: 'context-extension', ropeTheta: 10_000, maxPositionEmbeddings: 512 },
      team: TEAM,
    });
    jobId = r.job.id;
    const log = async () => `${(await repos.jobs.events(jobId)).map((e) => e.message).join('\n')}\nworker: ${stack.worker.output().slice(-3000)}`;
    const job = await jobFinished(repos, jobId, 150_000, 250).catch(async (e: unknown) => {
      throw new Error(`${(e as Error).message}\n${await log()}`);
    });
    expect(job.status, `${job.error ?? ''}\n${await log()}`).toBe('succeeded');
    console.info(`scheduler e2e: stack up and the lab training job done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 420_000);

  afterAll(() => stopAll(teardown), 60_000);

  it('shows the job’s GPU-hours and cost, and its estimate against the actual, on /costs, the job’s page and the model’s page', async () => {
    const t0 = Date.now();
    const report = await api().costs.report({});
    const cost = report.jobs.find((j) => j.jobId === jobId)!;
    expect(cost).toMatchObject({ kind: 'train', team: TEAM, device: 'cpu', devices: 1, currency: 'USD', output: OUTPUT });
    expect(cost.gpuHours).toBeGreaterThan(0);
    expect(cost.cost).toBeCloseTo(cost.gpuHours * 0.5, 10);
    const estimate = report.estimates.find((j) => j.jobId === jobId)!;
    expect(estimate.ratio).toBeGreaterThan(0);

    const page = await adminPage(context, portal, '/costs', pageErrors);
    watch(page, '/costs');
    const totals = page.getByTestId('cost-totals');
    expect(await totals.getByTestId('total-cost').innerText()).toBe(fmtMoney(report.totals.cost.USD, 'USD'));
    expect(await totals.getByTestId('total-gpu-hours').innerText()).toBe(fmtGpuHours(report.totals.gpuHours));
    // The job's row, linked to its page, with its device time and cost.
    const row = page.getByTestId('cost-jobs').locator('tbody tr', { has: page.locator(`a[href="/jobs/${jobId}"]`) });
    expect(await row.getByTestId('job-gpu-hours').innerText()).toBe(fmtGpuHours(cost.gpuHours));
    expect(await row.getByTestId('job-cost').innerText()).toBe(fmtMoney(cost.cost, 'USD'));
    expect(await row.innerText()).toContain('1 × cpu');
    // The breakdowns chart cost in the one currency; a bar per team and per device, named for assistive technology.
    const teams = page.getByTestId('cost-by-team').locator('svg[role="img"]');
    expect(await teams.locator('title').first().textContent()).toBe('Cost (USD) per team');
    expect(await teams.locator(`[data-row="${TEAM}"] rect title`).textContent()).toContain(`${TEAM}: ${fmtMoney(report.byTeam.find((t) => t.key === TEAM)!.cost.USD, 'USD')}`);
    expect(await page.getByTestId('cost-by-device').locator('[data-row="cpu"] [data-role="value"]').textContent()).toBe(fmtMoney(report.byDevice.find((d) => d.key === 'cpu')!.cost.USD, 'USD'));
    // Estimate against actual: the training job's row and its bar.
    const estimates = page.getByTestId('cost-estimates');
    const erow = estimates.locator('tbody tr', { hasText: OUTPUT });
    expect(await erow.getByTestId('estimate-ratio').innerText()).toBe(fmtRatio(estimate.ratio));
    expect(await erow.innerText()).toContain(fmtGpuHours(estimate.estimateGpuHours));
    expect(await estimates.getByTestId('estimate-chart').locator(`[data-row="${OUTPUT}"] [data-role="value"]`).textContent()).toBe(fmtRatio(estimate.ratio));
    await page.screenshot({ path: join(artifactsDir(), '60-costs.png'), fullPage: true });

    // GPU-hours instead of cost, keeping the range.
    await page.getByRole('navigation', { name: 'Charts show' }).getByRole('link', { name: 'GPU-hours' }).click();
    await page.waitForURL(/show=hours/);
    expect(await page.getByTestId('cost-by-team').locator('svg title').first().textContent()).toBe('GPU-hours per team');
    // A range with no jobs: nothing counted.
    await page.getByLabel('From').fill('2020-01-01');
    await page.getByLabel('To (included)').fill('2020-01-31');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/from=2020-01-01/);
    expect(await page.getByTestId('cost-jobs').innerText()).toContain('No job held a device in this range.');

    // The job's page: team, devices, GPU time and the estimate beside the actual.
    await page.goto(`${portal.url}/jobs/${jobId}`);
    const sched = page.getByTestId('job-scheduling');
    await sched.waitFor();
    const shown = await sched.innerText();
    expect(shown).toContain(TEAM);
    expect(shown).toContain('no GPU: charged as one cpu device');
    expect(await sched.getByTestId('job-gpu-hours').innerText()).toBe(`${fmtGpuHours(cost.gpuHours)} (1 × cpu)`);
    expect(await sched.getByTestId('job-estimate').innerText()).toContain(`${fmtGpuHours(estimate.estimateGpuHours)} GPU-h`);
    expect(await sched.getByTestId('job-estimate-ratio').innerText()).toContain(fmtRatio(estimate.ratio));
    await page.screenshot({ path: join(artifactsDir(), '61-job-scheduling.png'), fullPage: true });

    // The trained model's page: what its lineage cost.
    const model = (await testRepos().models.getByName(OUTPUT))!;
    await page.goto(`${portal.url}/models/${model.id}`);
    const mc = page.getByTestId('model-cost');
    await mc.waitFor();
    expect(await mc.getByTestId('total-cost').innerText()).toBe(fmtMoney(cost.cost, 'USD'));
    expect(await mc.locator(`a[href="/jobs/${jobId}"]`).count()).toBe(1);
    await page.screenshot({ path: join(artifactsDir(), '62-model-cost.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    console.info(`scheduler e2e: costs, job and model pages in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 90_000);

  it('shows the GPU queue’s sections and takes a quota and a price from its forms, refusals under their fields', async () => {
    const page = await adminPage(context, portal, '/scheduler', pageErrors);
    watch(page, '/scheduler');
    for (const id of ['queue-stats', 'queue-pools', 'queue-waiting', 'queue-holding', 'queue-quotas', 'queue-prices']) await page.getByTestId(id).waitFor();
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('GPU queue');
    // The local worker reports no pools and admitted the lab job without waiting: nothing waits or holds GPUs now.
    expect(await page.getByTestId('queue-waiting').innerText()).toContain('No job is waiting');
    expect(await page.getByTestId('queue-holding').innerText()).toContain('Nothing holds GPUs now.');
    await expect.poll(() => page.getByTestId('queue-live').innerText()).toMatch(/live · updated every 2 s/);
    const prices = page.getByTestId('queue-prices');
    expect(await prices.locator('tbody tr', { hasText: 'cpu' }).innerText()).toContain('$0.50');

    // A quota: the form's own check, then the API's, each under its field; then saved, with its use against it.
    const form = page.getByRole('form', { name: 'Set a quota' });
    await form.getByRole('button', { name: 'Save quota' }).click();
    await expect.poll(() => form.getByLabel('Device type').getAttribute('aria-invalid')).toBe('true');
    expect(await form.innerText()).toContain('name the device type');
    await form.getByLabel('Device type').fill('cpu');
    await form.getByRole('button', { name: 'Save quota' }).click();
    await expect.poll(() => form.getByLabel('GPU-hours per period').getAttribute('aria-invalid')).toBe('true');
    expect(await form.innerText()).toContain('a quota limits GPU-hours, GPUs at once, or both');
    await form.getByLabel('GPU-hours per period').fill('10');
    await form.getByRole('button', { name: 'Save quota' }).click();
    await expect.poll(() => form.getByRole('status').innerText()).toContain(`Saved: team ${TEAM}, cpu, 10 GPU-hours per month`);
    const quota = page.getByTestId('queue-quotas').locator('tbody tr', { hasText: TEAM });
    await expect.poll(() => quota.getByRole('meter').getAttribute('aria-valuetext')).toMatch(/ of 10 GPU-h$/);

    // A price: a currency that is no ISO code is refused under its field; a good one is listed.
    const pf = page.getByRole('form', { name: 'Set a price' });
    await pf.getByLabel('Device type').fill('a100-80gb');
    await pf.getByLabel('Price per device-hour').fill('1.80');
    await pf.getByLabel('Currency').fill('US');
    await pf.getByRole('button', { name: 'Save price' }).click();
    await expect.poll(() => pf.getByLabel('Currency').getAttribute('aria-invalid')).toBe('true');
    expect(await pf.innerText()).toContain('an ISO 4217 currency code');
    await pf.getByLabel('Currency').fill('EUR');
    await pf.getByRole('button', { name: 'Save price' }).click();
    await expect.poll(() => prices.locator('tbody tr', { hasText: 'a100-80gb' }).innerText()).toContain('€1.80');
    await page.screenshot({ path: join(artifactsDir(), '63-scheduler.png'), fullPage: true });

    // Teams: the team with its weight, and its quota.
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Teams' }).click();
    await page.waitForURL(`${portal.url}/teams`);
    const team = page.getByTestId('teams-list').locator('tbody tr', { hasText: TEAM });
    await team.waitFor();
    const cells = await team.locator('td').allInnerTexts();
    expect(cells[0]).toBe('2');
    expect(await team.innerText()).toContain('cpu: 10 GPU-h/month');
    await page.getByTestId(`team-${TEAM}`).getByRole('form', { name: `Add a member to ${TEAM}` }).waitFor();
    await page.screenshot({ path: join(artifactsDir(), '64-teams.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
