/**
 * Runs one NIAH sweep against the eval run's endpoint. PostgreSQL is the truth: each finished cell
 * is written as it completes (unique by run, length, depth and sample), so a restarted worker
 * resumes without redoing finished cells, and no cell is ever written twice. A failed request is
 * recorded with its error and never scored. One worker runs a job at a time: the run holds the
 * job's lease in PostgreSQL, sends a request only while it holds it, and writes cells only under it
 * — a second delivery of the job by the queue (a Redis that forgot it, a stalled lock) finds the
 * lease held and leaves the job to its holder.
 */
import type { Repositories } from '@ctxlab/db';
import { corpusByName, type JobLease } from '@ctxlab/jobs';
import { cellId, generateNiahCells, type NiahContext, planNiahCells, resolveNiahSpec, runNiahCells } from '@ctxlab/niah';
import { getTokenizer } from '@ctxlab/tokenizers';
import { jobCatalog } from '@ctxlab/queue';
import type { Job } from 'bullmq';
import { localCheckJob } from './local-check';
import { type EndpointRow, type EvalRunRow, runWithEndpoint, Sweep, type SweepDeps, sweepProcessor } from './sweep';

export type NiahProcessorDeps = SweepDeps;

/** The shipped corpora from their packages; any other name is a corpus imported into the registry. */
async function contextFor(repos: Repositories, spec: { corpus: string; tokenizer: string }): Promise<NiahContext> {
  return { corpus: await corpusByName(repos, spec.corpus), tokenizer: getTokenizer(spec.tokenizer) };
}

export function niahEvalProcessor(deps: NiahProcessorDeps) {
  const { repos } = deps;
  return sweepProcessor(deps, (bullJob) => jobCatalog['niah-eval'].parse(bullJob.data), async (bullJob, job, evalRunId, lease) => {
    const jobId = job.id;
    const check = await repos.evals.withEndpoint(evalRunId);
    if (check && check.kind !== 'niah') {
      // Local checks (perplexity, round trips) of a lab model run here, on onnxruntime-node.
      let cancelled = false;
      const unsubscribe = deps.onCancel(jobId, () => (cancelled = true));
      try {
        return await localCheckJob(repos, jobId, check, deps.workerName, lease, () => cancelled);
      } finally {
        unsubscribe();
      }
    }
    const run = await runWithEndpoint(deps, jobId, evalRunId, lease);
    if (!run) return { failed: 'missing run or endpoint' };
    return sweep(deps, bullJob, job, run, lease);
  });
}

async function sweep(deps: NiahProcessorDeps, bullJob: Job, job: { id: string; status: string }, run: EvalRunRow & { endpoint: EndpointRow }, lease: JobLease) {
  const { repos } = deps;
  const config = run.config as { spec: unknown; concurrency?: number; mode?: 'chat' | 'completion-ids' };
  const spec = resolveNiahSpec(config.spec as never);
  const keys = planNiahCells(spec);
  const { sweep: s, finished } = await Sweep.start(deps, bullJob, job, run, lease, keys.length, () => repos.evals.cellKeys(run.id));
  const done = new Set(finished.map((c) => cellId(c.contextLength, c.depth, c.sample)));
  return s.guard(async () => {
    const client = await s.client(config.concurrency ?? 4);
    const ctx = await contextFor(repos, spec);
    await s.whileHeld(generateNiahCells(spec, ctx, { skip: done }), (cells) =>
      runNiahCells(cells, client, {
        mode: config.mode ?? 'chat',
        signal: s.ctl.signal,
        onResult: (r, cell) => {
          // An aborted request (cancel, lost lease) is not a result: it is neither stored nor scored.
          if (s.stopped() && r.error) return;
          s.record({
            evalRunId: run.id,
            contextLength: r.length,
            depth: r.depth,
            sample: r.sample,
            promptTokens: r.promptTokens,
            needleToken: cell.needleTokenPositions[0] ?? null,
            needle: r.needle,
            expected: r.expected.join('\n'),
            response: r.response,
            score: r.score,
            latencyMs: r.latencyMs === null ? null : Math.round(r.latencyMs),
            error: r.error,
          });
        },
      }),
    );
    return s.finish(async () => ({}));
  });
}
