/**
 * Orchestration overhead: NIAH cells per second through the API, BullMQ, a real worker process and
 * PostgreSQL, against an OpenAI-compatible server that answers at once with short prompts — so the
 * number is ctxlab's own cost per cell, not a model's. Target: at least 500 cells/s on this machine.
 */
import { apiDeps, createCaller } from '@ctxlab/api';
import { closeAllDbs } from '@ctxlab/db';
import { startOpenAITestServer } from '@ctxlab/niah/testing';
import type { BenchResult } from '@ctxlab/bench';
import { resetDb, testRepos, testSettings } from '@ctxlab/testing/db';
import { startWorker, stopWorker, waitFor } from '@ctxlab/testing/worker';

export default async function bench(): Promise<BenchResult[]> {
  const prefix = `bench-${process.pid}`;
  await resetDb();
  const repos = testRepos();
  const server = await startOpenAITestServer({ model: 'instant' });
  const worker = startWorker(prefix, { REQUEST_TIMEOUT_MS: '10000', NIAH_CONCURRENCY: '2' });
  const api = createCaller({ ...apiDeps({ ...testSettings(), queuePrefix: prefix }), actor: null, source: 'internal' });
  try {
    const endpoint = await api.endpoints.create({ name: 'instant', url: server.url, servedModelName: 'instant' });
    // Warm-up run: the worker loads the tokenizer and corpus once.
    const warm = await api.evals.start({ name: 'warm', endpointId: endpoint.id, concurrency: 8, spec: { variant: 'value', tokenizer: 'llama3', grid: { lengths: { kind: 'list', values: [200] }, depths: { kind: 'list', values: [0.5] } } } });
    await waitFor('warm-up', async () => (await repos.jobs.get(warm.job.id)).status === 'succeeded', 120_000, 50);

    const lengths = { kind: 'linspace' as const, min: 150, max: 250, count: 20 };
    const depths = { kind: 'linspace' as const, min: 0, max: 1, count: 51 };
    const t0 = performance.now();
    const r = await api.evals.start({ name: 'bench', endpointId: endpoint.id, concurrency: 64, spec: { variant: 'value', tokenizer: 'llama3', seed: 9, grid: { lengths, depths } } });
    const job = await waitFor('the benchmark run', async () => {
      const j = await repos.jobs.get(r.job.id);
      return ['succeeded', 'failed'].includes(j.status) ? j : null;
    }, 300_000, 20);
    const seconds = (performance.now() - t0) / 1000;
    const cells = (await repos.reads.cellsPage(r.evalRun.id, { limit: 1 })).total;
    if (job.status !== 'succeeded') throw new Error(`benchmark run ${job.status}: ${job.error}`);
    const rate = cells / seconds;
    const steady = (job.progress as { cellsPerSecond?: number } | null)?.cellsPerSecond ?? null;
    return [
      { suite: 'orchestration', name: `cells through API → queue → worker → PostgreSQL (${cells} cells, end to end)`, value: rate, unit: 'cells/s', target: '≥ 500 cells/s', pass: rate >= 500 },
      ...(steady ? [{ suite: 'orchestration', name: 'worker steady-state rate (from its progress)', value: steady, unit: 'cells/s' }] : []),
      { suite: 'orchestration', name: 'wall time for the run', value: seconds, unit: 's' },
    ];
  } finally {
    await stopWorker(worker);
    await server.close();
    await closeAllDbs();
  }
}
