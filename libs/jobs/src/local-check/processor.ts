/**
 * Local checks of a lab model on this worker's onnxruntime-node, stored as an eval run's cells:
 *  - perplexity: one cell per (length, sample); score = perplexity of a held-out text window of
 *    that many tokens, RoPE base from the run's theta rule (response: the theta and the
 *    perplexity of the positions beyond the model's trained length);
 *  - roundtrip: per sample, decode(encode(text)) for the byte and Llama-3 tokenizers (English and
 *    Chinese text), and the engine's KV-cache path against one full prefill; score 100 = pass.
 * Cells are written as they finish, so a retried or resumed job skips what is done. The run holds
 * the job's lease: it computes a cell only while it holds it and writes cells only under it.
 * The model runs on the worker's inference engine (onnxruntime-node), which the worker hands in.
 */
import { localCheckSpecSchema, type EvalRunConfig, type LocalCheckSpec } from '@ctxlab/contracts';
import { LeaseLostError, type Repositories } from '@ctxlab/db';
import { DEFAULT_CORPORA, loadDefaultCorpus } from '@ctxlab/niah/node';
import { getTokenizer } from '@ctxlab/tokenizers';
import { fileURLToPath } from 'node:url';
import type { JobContext } from '../context';
import { type JobLease } from '../lease';
import { canTransition } from '../statuses';
import { evalRunProcessor } from '../sweep';
import type { LocalCheckPayload } from './payload';

/** What a local check asks of the worker's inference engine (@ctxlab/inference), over its session type `S`. */
export interface LocalInference<S = unknown> {
  session(file: string, threads: number): Promise<S>;
  servedModelFromPath(path: string, opts: { theta?: number }): { file: string };
  thetaFor(rule: Extract<LocalCheckSpec, { kind: 'perplexity' }>['thetaRule'], model: { theta: number; trainedLength: number; headDim: number }, length: number): number;
  sequencePerplexity(s: S, shape: ModelShape, ids: readonly number[], theta: number, splitAt?: number): Promise<{ perplexity: number; prefillMs: number; tailPerplexity: number | null }>;
  engineRoundTrip(s: S, shape: ModelShape, ids: readonly number[], theta: number, k?: number): Promise<{ sameArgmax: boolean; maxAbsLogitDiff: number; positions: number }>;
  tokenizerRoundTrip(name: 'byte' | 'llama3', text: string): { ok: boolean; tokens: number; firstDifference: number | null };
}
type ModelShape = { numLayers: number; numKeyValueHeads: number; headDim: number; vocabSize: number };

type Run = { id: string; modelId: string | null; config: EvalRunConfig; startedAt: Date | null };

let heldOut: { text: string; bytes: number[] } | null = null;
/** Held-out English text (the addresses from 2001 on; the lab models train on the earlier ones) and its bytes, built once per process. */
function heldOutText(): { text: string; bytes: number[] } {
  if (!heldOut) {
    const docs = loadDefaultCorpus(DEFAULT_CORPORA.en).documents;
    const late = docs.filter((d) => Number(/(\d{4})/.exec(d.name)?.[1] ?? 0) >= 2001);
    const text = (late.length ? late : docs.slice(-Math.max(1, Math.floor(docs.length / 10)))).map((d) => d.text).join('\n\n');
    heldOut = { text, bytes: Array.from(getTokenizer('byte').encode(text)) };
  }
  return heldOut;
}

/** Deterministic window start for (seed, length, sample). */
function windowStart(seed: number, length: number, sample: number, span: number): number {
  let h = (seed * 2654435761 + length * 40503 + sample * 97) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 2246822519) >>> 0;
  return span > 0 ? h % span : 0;
}

