/**
 * Runs a suite run (RULER, topic retrieval, LongBench, InfiniteBench, MMLU, endpoint perplexity)
 * against its endpoint, the way NIAH sweeps run (see ../sweep): under the job's lease, each
 * finished cell stored once (unique by run, task, length, depth and sample; finished cells skipped
 * on resume), failed requests recorded and never scored, cancel at once. The prompts, scores and
 * summary come from ../suites.
 */
import { mmluLetterFromLogprobs, mmluLetterFromText, perplexityFromLogprobs } from '@ctxlab/capability';
import { suiteSpecSchema } from '@ctxlab/contracts';
import type { OpenAIClient } from '@ctxlab/niah';
import type { ChatMessage } from '@ctxlab/tokenizers';
import { buildSuiteCell, suiteCellId, suiteCells, suiteContext, type SuiteCellKey, type SuiteCellRequest, suiteSummary } from '../suites';
import { endpointRunProcessor, Sweep, type SweepDeps } from '../sweep';
import type { SuiteEvalPayload } from './payload';

export function suiteEvalProcessor(deps: SweepDeps) {
  const { repos } = deps;
  return endpointRunProcessor<SuiteEvalPayload>(deps, async (run, ctx, job, lease) => {
    const { config } = run;
    const spec = suiteSpecSchema.parse(config.spec);
    const suite = await suiteContext(repos, spec);
    const keys = suiteCells(spec, suite);
    const s = await Sweep.start(deps, ctx, job, run, lease, keys.length);
    return s.guard(async () => {
      const client = await s.client(config.concurrency ?? 4);
      if (spec.suite === 'mmlu') suite.mmluScoring = spec.scoring === 'auto' ? await mmluScoringOf(client, s.ctl.signal) : spec.scoring;
      await s.cells({
        idOf: suiteCellId,
        cells: (skip) => keys.filter((k) => !skip.has(suiteCellId(k))),
        send: (cells, signal, onResult) =>
          sendCells(cells, client, signal, config.mode ?? 'chat', (key) => buildSuiteCell(spec, suite, key), (key, r) =>
            onResult({ evalRunId: run.id, task: key.task, contextLength: key.contextLength, sample: key.sample, ...r }),
          ),
      });
      return s.finish(async () => {
        return { ...suiteSummary(spec, await repos.evals.cellScores(run.id), suite.mmluScoring) };
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
      const o = await ask(client, cell, mode, signal);
      const base = { depth: cell.depth, promptTokens: cell.promptTokens, expected: cell.expected.join(' | '), latencyMs: Math.round(o.latencyMs), attempts: o.attempts };
      onResult(key, o.ok ? { ...base, response: o.response, score: o.score, error: null } : { ...base, response: null, score: null, error: `${o.kind}: ${o.error} (after ${o.attempts} attempt${o.attempts === 1 ? '' : 's'})` });
    }
  };
  await Promise.all(Array.from({ length: client.concurrency }, slot));
}

type Asked = { ok: true; response: string; score: number; latencyMs: number; attempts: number } | { ok: false; kind: string; error: string; latencyMs: number; attempts: number };

/** One cell's request as its `ask` says, and its score (a failed request is returned as failed, never scored). */
async function ask(client: OpenAIClient, cell: SuiteCellRequest, mode: 'chat' | 'completion-ids', signal: AbortSignal): Promise<Asked> {
  const gen = { maxTokens: cell.maxTokens, temperature: 0, signal };
  switch (cell.ask ?? 'generate') {
    case 'prompt-logprobs': {
      const o = await client.promptLogprobs(cell.promptIds, { signal });
      if (!o.ok) return o;
      const ppl = perplexityFromLogprobs(o.logprobs, cell.promptIds.length);
      if (ppl === null) return { ok: false, kind: 'invalid-response', error: `the endpoint returned ${o.logprobs.length} prompt logprobs for ${cell.promptIds.length} tokens`, latencyMs: o.latencyMs, attempts: o.attempts };
      return { ok: true, response: `perplexity ${ppl.perplexity.toFixed(4)} · mean NLL ${ppl.nll.toFixed(6)} over ${ppl.tokens} tokens`, score: ppl.perplexity, latencyMs: o.latencyMs, attempts: o.attempts };
    }
    case 'letter-logprobs': {
      const o = mode === 'completion-ids' ? await client.completeTopLogprobs(cell.promptIds, { ...gen, maxTokens: 1, topLogprobs: 20 }) : await client.chatTopLogprobs(cell.messages, { ...gen, maxTokens: 1, topLogprobs: 20 });
      if (!o.ok) return o;
      const best = mmluLetterFromLogprobs(o.top);
      const letter = best?.letter ?? null;
      return { ok: true, response: letter ? `${letter} (logprob ${best!.logprob.toFixed(4)}; reply ${JSON.stringify(o.text)})` : `no answer letter among the top logprobs (reply ${JSON.stringify(o.text)})`, score: letter ? cell.score(letter) : 0, latencyMs: o.latencyMs, attempts: o.attempts };
    }
    default: {
      const raw = cell.ask === 'complete' || mode === 'completion-ids';
      const o = raw ? await client.complete(cell.promptIds, gen) : await client.chat(cell.messages, gen);
      if (!o.ok) return o;
      if (!cell.letter) return { ok: true, response: o.text, score: cell.score(o.text), latencyMs: o.latencyMs, attempts: o.attempts };
      const letter = mmluLetterFromText(o.text);
      return { ok: true, response: o.text, score: letter ? cell.score(letter) : 0, latencyMs: o.latencyMs, attempts: o.attempts };
    }
  }
}

/**
 * MMLU's `auto` scoring: logprobs when the endpoint returns top logprobs for a one-token reply (vLLM
 * does), the generated letter otherwise; one probe request per run start decides.
 */
async function mmluScoringOf(client: OpenAIClient, signal: AbortSignal): Promise<'logprobs' | 'generate'> {
  const probe: ChatMessage[] = [{ role: 'user', content: 'Answer with one letter: A, B, C or D.\nAnswer:' }];
  const o = await client.chatTopLogprobs(probe, { maxTokens: 1, topLogprobs: 5, temperature: 0, signal });
  return o.ok && o.top.length > 0 ? 'logprobs' : 'generate';
}
