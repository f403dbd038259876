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
import { cellId, generateNiahCells, type NiahContext, planNiahCells, resolveNiahSpec, runNiahCells } from '@ctxlab/niah';
import { getTokenizer } from '@ctxlab/tokenizers';
import { corpusByName } from '../suites';
import { endpointRunProcessor, Sweep, type SweepDeps } from '../sweep';
import type { NiahEvalPayload } from './payload';

export type NiahProcessorDeps = SweepDeps;

/** The shipped corpora from their packages; any other name is a corpus imported into the registry. */
async function contextFor(repos: Repositories, spec: { corpus: string; tokenizer: string }): Promise<NiahContext> {
  return { corpus: await corpusByName(repos, spec.corpus), tokenizer: getTokenizer(spec.tokenizer) };
}

export function niahEvalProcessor(deps: NiahProcessorDeps) {
  const { repos } = deps;
  return endpointRunProcessor<NiahEvalPayload>(deps, async (run, ctx, job, lease) => {
    const { config } = run;
    const spec = resolveNiahSpec(config.spec);
    const plan = planNiahCells(spec);
    const s = await Sweep.start(deps, ctx, job, run, lease, plan.length);
    return s.guard(async () => {
      const client = await s.client(config.concurrency ?? 4);
      const context = await contextFor(repos, spec);
      await s.cells({
        idOf: (c) => cellId(c.contextLength, c.depth, c.sample),
        cells: (skip) => generateNiahCells(spec, context, { skip }),
        send: (cells, signal, onResult) =>
          runNiahCells(cells, client, {
            mode: config.mode ?? 'chat',
            signal,
            onResult: (r, cell) =>
              onResult({
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
              }),
          }),
      });
      return s.finish(async () => ({}));
    });
  });
}
