import type { NiahSpecInput } from '@ctxlab/contracts';
import { startOpenAITestServer, type OpenAITestServer } from '@ctxlab/niah/testing';
import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiDeps, createCaller } from '@ctxlab/api';
import { resetDb, testRepos, testSettings } from '@ctxlab/testing/db';
import { managedPostgresDir, managedRedisPort, restartPostgres, restartRedis } from '@ctxlab/testing/services';
import { startWorker, stopWorker, jobFinished, waitFor } from '@ctxlab/testing/worker';

const prefix = `niahres-${process.pid}`;
const api = () => createCaller({ ...apiDeps({ ...testSettings(), queuePrefix: prefix }), actor: null, source: 'internal' });
const repos = testRepos();
const spec = (seed: number): NiahSpecInput => ({
  variant: 'value',
  tokenizer: 'llama3',
  grid: { lengths: { kind: 'list', values: [300, 500, 700, 900] }, depths: { kind: 'list', values: [0, 0.25, 0.5, 0.75, 1] } },
  seed,
});

/** Servers going away under a running sweep: the run completes, every cell exactly once. */
describe('NIAH evals survive their servers restarting', () => {
  let server: OpenAITestServer;
  let endpointId: string;
  const workers: ChildProcess[] = [];
  beforeAll(async () => {
    await resetDb();
    server = await startOpenAITestServer({ model: 'm', behaviour: { kind: 'delay', ms: 120 } });
    endpointId = (await api().endpoints.create({ name: 'srv', url: server.url, servedModelName: 'm' })).id;
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => stopWorker(w, 'SIGKILL')));
  });
  afterAll(() => server.close());

  const finished = (jobId: string) => jobFinished(repos, jobId, 90_000, 250);

  async function exactlyOnce(evalRunId: string) {
    const cells = await repos.db.evalCell.findMany({ where: { evalRunId } });
    expect(cells).toHaveLength(20);
    expect(new Set(cells.map((c) => `${c.contextLength}/${c.depth}/${c.sample}`)).size).toBe(20);
    expect(cells.every((c) => c.score === 100)).toBe(true);
  }

  // Each outage mid-run, where the test owns the server it takes down.
  const outages = [
    { title: 'Redis restarted mid-run (its queues lost): workers reconnect, the job is re-queued from PostgreSQL and completes', owned: managedRedisPort, name: 'redis', seed: 11, restart: () => restartRedis(1000) },
    { title: 'PostgreSQL briefly down mid-run: no cell lost or duplicated', owned: managedPostgresDir, name: 'pg', seed: 12, restart: () => restartPostgres(1500) },
  ];
  for (const o of outages) {
    it.skipIf(!o.owned())(o.title, async () => {
      workers.push(startWorker(prefix));
      const r = await api().evals.start({ name: o.name, endpointId, spec: spec(o.seed), concurrency: 2 });
      await waitFor('some cells', async () => (await repos.db.evalCell.count({ where: { evalRunId: r.evalRun.id } })) >= 3, 30_000);
      await o.restart();
      const job = await finished(r.job.id);
      expect(job.status).toBe('succeeded');
      await exactlyOnce(r.evalRun.id);
    }, 120_000);
  }
});
