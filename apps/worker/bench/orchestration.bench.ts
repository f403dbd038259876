/**
 * Orchestration overhead: NIAH cells per second through the API, BullMQ, a real worker process and
 * PostgreSQL, against an OpenAI-compatible server that answers at once with short prompts — so the
 * number is ctxlab's own cost per cell, not a model's. Each sweep is timed from the API call that
 * submits it to the moment PostgreSQL says its run succeeded, and its cells are counted there.
 * Target: at least 1,000 cells/s, the median of 5 sweeps after a warm-up sweep of the same size.
 *
 * Where the time went comes from each sweep's own stage clock (libs/jobs/src/sweep/stages.ts, kept
 * in the job's progress), as shares of the sweep's wall time, median over the sweeps. The stages
 * overlap — requests are in flight while the worker builds prompts, scores and writes — so the
 * shares do not add up to 100 %: the largest one on the worker's thread is the next bottleneck.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { apiDeps, createCaller } from '@ctxlab/api';
import { closeAllDbs } from '@ctxlab/db';
import type { SweepStages } from '@ctxlab/jobs';
import { startOpenAITestServer } from '@ctxlab/niah/testing';
import { median, repeated, type BenchResult } from '@ctxlab/bench';
import { resetDb, testRepos, testSettings } from '@ctxlab/testing/db';
import { startWorker, stopWorker } from '@ctxlab/testing/worker';

const SUITE = 'orchestration';
const TARGET = 1000;
const CONCURRENCY = 64;
// 40 lengths × 51 depths of ~150–350-token prompts: long enough that the fixed cost of a run
// (queue hand-over, start, finish) is a small part of it, short enough for six sweeps in a minute.
const SPEC = {
  variant: 'value' as const,
  tokenizer: 'llama3' as const,
  seed: 9,
  grid: { lengths: { kind: 'linspace' as const, min: 150, max: 345, count: 40 }, depths: { kind: 'linspace' as const, min: 0, max: 1, count: 51 } },
};

interface Sweep {
  cells: number;
  wallMs: number;
  submitMs: number;
  /** The moment (epoch ms) the bench saw the run succeeded, for the finish stage. */
  endedAt: number;
  /** CPU time of this process (the API, the model server, the polling) during the sweep. */
  benchCpuMs: number;
  stages: SweepStages;
}

/** Each stage's share of a sweep's wall time (%); see stages.ts for what each one covers. */
function shares(s: Sweep): Record<string, number> {
  const { stages: t, wallMs } = s;
  const pct = (ms: number) => (100 * ms) / wallMs;
  return {
    'API submit (run and job created, queued)': pct(s.submitMs),
    'queue wait (enqueued → taken by the worker)': pct(t.queuedAt !== null && t.pickedUpAt !== null ? t.pickedUpAt - t.queuedAt : Number.NaN),
    'start-up (taken → first cell)': pct(t.firstCellAt !== null && t.pickedUpAt !== null ? t.firstCellAt - t.pickedUpAt : Number.NaN),
    'prompt building (worker thread)': pct(t.promptMs),
    'model requests (request slots occupied)': pct(t.requestMs / Math.max(1, t.concurrency)),
    'scoring (worker thread)': pct(t.scoreMs),
    'cell writes (PostgreSQL batches, one at a time)': pct(t.writeMs),
    'finish (last write → run succeeded)': pct(t.lastWriteAt !== null ? s.endedAt - t.lastWriteAt : Number.NaN),
  };
}

