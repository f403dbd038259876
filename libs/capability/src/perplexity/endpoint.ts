import type { FailureKind, PromptLogprobsOptions, PromptLogprobsOutcome } from '@ctxlab/niah';

/** What endpoint perplexity needs of a client: OpenAIClient's promptLogprobs (retries, timeouts, typed failures). */
export interface PromptLogprobsClient {
  promptLogprobs(prompt: string | ArrayLike<number>, opts?: PromptLogprobsOptions): Promise<PromptLogprobsOutcome>;
}

export interface PerplexityScore {
  /** Positions scored: every one after the first (n − 1 for a window of n). */
  tokens: number;
  /** Mean negative log-likelihood (nats) over those positions. */
  nll: number;
  /** exp(nll). */
  perplexity: number;
}

/**
 * Perplexity from one window's prompt logprobs, over exactly the positions the local check scores
 * (libs/inference/src/checks.ts `sequencePerplexity`: the next-token NLL of positions 1 … n − 1; the
 * first token has no prediction), summed in the same order, so equal logprobs give the same bits.
 * Null when a logprob after the first is missing or not finite, or the count is not `expected`.
 */
export function perplexityFromLogprobs(logprobs: readonly (number | null)[], expected?: number): PerplexityScore | null {
  const n = logprobs.length;
  if (n < 2 || (expected !== undefined && n !== expected)) return null;
  let total = 0;
  for (let i = 1; i < n; i++) {
    const lp = logprobs[i];
    if (typeof lp !== 'number' || !Number.isFinite(lp)) return null;
    total += -lp;
  }
  return { tokens: n - 1, nll: total / (n - 1), perplexity: Math.exp(total / (n - 1)) };
}

export type WindowPerplexity =
  | ({ ok: true; window: number; latencyMs: number; attempts: number } & PerplexityScore)
  | { ok: false; window: number; kind: FailureKind; error: string; status?: number; latencyMs: number; attempts: number };

export interface EndpointPerplexity {
  /** One per window, in order: a score, or the failure (never scored). */
  windows: WindowPerplexity[];
  scored: number;
  failed: number;
  /** Over the scored windows' positions together: exp(Σ NLL / Σ tokens); null when none was scored. */
  perplexity: number | null;
  nll: number | null;
  tokens: number;
}

/**
 * Perplexity of each window as an OpenAI-compatible endpoint scores it: one prompt-logprobs
 * request per window (token ids, `echo` + `max_tokens: 0`), in flight as the client's concurrency
 * allows. A window whose request failed after its retries, or whose logprobs do not cover it, is
 * reported with its failure and left out of the totals.
 */
export async function endpointPerplexity(
  client: PromptLogprobsClient,
  windows: readonly (Uint32Array | readonly number[])[],
  opts: { signal?: AbortSignal; onWindow?: (r: WindowPerplexity) => void } = {},
): Promise<EndpointPerplexity> {
  windows.forEach((w, i) => {
    if (w.length < 2) throw new RangeError(`window ${i} has ${w.length} token(s): perplexity needs at least 2`);
  });
  const results = await Promise.all(
    windows.map(async (w, window): Promise<WindowPerplexity> => {
      const o = await client.promptLogprobs(w, { signal: opts.signal });
      let r: WindowPerplexity;
      if (!o.ok) r = { ok: false, window, kind: o.kind, error: o.error, ...(o.status !== undefined ? { status: o.status } : {}), latencyMs: o.latencyMs, attempts: o.attempts };
      else {
        const s = perplexityFromLogprobs(o.logprobs, w.length);
        r = s
          ? { ok: true, window, ...s, latencyMs: o.latencyMs, attempts: o.attempts }
          : { ok: false, window, kind: 'invalid-response', error: `the endpoint returned ${o.logprobs.length} prompt logprobs for a window of ${w.length}, or one is missing`, latencyMs: o.latencyMs, attempts: o.attempts };
      }
      opts.onWindow?.(r);
      return r;
    }),
  );
  let total = 0;
  let tokens = 0;
  for (const r of results) {
    if (!r.ok) continue;
    total += r.nll * r.tokens;
    tokens += r.tokens;
  }
  const scored = results.filter((r) => r.ok).length;
  return { windows: results, scored, failed: results.length - scored, perplexity: tokens ? Math.exp(total / tokens) : null, nll: tokens ? total / tokens : null, tokens };
}
