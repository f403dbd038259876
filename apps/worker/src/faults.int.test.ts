/**
 * The fault suite: real worker processes, a real Redis of the test's own, and the OpenAI-compatible
 * test server, with things breaking mid-sweep. Each ends with every cell stored exactly once, and
 * says how many model requests each cell cost (one line per scenario on stdout).
 */
import type { NiahSpecInput } from '@ctxlab/contracts';
import type { OpenAITestServer } from '@ctxlab/niah/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiDeps, createCaller } from '@ctxlab/api';
import { portOpen, redisServerArgs } from '@ctxlab/testing/services';
import { resetDb, testRepos, testSettings } from '@ctxlab/testing/db';
import { stopWorker, waitFor } from '@ctxlab/testing/worker';
import { faultsOnFirstRequest, requestsSince, sweepHarness } from '@ctxlab/testing/sweeps';

const prefix = `faults-${process.pid}`;
const repos = testRepos();
const deps = (redisUrl = testSettings().redisUrl) => apiDeps({ ...testSettings(), redisUrl, queuePrefix: prefix });
const api = (redisUrl?: string) => createCaller({ ...deps(redisUrl), actor: null, source: 'internal' });

const spec = (lengths: number[], depths: number[], seed: number): NiahSpecInput => ({
  variant: 'value',
  tokenizer: 'llama3',
  grid: { lengths: { kind: 'list', values: lengths }, depths: { kind: 'list', values: depths } },
  seed,
});
const depths = (n: number) => Array.from({ length: n }, (_, i) => i / (n - 1));

async function cellsOf(evalRunId: string) {
  return repos.db.evalCell.findMany({ where: { evalRunId }, orderBy: [{ contextLength: 'asc' }, { depth: 'asc' }, { sample: 'asc' }] });
}

async function expectEveryCellOnce(evalRunId: string, total: number) {
  const cells = await cellsOf(evalRunId);
  expect(cells).toHaveLength(total);
  expect(new Set(cells.map((c) => `${c.contextLength}/${c.depth}/${c.sample}`)).size).toBe(total);
  return cells;
}

