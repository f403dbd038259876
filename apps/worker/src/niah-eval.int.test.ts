import type { NiahSpecInput } from '@ctxlab/contracts';
import { startOpenAITestServer, type OpenAITestServer } from '@ctxlab/niah/testing';
import { TRPCError } from '@trpc/server';
import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiDeps, createCaller } from '@ctxlab/api';
import { resetDb, testRepos, testSettings } from '@ctxlab/testing/db';
import { startWorker, stopWorker, waitFor } from '@ctxlab/testing/worker';

const prefix = `niahtest-${process.pid}`;
const api = () => createCaller({ ...apiDeps({ ...testSettings(), queuePrefix: prefix }), actor: null, source: 'internal' });
const repos = testRepos();

const spec = (lengths: number[], depths: number[], seed = 1): NiahSpecInput => ({
  variant: 'value',
  tokenizer: 'llama3',
  grid: { lengths: { kind: 'list', values: lengths }, depths: { kind: 'list', values: depths } },
  seed,
});

describe('NIAH evals through queue, worker and PostgreSQL', () => {
  let server: OpenAITestServer;
  let endpointId: string;
  const workers: ChildProcess[] = [];
  const worker = (env: Record<string, string> = {}) => {
    const w = startWorker(prefix, env);
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    await resetDb();
    server = await startOpenAITestServer({ model: 'test-model' });
    endpointId = (await api().endpoints.create({ name: 'test-server', url: server.url, servedModelName: 'test-model' })).id;
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => stopWorker(w, 'SIGKILL')));
    server.setBehaviour({ kind: 'answer' });
  });
  afterAll(async () => {
    await server.close();
  });

  const jobDone = (jobId: string, statuses = ['succeeded', 'failed', 'cancelled'], timeoutMs = 60_000) =>
    waitFor(`job ${jobId} to finish`, async () => {
      const j = await repos.jobs.get(jobId);
      return statuses.includes(j.status) ? j : null;
    }, timeoutMs);

  const cellsOf = (evalRunId: string) => repos.db.evalCell.findMany({ where: { evalRunId } });

  it('runs a sweep to the end: every cell once, scored, with progress and an event log', async () => {
    worker();
    const r = await api().evals.start({ name: 'full', endpointId, spec: spec([400, 800, 1200], [0, 0.5, 1]), concurrency: 3 });
    expect(r.created).toBe(true);
    const job = await jobDone(r.job.id);
    expect(job.status).toBe('succeeded');
    const cells = await cellsOf(r.evalRun.id);
    expect(cells).toHaveLength(9);
    expect(cells.every((c) => c.score === 100 && c.error === null)).toBe(true);
    // The exact needle token is stored: inside the prompt, and for depth 0 near its start.
    expect(cells.every((c) => c.needleToken !== null && c.needleToken >= 0 && c.needleToken < c.contextLength)).toBe(true);
    const events = await repos.jobs.events(r.job.id);
    expect(events.filter((e) => e.type === 'status').map((e) => e.toStatus)).toEqual(['queued', 'running', 'succeeded']);
    const run = await api().evals.get({ id: r.evalRun.id });
    expect(run).toMatchObject({ status: 'succeeded', cellsDone: 9, cellsTotal: 9 });
    const heat = await api().evals.heatmap({ id: r.evalRun.id });
    expect(heat.average).toBe(100);
    expect(heat.svg).toContain('<svg');
  });

  it('completion-ids mode sends the exact prompt ids: the server sees exactly the requested lengths', async () => {
    worker();
    const from = server.requests.length;
    const r = await api().evals.start({ name: 'ids', endpointId, spec: spec([700, 1300], [0.5], 21), concurrency: 2, mode: 'completion-ids' });
    expect((await jobDone(r.job.id)).status).toBe('succeeded');
    const sent = server.requests.slice(from).filter((q) => q.path === '/v1/completions');
    expect(sent.map((q) => q.promptTokens ?? 0).sort((a, b) => a - b)).toEqual([700, 1300]);
    expect((await cellsOf(r.evalRun.id)).every((c) => c.score === 100)).toBe(true);
  });

  it('a repeated start request returns the same run instead of starting a second', async () => {
    const input = { name: 'dup', endpointId, spec: spec([500], [0.5], 7), concurrency: 1, requestKey: 'click-1' };
    const [a, b] = await Promise.all([api().evals.start(input), api().evals.start(input)]);
    expect(a.job.id).toBe(b.job.id);
    expect(await repos.db.evalRun.count({ where: { jobId: a.job.id } })).toBe(1);
    const again = await api().evals.start(input);
    expect(again.created).toBe(false);
    expect(again.existing).toBe(true);
  });

  it('the same spec again returns the finished run and says so; rerun starts a fresh one (itself idempotent under a request key)', async () => {
    worker();
    const input = { name: 'first', endpointId, spec: spec([500, 900], [0.5], 31), concurrency: 2 };
    const first = await api().evals.start(input);
    expect(first).toMatchObject({ created: true, existing: false });
    expect((await jobDone(first.job.id)).status).toBe('succeeded');
    // A new name is not a new request: the same spec returns the finished run, flagged as such.
    const same = await api().evals.start({ ...input, name: 'second' });
    expect(same).toMatchObject({ created: false, existing: true });
    expect(same.evalRun.id).toBe(first.evalRun.id);
    expect(same.job.status).toBe('succeeded');

    const fresh = await api().evals.start({ ...input, name: 'second', rerun: true });
    expect(fresh).toMatchObject({ created: true, existing: false });
    expect(fresh.evalRun.id).not.toBe(first.evalRun.id);
    expect((await jobDone(fresh.job.id)).status).toBe('succeeded');
    expect(await cellsOf(fresh.evalRun.id)).toHaveLength(2);
    // Each rerun without a key is a run of its own; with a key, repeating the request repeats nothing.
    const keyed = await api().evals.start({ ...input, rerun: true, requestKey: 'rerun-1' });
    const keyedAgain = await api().evals.start({ ...input, rerun: true, requestKey: 'rerun-1' });
    expect(keyed.created).toBe(true);
    expect(keyedAgain).toMatchObject({ created: false, existing: true });
    expect(keyedAgain.evalRun.id).toBe(keyed.evalRun.id);
    expect(new Set([first.evalRun.id, fresh.evalRun.id, keyed.evalRun.id]).size).toBe(3);
  });

  it('bad start input is refused with the field named, and nothing is written', async () => {
    const before = await repos.db.evalRun.count();
    const e = await api().evals.start({ name: 'x', endpointId: 'ghost', spec: spec([500], [0.5]), concurrency: 1 }).catch((err: unknown) => err);
    expect((e as TRPCError).code).toBe('BAD_REQUEST');
    expect((e as TRPCError).message).toMatch(/endpointId: endpoint ghost does not exist/);
    expect(await repos.db.evalRun.count()).toBe(before);
  });

  it('a worker SIGKILLed mid-run is resumed by the next one: every cell exactly once', async () => {
    server.setBehaviour({ kind: 'delay', ms: 150 });
    const w1 = worker();
    const r = await api().evals.start({ name: 'kill', endpointId, spec: spec([300, 500, 700, 900], [0, 0.25, 0.5, 0.75, 1], 3), concurrency: 2 });
    await waitFor('some cells', async () => (await cellsOf(r.evalRun.id)).length >= 4);
    await stopWorker(w1, 'SIGKILL');
    const before = (await cellsOf(r.evalRun.id)).length;
    expect(before).toBeLessThan(20);
    worker();
    const job = await jobDone(r.job.id);
    expect(job.status).toBe('succeeded');
    const cells = await cellsOf(r.evalRun.id);
    expect(cells).toHaveLength(20);
    expect(new Set(cells.map((c) => `${c.contextLength}/${c.depth}/${c.sample}`)).size).toBe(20);
    const events = await repos.jobs.events(r.job.id);
    expect(events.some((e) => /resumed by/.test(e.message))).toBe(true);
  });

  it('cancel stops in-flight requests at once and keeps finished cells', async () => {
    server.setBehaviour({ kind: 'delay', ms: 400 });
    worker();
    const r = await api().evals.start({ name: 'cancel', endpointId, spec: spec([300, 600, 900, 1200], [0, 0.5, 1], 4), concurrency: 2 });
    await waitFor('a finished cell', async () => (await cellsOf(r.evalRun.id)).length >= 1);
    const t0 = Date.now();
    const c = await api().jobs.cancel({ id: r.job.id });
    expect(c.status).toBe('cancelled');
    await new Promise((res) => setTimeout(res, 1000));
    const sent = server.requests.length;
    await new Promise((res) => setTimeout(res, 1200));
    expect(server.requests.length).toBe(sent);
    expect(Date.now() - t0).toBeLessThan(5000);
    const cells = await cellsOf(r.evalRun.id);
    expect(cells.length).toBeGreaterThanOrEqual(1);
    expect(cells.length).toBeLessThan(12);
    expect(cells.every((c2) => c2.error === null && c2.score !== null)).toBe(true);
    expect((await api().evals.get({ id: r.evalRun.id })).status).toBe('cancelled');
    const again = await api().jobs.cancel({ id: r.job.id }).catch((e: unknown) => e);
    expect((again as TRPCError).code).toBe('PRECONDITION_FAILED');
  });

  it('failing requests are recorded, never scored; retry redoes only them', async () => {
    server.setBehaviour({ kind: 'status', status: 500, message: 'CUDA out of memory' });
    worker();
    const r = await api().evals.start({ name: 'retry', endpointId, spec: spec([400, 800], [0, 1], 5), concurrency: 2 });
    // /v1/models still answers, so the run starts; every generation fails.
    const failed = await jobDone(r.job.id).catch(async (e: Error) => {
      throw new Error(`${e.message}; events: ${JSON.stringify((await repos.jobs.events(r.job.id)).map((x) => x.message))}; worker: ${workers.map((w) => (w as unknown as { output: () => string }).output()).join('\n')}`);
    });
    expect(failed.status).toBe('failed');
    // Said once, with the attempts the cells really took: no nested "(after N attempts)".
    expect(failed.error).toBe('4 of 4 cells failed after 2 attempts each; last error: http: HTTP 500: CUDA out of memory; finished cells are kept — retry the job to redo the failed ones');
    const bad = await cellsOf(r.evalRun.id);
    expect(bad).toHaveLength(4);
    expect(bad.every((c) => c.score === null && c.error !== null)).toBe(true);
    server.setBehaviour({ kind: 'answer' });
    const retried = await api().jobs.retry({ id: r.job.id });
    expect(retried.status).toBe('queued');
    const ok = await jobDone(r.job.id);
    expect(ok.status).toBe('succeeded');
    const cells = await cellsOf(r.evalRun.id);
    expect(cells).toHaveLength(4);
    expect(cells.every((c) => c.score === 100)).toBe(true);
  });

  it('an unreachable endpoint is retried with backoff, then fails with a reason a person understands', async () => {
    const dead = await api().endpoints.create({ name: 'dead', url: 'http://127.0.0.1:9/v1', servedModelName: 'x' });
    worker();
    const r = await api().evals.start({ name: 'dead', endpointId: dead.id, spec: spec([400], [0.5]), concurrency: 1 });
    const job = await jobDone(r.job.id, ['failed'], 60_000);
    expect(job.error).toMatch(/endpoint dead \(http:\/\/127\.0\.0\.1:9\/v1\) is unreachable/);
    const statuses = (await repos.jobs.events(r.job.id)).map((e) => e.toStatus);
    expect(statuses).toContain('retrying');
    expect(await repos.db.evalCell.count({ where: { evalRunId: r.evalRun.id } })).toBe(0);
  });
});