export default async function bench(): Promise<BenchResult[]> {
  const prefix = `bench-${process.pid}`;
  await resetDb();
  const repos = testRepos();
  const server = await startOpenAITestServer({ model: 'instant' });
  // The worker as shipped: its background loops (reconcile, scheduling, pool reports, lock checks)
  // at their defaults, not the sped-up ones tests use to see them act within a test's time.
  const worker = startWorker(prefix, {
    REQUEST_TIMEOUT_MS: '10000',
    REQUEST_ATTEMPTS: '5',
    NIAH_CONCURRENCY: '2',
    WORKER_LOCK_MS: '30000',
    RECONCILE_MS: '15000',
    SCHEDULER_EVERY_MS: '2000',
    POOL_REPORT_EVERY_MS: '15000',
  });
  const api = createCaller({ ...apiDeps({ ...testSettings(), queuePrefix: prefix }), actor: null, source: 'internal' });
  try {
    const endpoint = await api.endpoints.create({ name: 'instant', url: server.url, servedModelName: 'instant' });

    const sweep = async (run: number): Promise<Sweep> => {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const started = await api.evals.start({ name: `bench ${run}`, endpointId: endpoint.id, concurrency: CONCURRENCY, spec: SPEC, rerun: true });
      const submitMs = performance.now() - t0;
      // Polled often: the poll's lag is part of the measured time, never subtracted from it. A run
      // that vanished (another process emptied the test database) fails the bench at once.
      let ended = await repos.evals.get(started.evalRun.id);
      while (!['succeeded', 'failed', 'cancelled'].includes(ended.status)) {
        if (performance.now() - t0 > 300_000) throw new Error(`sweep ${run} did not end within 5 minutes`);
        await sleep(20);
        ended = await repos.evals.get(started.evalRun.id);
      }
      const wallMs = performance.now() - t0;
      const endedAt = Date.now();
      const cpu = process.cpuUsage(cpu0);
      if (ended.status !== 'succeeded') throw new Error(`sweep ${run} ${ended.status}: ${(await repos.jobs.get(started.job.id)).error}`);
      const cells = (await repos.reads.cellsPage(started.evalRun.id, { limit: 1 })).total;
      if (cells !== started.evalRun.cellsTotal) throw new Error(`sweep ${run} stored ${cells} of its ${started.evalRun.cellsTotal} cells`);
      const stages = ((await repos.jobs.get(started.job.id)).progress as { stages?: SweepStages } | null)?.stages;
      if (!stages) throw new Error(`sweep ${run} recorded no stage timings`);
      return { cells, wallMs, submitMs, endedAt, benchCpuMs: (cpu.user + cpu.system) / 1000, stages };
    };

    // The warm-up sweep loads the tokenizer and corpus and warms the JIT of both processes.
    const r = await repeated(sweep, { runs: 5, warmup: 1 });
    const rates = r.results.map((s) => s.cells / (s.wallMs / 1000));
    const rate = median(rates);
    const cells = r.results[0]!.cells;
    const shareRows = Object.keys(shares(r.results[0]!)).map((name): BenchResult => ({
      suite: SUITE,
      name: `share of wall time: ${name}`,
      value: median(r.results.map((s) => shares(s)[name]!)),
      unit: '%',
    }));
    const perCell = (f: (t: SweepStages) => number) => median(r.results.map((s) => (1000 * f(s.stages)) / s.cells));
    return [
      {
        suite: SUITE,
        name: `cells through API → queue → worker → PostgreSQL (${cells} cells a sweep, median of ${rates.length}, submit → succeeded)`,
        value: rate,
        unit: 'cells/s',
        target: `≥ ${TARGET}`,
        pass: rate >= TARGET,
        note: `concurrency ${CONCURRENCY}; sweeps: ${rates.map((x) => x.toFixed(0)).join(', ')} cells/s`,
      },
      { suite: SUITE, name: 'slowest sweep', value: Math.min(...rates), unit: 'cells/s' },
      { suite: SUITE, name: 'fastest sweep', value: Math.max(...rates), unit: 'cells/s' },
      { suite: SUITE, name: 'sweep wall time (median)', value: median(r.results.map((s) => s.wallMs)) / 1000, unit: 's' },
      ...shareRows,
      { suite: SUITE, name: 'worker event loop busy during the sweep', value: 100 * median(r.results.map((s) => s.stages.eventLoopBusy)), unit: '%' },
      { suite: SUITE, name: 'worker process CPU per cell', value: perCell((t) => t.cpuMs), unit: 'µs' },
      { suite: SUITE, name: 'bench process CPU per cell (API, model server, polling)', value: median(r.results.map((s) => (1000 * s.benchCpuMs) / s.cells)), unit: 'µs' },
      { suite: SUITE, name: 'worker thread per cell: prompt building', value: perCell((t) => t.promptMs), unit: 'µs' },
      { suite: SUITE, name: 'worker thread per cell: scoring', value: perCell((t) => t.scoreMs), unit: 'µs' },
      { suite: SUITE, name: 'model request round trip (median sweep; slots overlap)', value: perCell((t) => t.requestMs) / 1000, unit: 'ms' },
      { suite: SUITE, name: 'cell writes: cells per batch (median sweep)', value: median(r.results.map((s) => s.stages.cells / Math.max(1, s.stages.writes))), unit: 'cells' },
    ];
  } finally {
    await stopWorker(worker);
    await server.close();
    await closeAllDbs();
  }
}
