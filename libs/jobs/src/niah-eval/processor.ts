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
import type { NiahCellResult } from '@ctxlab/contracts';
import { cellId, generateNiahCells, type NiahCell, type NiahContext, type OpenAIClient, planNiahCells, resolveNiahSpec, toCellResult } from '@ctxlab/niah';
import { getTokenizer } from '@ctxlab/tokenizers';
import { corpusByName } from '../suites';
import { endpointRunProcessor, type StageClock, Sweep, type SweepDeps } from '../sweep';
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
          sendNiahCells(cells, client, s.clock, {
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

/**
 * Sends cells as @ctxlab/niah's runNiahCells does — `client.concurrency` at a time, the next cell
 * (and so its prompt) pulled only when a slot frees up, results in completion order — with each
 * answer's scoring timed on the sweep's clock (the client times the requests, the sweep the prompts).
 */
async function sendNiahCells(
  cells: Iterable<NiahCell>,
  client: OpenAIClient,
  clock: StageClock,
  opts: { mode: 'chat' | 'completion-ids'; signal: AbortSignal; onResult: (result: NiahCellResult, cell: NiahCell) => void },
): Promise<void> {
  const it = cells[Symbol.iterator]();
  const slot = async () => {
    while (!opts.signal.aborted) {
      const next = it.next();
      if (next.done) return;
      const cell = next.value;
      const gen = { maxTokens: cell.maxTokens, temperature: cell.temperature, signal: opts.signal };
      const outcome = opts.mode === 'completion-ids' ? await client.complete(cell.promptIds, gen) : await client.chat(cell.messages, gen);
      const t0 = performance.now();
      const result = toCellResult(cell, outcome);
      clock.score(performance.now() - t0);
      opts.onResult(result, cell);
    }
  };
  await Promise.all(Array.from({ length: client.concurrency }, slot));
}