describe('NIAH over an imported corpus', () => {
  it('imports a folder of texts with digest and token counts, and sweeps over it', async () => {
    await resetDb();
    const server = await startOpenAITestServer({ model: 'm2' });
    const w = startWorker(`${prefix}-corpus`);
    try {
      const a = createCaller({ ...apiDeps({ ...testSettings(), queuePrefix: `${prefix}-corpus` }), actor: null, source: 'internal' });
      const essay = (i: number) => `Essay ${i}. ` + Array.from({ length: 80 }, (_, k) => `Sentence ${k} of essay ${i} talks about startups and cities.`).join(' ');
      const d = await a.datasets.importCorpus({ name: 'essays', source: 'a folder of .txt files', documents: [1, 2, 3].map((i) => ({ name: `e${i}.txt`, text: essay(i) })) });
      expect(d).toMatchObject({ kind: 'haystack', documents: 3 });
      expect(d.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(d.tokenCounts.llama3).toBeGreaterThan(1000);
      expect(d.tokenCounts.byte).toBeGreaterThanOrEqual(d.bytes);
      const e = await a.endpoints.create({ name: 'srv2', url: server.url, servedModelName: 'm2' });
      const bad = await a.evals.start({ name: 'x', endpointId: e.id, spec: { ...spec([500], [0.5]), corpus: 'nope' }, concurrency: 1 }).catch((x: unknown) => x);
      expect((bad as TRPCError).message).toMatch(/spec\.corpus: no shipped corpus or imported dataset is named nope/);
      const r = await a.evals.start({ name: 'essays', endpointId: e.id, spec: { ...spec([500, 1500], [0, 1]), corpus: 'essays' }, concurrency: 2 });
      const job = await waitFor('done', async () => {
        const j = await repos.jobs.get(r.job.id);
        return ['succeeded', 'failed'].includes(j.status) ? j : null;
      }, 60_000);
      expect(job.status).toBe('succeeded');
      const cells = await repos.db.evalCell.findMany({ where: { evalRunId: r.evalRun.id } });
      expect(cells).toHaveLength(4);
      expect(cells.every((c) => c.score === 100)).toBe(true);
      const dup = await a.datasets.importCorpus({ name: 'essays', source: 'x', documents: [{ name: 'a', text: 'b' }] }).catch((x: unknown) => x);
      expect((dup as TRPCError).code).toBe('CONFLICT');
    } finally {
      await stopWorker(w, 'SIGKILL');
      await server.close();
    }
  }, 90_000);
});
