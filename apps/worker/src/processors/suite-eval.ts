/**
 * Runs a RULER or topic-retrieval run against its endpoint, the way NIAH sweeps run (see
 * ./sweep.ts): under the job's lease, each finished cell stored once (unique by run, task, length,
 * depth and sample; finished cells skipped on resume), failed requests recorded and never scored,
 * cancel at once. The prompts, scores and summary come from @ctxlab/jobs' suites module.
 */
import { suiteSpecSchema } from '@ctxlab/contracts';
import { buildSuiteCell, suiteCellId, suiteCells, suiteContext, type SuiteCellKey, type SuiteCellRequest, suiteSummary } from '@ctxlab/jobs';
import type { OpenAIClient } from '@ctxlab/niah';
import { jobCatalog } from '@ctxlab/queue';
import { runWithEndpoint, Sweep, type SweepDeps, sweepProcessor } from './sweep';

export function suiteEvalProcessor(deps: SweepDeps) {
  const { repos } = deps;
  return sweepProcessor(deps, (bullJob) => jobCatalog['suite-eval'].parse(bullJob.data), async (bullJob, job, evalRunId, lease) => {
    const run = await runWithEndpoint(deps, job.id, evalRunId, lease);
    if (!run) return { failed: 'missing run or endpoint' };
    const config = run.config as { spec: unknown; concurrency?: number; mode?: 'chat' | 'completion-ids' };
    const spec = suiteSpecSchema.parse(config.spec);
    const keys = suiteCells(spec);
    const { sweep: s, finished } = await Sweep.start(deps, bullJob, job, run, lease, keys.length, () =>
      repos.db.evalCell.findMany({ where: { evalRunId: run.id }, select: { task: true, contextLength: true, sample: true, score: true } }),
    );
    const done = new Set(finished.map(suiteCellId));
    return s.guard(async () => {
      const client = await s.client(config.concurrency ?? 4);
      const ctx = await suiteContext(repos, spec);
      const todo = keys.filter((k) => !done.has(suiteCellId(k)));
      await s.whileHeld(todo[Symbol.iterator](), (cells) =>
        sendCells(cells, client, s.ctl.signal, config.mode ?? 'chat', (key) => buildSuiteCell(spec, ctx, key), (key, r) => {
          // An aborted request (cancel, lost lease) is not a result: it is neither stored nor scored.
          if (s.stopped() && r.error) return;
          s.record({ evalRunId: run.id, task: key.task, contextLength: key.contextLength, sample: key.sample, ...r });
        }),
      );
      return s.finish(async () => {
        const cells = await repos.db.evalCell.findMany({ where: { evalRunId: run.id }, select: { task: true, contextLength: true, score: true } });
        return { ...suiteSummary(spec, cells) };
      });
    });
  });
}

interface CellOutcome {
  depth: number;
  promptTokens: number | null;
  expected: string | null;
  response: string | null;
  score: number | null;
  latencyMs: number | null;
  error: string | null;
  attempts: number;
}

/**
 * Sends cells `client.concurrency` at a time (errors read as NIAH's: "kind: message (after N
 * attempts)", which the run's final message counts), building each prompt only when a slot frees up. A
 * request that failed after its retries is recorded with its error and no score.
 */
async function sendCells(
  cells: Iterable<SuiteCellKey>,
  client: OpenAIClient,
  signal: AbortSignal,
  mode: 'chat' | 'completion-ids',
  build: (key: SuiteCellKey) => SuiteCellRequest,
  onResult: (key: SuiteCellKey, r: CellOutcome) => void,
) {
  const it = cells[Symbol.iterator]();
  const slot = async () => {
    for (;;) {
      if (signal.aborted) return;
      const next = it.next();
      if (next.done) return;
      const key = next.value;
      let cell: SuiteCellRequest;
      try {
        cell = build(key);
      } catch (e) {
        onResult(key, { depth: 0, promptTokens: null, expected: null, response: null, score: null, latencyMs: null, error: `prompt: ${(e as Error).message}`, attempts: 0 });
        continue;
      }
      const gen = { maxTokens: cell.maxTokens, temperature: 0, signal };
      const o = mode === 'completion-ids' ? await client.complete(cell.promptIds, gen) : await client.chat(cell.messages, gen);
      const base = { depth: cell.depth, promptTokens: cell.promptTokens, expected: cell.expected.join(' | '), latencyMs: Math.round(o.latencyMs), attempts: o.attempts };
      onResult(key, o.ok ? { ...base, response: o.text, score: cell.score(o.text), error: null } : { ...base, response: null, score: null, error: `${o.kind}: ${o.error} (after ${o.attempts} attempt${o.attempts === 1 ? '' : 's'})` });
    }
  };
  await Promise.all(Array.from({ length: client.concurrency }, slot));
}