export async function runLocalCheck(
  engine: LocalInference,
  repos: Repositories,
  lease: JobLease,
  run: Run,
  opts: { isCancelled: () => boolean; progress: (done: number, total: number, extra: Record<string, unknown>) => Promise<void> },
) {
  const spec: LocalCheckSpec = localCheckSpecSchema.parse(run.config.spec);
  if (!run.modelId) throw new Error('the check has no model');
  const m = await repos.models.get(run.modelId);
  if (!m.sourceUri?.startsWith('file:///')) throw new Error(`model ${m.name} has no local weights`);
  // A lab model directory or a bare .onnx, as the model server reads it (theta comes from the rule).
  const s = await engine.session(engine.servedModelFromPath(fileURLToPath(m.sourceUri), { theta: m.ropeTheta }).file, 1);
  const shape = { numLayers: m.numLayers, numKeyValueHeads: m.numKeyValueHeads, headDim: m.headDim, vocabSize: m.vocabSize };
  const done = new Set((await repos.evals.cellKeys(run.id)).map((c) => `${c.contextLength}|${c.depth}|${c.sample}`));
  const tok = getTokenizer('byte');
  const { text, bytes } = heldOutText();
  let count = done.size;

  if (spec.kind === 'perplexity') {
    const lengths = [...new Set(spec.lengths)].sort((a, b) => a - b);
    const total = lengths.length * spec.samples;
    const model = { theta: m.ropeTheta, trainedLength: m.maxPositionEmbeddings, headDim: m.headDim };
    for (const L of lengths) {
      const theta = engine.thetaFor(spec.thetaRule, model, L);
      for (let sample = 0; sample < spec.samples; sample++) {
        if (opts.isCancelled()) return { cancelled: true };
        if (done.has(`${L}|0|${sample}`)) continue;
        if (!(await lease.ensure())) return { leftTo: lease.lostTo ?? null };
        const start = windowStart(spec.seed, L, sample, bytes.length - L);
        const ids = [tok.special.bos.id, ...bytes.slice(start, start + L - 1)];
        const r = await engine.sequencePerplexity(s, shape, ids, theta, m.maxPositionEmbeddings);
        await lease.write((tx) => repos.evals.storeCells([{
          evalRunId: run.id, contextLength: L, depth: 0, sample, promptTokens: ids.length, score: r.perplexity, latencyMs: Math.round(r.prefillMs),
          expected: `perplexity at θ ${Math.round(theta).toLocaleString('en-US')}`,
          response: `θ ${Math.round(theta)} · perplexity ${r.perplexity.toFixed(3)}${r.tailPerplexity !== null ? ` · beyond ${m.maxPositionEmbeddings} tokens ${r.tailPerplexity.toFixed(3)}` : ''}`,
        }], tx));
        count++;
        await opts.progress(count, total, { length: L, theta, perplexity: r.perplexity });
      }
    }
    const cells = await repos.evals.cellScores(run.id);
    const perLength = lengths.map((L) => {
      const xs = cells.filter((c) => c.contextLength === L && c.score !== null).map((c) => c.score!);
      return { length: L, theta: engine.thetaFor(spec.thetaRule, model, L), perplexity: xs.length ? Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length) : null };
    });
    return { kind: 'perplexity', total, done: total, perLength };
  }

  // Round trips: tokenizers on English and Chinese windows, and the engine's cache path.
  const zh = loadDefaultCorpus(DEFAULT_CORPORA.zh).text;
  const total = spec.samples * 3;
  let failed = 0;
  for (let sample = 0; sample < spec.samples; sample++) {
    const at = windowStart(spec.seed, spec.length, sample, text.length - spec.length);
    const zat = windowStart(spec.seed + 1, spec.length, sample, zh.length - spec.length);
    const tokenizerCheck = (name: 'byte' | 'llama3') => async () => {
      const a = engine.tokenizerRoundTrip(name, text.slice(at, at + spec.length));
      const b = engine.tokenizerRoundTrip(name, zh.slice(zat, zat + spec.length));
      return { ok: a.ok && b.ok, tokens: a.tokens + b.tokens, detail: `en ${a.tokens} tokens ${a.ok ? 'exact' : `differs at ${a.firstDifference}`} · zh ${b.tokens} tokens ${b.ok ? 'exact' : `differs at ${b.firstDifference}`}` };
    };
    const checks: { depth: number; name: string; run: () => Promise<{ ok: boolean; detail: string; tokens: number }> }[] = [
      { depth: 0, name: 'tokenizer byte (en + zh)', run: tokenizerCheck('byte') },
      { depth: 0.5, name: 'tokenizer llama3 (en + zh)', run: tokenizerCheck('llama3') },
      {
        depth: 1, name: 'engine KV cache vs full prefill', run: async () => {
          const start = windowStart(spec.seed, spec.length, sample, bytes.length - spec.length);
          const ids = [tok.special.bos.id, ...bytes.slice(start, start + spec.length - 1)];
          const r = await engine.engineRoundTrip(s, shape, ids, m.ropeTheta, 8);
          return { ok: r.sameArgmax && r.maxAbsLogitDiff < 1e-3, tokens: ids.length, detail: `max |logit diff| ${r.maxAbsLogitDiff.toExponential(2)} over the last ${r.positions} positions · ${r.sameArgmax ? 'same' : 'DIFFERENT'} argmax` };
        },
      },
    ];
    for (const c of checks) {
      if (opts.isCancelled()) return { cancelled: true };
      if (done.has(`${spec.length}|${c.depth}|${sample}`)) continue;
      if (!(await lease.ensure())) return { leftTo: lease.lostTo ?? null };
      const t0 = performance.now();
      const r = await c.run();
      if (!r.ok) failed++;
      await lease.write((tx) => repos.evals.storeCells(
        [{ evalRunId: run.id, contextLength: spec.length, depth: c.depth, sample, promptTokens: r.tokens, needle: c.name, expected: 'exact', response: r.detail, score: r.ok ? 100 : 0, latencyMs: Math.round(performance.now() - t0) }],
        tx,
      ));
      count++;
      await opts.progress(count, total, { check: c.name });
    }
  }
  return { kind: 'roundtrip', total, done: total, failed };
}

