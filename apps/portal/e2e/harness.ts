/**
 * What the browser tests of a run's pages share: the whole stack started in order (production
 * build, test database reset and seeded, the worker, the portal, Chromium), the API as the
 * server's own code calls it, and signing in through the portal's form.
 */
import { closeAllDbs, createDb } from '@ctxlab/db';
import type { BrowserContext, Page } from 'playwright-core';
import { seed } from '@ctxlab/testing/seed';
import { resetDb, testSettings, testToken } from '@ctxlab/testing/db';
import { startWorker, stopWorker } from '@ctxlab/testing/worker';
import { ensurePortalBuild, launchChromium, startPortal, type Portal } from './stack';

export { internalApi } from '@ctxlab/testing/db';

/**
 * Starts the stack on the queues under `prefix`: `services` (what the worker's jobs call, e.g. a
 * model server) before the worker, which runs with `workerEnv`, and the portal with `portalEnv`
 * (settings both share, such as ARTIFACTS_DIR, go in both). Each thing started pushes its stop
 * onto `teardown`, so that afterAll can stop them in reverse order even after a failed start.
 */
export async function startStack(o: {
  prefix: string;
  workerEnv: Record<string, string>;
  portalEnv?: Record<string, string>;
  teardown: (() => Promise<unknown>)[];
  services: () => Promise<void>;
}): Promise<{ portal: Portal; context: BrowserContext; worker: ReturnType<typeof startWorker> }> {
  ensurePortalBuild();
  const { databaseUrl, redisUrl } = testSettings();
  await resetDb();
  await seed(createDb(databaseUrl));
  o.teardown.push(() => closeAllDbs());
  await o.services();
  const worker = startWorker(o.prefix, o.workerEnv);
  o.teardown.push(() => stopWorker(worker));
  const portal = await startPortal({ ...o.portalEnv, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, QUEUE_PREFIX: o.prefix });
  o.teardown.push(() => portal.stop());
  const browser = await launchChromium();
  o.teardown.push(() => browser.close().catch(() => undefined));
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  return { portal, context, worker };
}

/** Stops what was started (startStack's `teardown`), newest first. */
export async function stopAll(teardown: (() => Promise<unknown>)[]): Promise<void> {
  for (const stop of teardown.reverse()) await stop();
}

/** A new page signed in as a new admin, landed on `next`; its script errors are collected in `pageErrors`. */
export async function adminPage(context: BrowserContext, portal: Portal, next: string, pageErrors: string[]): Promise<Page> {
  const admin = await testToken('admin');
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await signIn(page, portal, admin, next);
  return page;
}

/** Signs in through the portal's form, asking for `next`, and waits to land there. */
export async function signIn(page: Page, portal: Portal, who: { email: string; password: string }, next: string): Promise<void> {
  await page.goto(`${portal.url}/sign-in?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${portal.url}${next}`);
}