function report(scenario: string, cells: number, r: { total: number; sentTwiceOrMore: number }, extra = '') {
  console.log(`[faults] ${scenario}: ${cells} cells, ${r.total} model requests (${(r.total / cells).toFixed(2)} per cell), ${r.sentTwiceOrMore} prompt(s) sent more than once${extra}`);
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/**
 * A Redis of this test's own, run as the project runs it but without persistence: a restart
 * forgets every queue, the case the job lease has to survive.
 */
async function ownRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ctxlab-faults-redis-'));
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn('redis-server', [...redisServerArgs(port, dir), '--appendonly', 'no', '--save', ''], { stdio: 'ignore' });
    await waitFor('Redis to listen', () => portOpen(port), 10_000, 50);
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    /** Killed (a crash: nothing saved) and started again after `downMs`. */
    async restart(downMs: number) {
      await kill();
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('fault suite: every cell exactly once, no request sent twice but those in flight at the fault', () => {
  const h = sweepHarness(prefix, repos);
  const { worker, finished, server } = h;
  const endpointFor = async (s: OpenAITestServer, name: string, redisUrl?: string) => (await api(redisUrl).endpoints.create({ name, url: s.url, servedModelName: s.model })).id;

  beforeAll(() => resetDb());
  afterEach(() => h.stopWorkers());
  afterAll(() => h.closeServers());

  it('kill -9 of the worker mid-sweep: another worker finishes; every cell once, the same answers as an uninterrupted run', async () => {
    const s = await server({ model: 'm-kill', behaviour: { kind: 'delay', ms: 150 } });
    const endpointId = await endpointFor(s, 'kill');
    const input = { name: 'kill', endpointId, spec: spec([300, 500, 700, 900, 1100, 1300], depths(5), 41), concurrency: 2 };
    const total = 30;

    worker();
    const reference = await api().evals.start(input);
    expect((await finished(reference.job.id)).status).toBe('succeeded');
    const expected = (await expectEveryCellOnce(reference.evalRun.id, total)).map((c) => [c.contextLength, c.depth, c.response]);
    await h.stopWorkers('SIGTERM');

    const from = s.requests.length;
    const w1 = worker({ WORKER_NAME: 'doomed' });
    const r = await api().evals.start({ ...input, rerun: true });
    await waitFor('some cells', async () => (await repos.db.evalCell.count({ where: { evalRunId: r.evalRun.id } })) >= 6, 60_000);
    await stopWorker(w1, 'SIGKILL');
    // What the dead worker had sent but not stored: the only requests that may be sent again.
    const sentBefore = requestsSince(s, from).total;
    const storedBefore = await repos.db.evalCell.count({ where: { evalRunId: r.evalRun.id } });
    const inFlight = sentBefore - storedBefore;
    expect(storedBefore).toBeLessThan(total);

    worker({ WORKER_NAME: 'survivor' });
    const job = await finished(r.job.id);
    expect(job.status).toBe('succeeded');
    const cells = await expectEveryCellOnce(r.evalRun.id, total);
    expect(cells.map((c) => [c.contextLength, c.depth, c.response])).toEqual(expected);
    expect(cells.every((c) => c.score === 100 && c.error === null)).toBe(true);
    const sent = requestsSince(s, from);
    report('kill -9 mid-sweep', total, sent, `; ${inFlight} sent but not stored when the worker died`);
    expect(sent.prompts).toBe(total);
    expect(sent.total - total).toBeLessThanOrEqual(inFlight);
    const events = await repos.jobs.events(r.job.id);
    expect(events.some((e) => e.type === 'lease' && /^survivor\/\w+ took over from doomed\/\w+/.test(e.message))).toBe(true);
  }, 180_000);

  it('Redis restarted mid-sweep without persistence, two workers: the lease keeps the job on one worker — no prompt sent twice but those in flight at the fault', async () => {
    const redis = await ownRedis();
    try {
      const s = await server({ model: 'm-redis', behaviour: { kind: 'delay', ms: 200 } });
      const endpointId = await endpointFor(s, 'redis', redis.url);
      const total = 66;
      // A lease well beyond a heartbeat: on a loaded machine a late heartbeat must not hand the job
      // over between two live workers (that would be correct, but its in-flight requests would count).
      const env = { REDIS_URL: redis.url, JOB_LEASE_MS: '10000' };
      worker({ ...env, WORKER_NAME: 'first' });
      worker({ ...env, WORKER_NAME: 'second' });
      const from = s.requests.length;
      const r = await api(redis.url).evals.start({ name: 'redis', endpointId, spec: spec([300, 500, 700, 900, 1100, 1300], depths(11), 42), concurrency: 2 });
      await waitFor('some cells', async () => (await repos.db.evalCell.count({ where: { evalRunId: r.evalRun.id } })) >= 6, 60_000);
      const sentBefore = requestsSince(s, from).total;
      const storedBefore = await repos.db.evalCell.count({ where: { evalRunId: r.evalRun.id } });
      await redis.restart(1000);
      // Sent but not yet stored when Redis went away (an upper bound: cells waiting in a write batch count too).
      const inFlight = sentBefore - storedBefore;
      expect(storedBefore).toBeLessThan(total);

      const job = await finished(r.job.id);
      expect(job.status).toBe('succeeded');
      const cells = await expectEveryCellOnce(r.evalRun.id, total);
      expect(cells.every((c) => c.score === 100 && c.error === null)).toBe(true);
      const sent = requestsSince(s, from);
      report('Redis restart mid-sweep, two workers', total, sent, `; ${inFlight} in flight at the fault`);
      expect(sent.prompts).toBe(total);
      expect(sent.sentTwiceOrMore).toBeLessThanOrEqual(inFlight);
      expect(sent.total - total).toBeLessThanOrEqual(inFlight);
    } finally {
      await h.stopWorkers('SIGKILL');
      deps(redis.url).jobs.producer().disconnect();
      await redis.stop();
    }
  }, 180_000);

  it('endpoint faults (500s, connection resets, timeouts): failed requests are retried and never scored; every cell once', async () => {
    // Every prompt's first request fails, in turn with a 500, a reset connection or no answer at all.
    const s = await server({ model: 'm-faults', behaviour: faultsOnFirstRequest().behaviour });
    const endpointId = await endpointFor(s, 'faults');
    worker({ REQUEST_TIMEOUT_MS: '1500', REQUEST_ATTEMPTS: '3' });
    const total = 15;
    const r = await api().evals.start({ name: 'faults', endpointId, spec: spec([300, 500, 700, 900, 1100], depths(3), 43), concurrency: 3 });
    const job = await finished(r.job.id);
    expect(job.status).toBe('succeeded');
    const cells = await expectEveryCellOnce(r.evalRun.id, total);
    expect(cells.every((c) => c.score === 100 && c.error === null && c.response !== null)).toBe(true);
    const sent = requestsSince(s, 0);
    // Exactly one failed request and one answered request per cell: the failures were not stored as results.
    expect([...sent.byPrompt.values()].every((k) => k === 2)).toBe(true);
    const kinds = s.requests.filter((q) => q.path === '/v1/chat/completions').map((q) => q.behaviour);
    expect(kinds.filter((k) => k === 'answer')).toHaveLength(total);
    expect(new Set(kinds.filter((k) => k !== 'answer'))).toEqual(new Set(['status', 'reset', 'hang']));
    report('endpoint faults (500, reset, timeout on every first request)', total, sent);
  }, 180_000);

  it('requests the endpoint refuses for good: the cells are recorded unscored, and the run says once how many attempts they took', async () => {
    // vLLM refuses a prompt longer than --max-model-len with a 400, which is not worth retrying.
    const s = await server({ model: 'm-short', maxModelLen: 1200 });
    const endpointId = await endpointFor(s, 'short');
    worker({ REQUEST_ATTEMPTS: '3' });
    const r = await api().evals.start({ name: 'short', endpointId, spec: spec([300, 700, 1300], depths(3), 44), concurrency: 3 });
    const job = await finished(r.job.id);
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(
      /^3 of 9 cells failed after 1 attempt each; last error: http: HTTP 400: This model's maximum context length is 1200 tokens\. However, you requested \d+ tokens \(\d+ in the messages, \d+ in the completion\)\. Please reduce the length of the messages or completion\.; finished cells are kept — retry the job to redo the failed ones$/,
    );
    const cells = await expectEveryCellOnce(r.evalRun.id, 9);
    const failed = cells.filter((c) => c.contextLength === 1300);
    expect(failed.every((c) => c.score === null && c.response === null && /\(after 1 attempt\)$/.test(c.error ?? ''))).toBe(true);
    expect(cells.filter((c) => c.contextLength !== 1300).every((c) => c.score === 100)).toBe(true);
    const sent = requestsSince(s, 0);
    expect(sent.total).toBe(9);
    report('prompts over max-model-len (400, not retried)', 9, sent);
  }, 120_000);
});