/**
 * Runs the check as the eval job: statuses, progress on the job and the run, summary at the end.
 * A run that lost the job's lease stops and leaves it to the new holder.
 */
async function localCheckJob(engine: LocalInference, repos: Repositories, jobId: string, run: Run, workerName: string, lease: JobLease, isCancelled: () => boolean) {
  const holder = lease.holder;
  await repos.jobs.transition(jobId, 'running', `started by ${workerName} (local check on onnxruntime-node)`, canTransition, {}, undefined, holder);
  await repos.evals.markRunning(run.id, run.startedAt);
  const t0 = Date.now();
  try {
    const summary = await runLocalCheck(engine, repos, lease, run, {
      isCancelled,
      progress: async (done, total, extra) => {
        const rate = done / Math.max(0.001, (Date.now() - t0) / 1000);
        const p = { done, total, unit: 'checks', etaSeconds: rate > 0 ? (total - done) / rate : null, ...extra };
        await Promise.all([repos.evals.recordProgress(run.id, done, p), repos.jobs.setProgress(jobId, p)]);
      },
    });
    if ('cancelled' in summary || 'leftTo' in summary) return summary;
    const failed = 'failed' in summary ? summary.failed : 0;
    if (failed) {
      const reason = `${failed} of ${summary.total} round-trip checks failed: see the cells`;
      await repos.jobs.endWithRun(jobId, 'failed', reason, canTransition, { error: reason, result: summary }, holder, { id: run.id, summary });
    } else {
      const words = summary.kind === 'perplexity'
        ? `perplexity ${(summary as { perLength: { length: number; perplexity: number | null }[] }).perLength.map((x) => `${x.length}: ${x.perplexity?.toFixed(2) ?? '—'}`).join(', ')}`
        : `all ${summary.total} round trips exact`;
      await repos.jobs.endWithRun(jobId, 'succeeded', words, canTransition, { result: summary }, holder, { id: run.id, summary });
    }
    return summary;
  } catch (e) {
    if (e instanceof LeaseLostError) return { leftTo: e.now?.owner ?? null };
    const reason = (e as Error).message;
    const current = await repos.jobs.get(jobId);
    if (current.status === 'running') await repos.jobs.endWithRun(jobId, 'failed', reason, canTransition, { error: reason }, holder, { id: run.id });
    else await repos.evals.markEnded(run.id, 'failed');
    return { failed: reason };
  }
}

export interface LocalCheckDeps {
  repos: Repositories;
  workerName: string;
  leaseMs?: number;
  /** Registers a cancel listener for a job; returns the function that removes it. */
  onCancel: (jobId: string, fn: () => void) => () => void;
  engine: LocalInference;
}

/** The local-check queue's processor: the check run under the job's lease, cancellable by pub/sub. */
export function localCheckProcessor(deps: LocalCheckDeps) {
  const { repos } = deps;
  return evalRunProcessor<LocalCheckPayload, unknown>(deps, async ({ evalRunId }, _ctx, job, lease) => {
    const run = await repos.evals.withEndpoint(evalRunId);
    if (!run) {
      await repos.jobs.transition(job.id, 'failed', 'the eval run or its endpoint no longer exists', canTransition, { error: 'eval run or endpoint missing' }, undefined, lease.holder);
      return { failed: 'missing run or endpoint' };
    }
    let cancelled = false;
    const unsubscribe = deps.onCancel(job.id, () => (cancelled = true));
    try {
      return await localCheckJob(deps.engine, repos, job.id, run, deps.workerName, lease, () => cancelled);
    } finally {
      unsubscribe();
    }
  });
}

/**
 * Local checks rode the NIAH queue before they had their own: one still waiting there when the
 * worker is upgraded runs here all the same. Drop once no NIAH queue holds a local-check job.
 */
export function withStrandedLocalChecks<P extends LocalCheckPayload>(repos: Repositories, niah: (payload: P, ctx: JobContext) => Promise<unknown>, localCheck: (payload: P, ctx: JobContext) => Promise<unknown>) {
  return async (payload: P, ctx: JobContext) => ((await repos.jobs.find(payload.jobId))?.kind === 'local-check' ? localCheck(payload, ctx) : niah(payload, ctx));
}
