import type { ChatMessage } from '@ctxlab/tokenizers';
import { z } from 'zod';

/**
 * OpenAI-compatible client for model servers (vLLM, the lab's local server): the NIAH engine's
 * one boundary with the outside world. Every response is validated; a request that fails after
 * its retries returns { ok: false } and must never be scored.
 */

const usageSchema = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
});
const chatResponseSchema = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string() }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: usageSchema.nullish(),
});
const completionResponseSchema = z.object({
  choices: z.array(z.object({ text: z.string(), finish_reason: z.string().nullish() })).min(1),
  usage: usageSchema.nullish(),
});
const modelsResponseSchema = z.object({ data: z.array(z.object({ id: z.string() })) });

/** OpenAI's legacy completions logprobs, as vLLM fills them (a position without a logprob holds null). */
const legacyLogprobsSchema = z
  .object({
    tokens: z.array(z.string()),
    token_logprobs: z.array(z.number().nullable()),
    top_logprobs: z.array(z.record(z.string(), z.number()).nullable()).nullish(),
  })
  .refine((l) => l.tokens.length === l.token_logprobs.length && (l.top_logprobs == null || l.top_logprobs.length === l.tokens.length));
const completionLogprobsResponseSchema = z.object({
  choices: z
    .array(
      z.object({
        text: z.string(),
        finish_reason: z.string().nullish(),
        logprobs: z.unknown(),
        /** vLLM, when asked with return_token_ids. */
        prompt_token_ids: z.array(z.number().int().nonnegative()).nullish(),
      }),
    )
    .min(1),
  usage: usageSchema.nullish(),
});
const chatTopSchema = z.object({ token: z.string(), logprob: z.number(), bytes: z.array(z.number().int()).nullish() });
const chatLogprobsSchema = z.object({ content: z.array(chatTopSchema.extend({ top_logprobs: z.array(chatTopSchema).nullish() })).nullish() });
const chatLogprobsResponseSchema = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullish() }),
        finish_reason: z.string().nullish(),
        logprobs: z.unknown(),
      }),
    )
    .min(1),
  usage: usageSchema.nullish(),
});

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

export type FailureKind = 'http' | 'timeout' | 'network' | 'invalid-response' | 'aborted';

export type CompletionOutcome =
  | { ok: true; text: string; usage: Usage | null; finishReason: string | null; latencyMs: number; attempts: number }
  | { ok: false; error: string; kind: FailureKind; status?: number; latencyMs: number; attempts: number };

/** A request's time limit unless told otherwise: a 1M-token prefill takes minutes. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 600_000;

/** The parts of an HTTP response the client reads. A fetch Response is one. */
export interface HttpResponse {
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/**
 * How the client sends a request: fetch's call shape, so `fetch` itself (or a guarded one) is a
 * transport, as is any lighter client that answers with the few response fields above.
 */
export type HttpTransport = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal }) => Promise<HttpResponse>;

export interface OpenAIClientOptions {
  /** Server root or its /v1 URL, e.g. http://127.0.0.1:8000 */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** Requests in flight at once. Default 4. */
  concurrency?: number;
  /**
   * Per attempt. Default DEFAULT_REQUEST_TIMEOUT_MS (10 minutes). `fetch` must let a request run
   * that long: the global fetch ends any request after undici's 300 s, so pass one made with the
   * same timeout (`guardedFetch`/`sharedGuardedFetch`/`timedFetch` of @ctxlab/contracts/security).
   */
  timeoutMs?: number;
  /** Attempts per request, the first included. Default 5. */
  maxAttempts?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Longest Retry-After honoured. Default 120 s. */
  retryAfterMaxMs?: number;
  fetch?: HttpTransport;
  /** Called as each request through the concurrency limit ends, with its elapsed time (retries included): a cheap meter for callers. */
  onRequestEnd?: (latencyMs: number) => void;
  /** Jitter source and clock, injectable for tests. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface GenerationOptions {
  maxTokens?: number;
  temperature?: number;
  stop?: string[];
  signal?: AbortSignal;
}

type Failure = { ok: false; error: string; kind: FailureKind; status?: number; latencyMs: number; attempts: number };

/** One of the most likely tokens at a position. `bytes`: the token's UTF-8 bytes, when the endpoint sends them (chat). */
export interface TopLogprob {
  token: string;
  logprob: number;
  bytes?: number[];
}

/** A generated token, its logprob and the most likely tokens at its position (most likely first). */
export interface GeneratedTokenLogprob {
  token: string;
  logprob: number;
  top: TopLogprob[];
}

export type PromptLogprobsOutcome =
  | {
      ok: true;
      /** The prompt's tokens as the endpoint names them. */
      tokens: string[];
      /** Their ids: the prompt itself when it was ids, else the endpoint's prompt_token_ids when asked for and sent. */
      ids?: number[];
      /** One per prompt token: log P(token | the tokens before it); the first is null (nothing precedes it). */
      logprobs: (number | null)[];
      usage: Usage | null;
      latencyMs: number;
      attempts: number;
    }
  | Failure;

export interface PromptLogprobsOptions {
  signal?: AbortSignal;
  /**
   * Alternatives asked per position (`logprobs`). Default 1, not 0: vLLM releases that read a 0
   * as "no logprobs" (`[] if num_logprobs else None`) fail the echo request, and one alternative is
   * a few bytes a token.
   */
  topLogprobs?: number;
  /** Tokens generated after the prompt. Default 0: the prompt-only scoring request (vLLM allows 0 with echo). */
  maxTokens?: number;
  /** Ask vLLM for prompt_token_ids (its `return_token_ids`), for `ids` of a text prompt. */
  returnTokenIds?: boolean;
}

export type TopLogprobsOutcome =
  | {
      ok: true;
      text: string;
      finishReason: string | null;
      usage: Usage | null;
      /** Every generated token with its alternatives. */
      tokens: GeneratedTokenLogprob[];
      /** The first generated token's alternatives, most likely first ([] when nothing was generated). */
      top: TopLogprob[];
      latencyMs: number;
      attempts: number;
    }
  | Failure;

export interface TopLogprobsOptions extends GenerationOptions {
  /** Most likely tokens returned per generated position (OpenAI and vLLM allow 0–20). */
  topLogprobs: number;
}

/**
 * What a parser returns for a well-formed response that lacks what was asked (the logprobs): an
 * `invalid-response` failure, not retried — an endpoint that leaves logprobs out will leave them
 * out again, and the caller should know at once rather than after every backoff.
 */
class Missing {
  constructor(readonly message: string) {}
}

class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

const RETRYABLE_STATUS = new Set([408, 409, 425, 429]);
const isRetryableStatus = (s: number) => RETRYABLE_STATUS.has(s) || s >= 500;

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const secs = Number(header);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

type Attempt<T> = { ok: true; value: T } | { ok: false; kind: FailureKind; error: string; status?: number; retryable: boolean; retryAfter?: number };

type RawUsage = z.infer<typeof usageSchema>;
const toUsage = (u: RawUsage | null | undefined): Usage | null =>
  u ? { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens } : null;

/** A response's first choice (the schemas ask for at least one) and its usage; undefined when the body is malformed. */
function firstChoice<C>(json: unknown, response: z.ZodType<{ choices: C[]; usage?: RawUsage | null }>): { choice: C; usage: RawUsage | null | undefined } | undefined {
  const r = response.safeParse(json);
  return r.success ? { choice: r.data.choices[0]!, usage: r.data.usage } : undefined;
}

/**
 * A logprobs response's first choice and its logprobs read with `logprobs`: undefined when the body
 * is malformed (retried), Missing when the endpoint left the logprobs out (`absent` says which).
 */
function choiceLogprobs<C extends { logprobs?: unknown }, L>(
  json: unknown,
  response: z.ZodType<{ choices: C[]; usage?: RawUsage | null }>,
  logprobs: z.ZodType<L>,
  absent: string,
): { choice: C; logprobs: L; usage: RawUsage | null | undefined } | Missing | undefined {
  const r = firstChoice(json, response);
  if (!r) return undefined;
  if (r.choice.logprobs == null) return new Missing(absent);
  const l = logprobs.safeParse(r.choice.logprobs);
  return l.success ? { ...r, logprobs: l.data } : undefined;
}

/** A prompt as the completions API takes it: text, or token ids as a JSON array of ints (vLLM accepts it). */
const promptField = (prompt: string | ArrayLike<number>): string | number[] => (typeof prompt === 'string' ? prompt : Array.from(prompt));

/** The generation fields a request sends after its prompt (greedy unless told otherwise). */
const generationFields = (gen: GenerationOptions, defaultMaxTokens: number) => ({
  max_tokens: gen.maxTokens ?? defaultMaxTokens,
  temperature: gen.temperature ?? 0,
  ...(gen.stop ? { stop: gen.stop } : {}),
});

/** A legacy top_logprobs map as a list, most likely first. */
const topOfMap = (m: Record<string, number> | null | undefined): TopLogprob[] =>
  Object.entries(m ?? {})
    .map(([token, logprob]) => ({ token, logprob }))
    .sort((a, b) => b.logprob - a.logprob);

export class OpenAIClient {
  readonly model: string;
  readonly concurrency: number;
  private readonly apiBase: string;
  private readonly root: string;
  private readonly opts: Required<Pick<OpenAIClientOptions, 'timeoutMs' | 'maxAttempts' | 'backoffBaseMs' | 'backoffMaxMs' | 'retryAfterMaxMs'>> &
    OpenAIClientOptions;
  private readonly sem: Semaphore;
  private readonly fetchImpl: HttpTransport;
  private readonly requestHeaders: Record<string, string>;
  /**
   * The requests in flight under each caller's signal. One abort listener per signal, not one per
   * request: a sweep's 64 requests share its signal, and EventTarget scans its listeners on every add.
   */
  private readonly underSignal = new WeakMap<AbortSignal, Set<AbortController>>();
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(opts: OpenAIClientOptions) {
    const base = opts.baseUrl.replace(/\/+$/, '');
    this.apiBase = base.endsWith('/v1') ? base : `${base}/v1`;
    this.root = this.apiBase.slice(0, -3);
    this.model = opts.model;
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
    this.opts = { timeoutMs: DEFAULT_REQUEST_TIMEOUT_MS, maxAttempts: 5, backoffBaseMs: 500, backoffMaxMs: 30_000, retryAfterMaxMs: 120_000, ...opts };
    this.sem = new Semaphore(this.concurrency);
    this.fetchImpl = opts.fetch ?? fetch;
    // One object for every request (transports copy it, never change it): frozen, so one that tried would fail loudly.
    this.requestHeaders = Object.freeze({ 'content-type': 'application/json', ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}) });
    this.random = opts.random ?? Math.random;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** POST /v1/chat/completions. */
  chat(messages: readonly ChatMessage[], gen: GenerationOptions = {}): Promise<CompletionOutcome> {
    const body = { model: this.model, messages, ...generationFields(gen, 300) };
    return this.request('/chat/completions', body, gen.signal, (json) => {
      const r = firstChoice(json, chatResponseSchema);
      return r && { value: { text: r.choice.message.content, finishReason: r.choice.finish_reason ?? null }, usage: r.usage };
    });
  }

  /** POST /v1/completions; a token-id prompt is sent as a JSON array of ints (vLLM accepts it). */
  complete(prompt: string | ArrayLike<number>, gen: GenerationOptions = {}): Promise<CompletionOutcome> {
    const body = { model: this.model, prompt: promptField(prompt), ...generationFields(gen, 300) };
    return this.request('/completions', body, gen.signal, (json) => {
      const r = firstChoice(json, completionResponseSchema);
      return r && { value: { text: r.choice.text, finishReason: r.choice.finish_reason ?? null }, usage: r.usage };
    });
  }

  /**
   * The prompt's own tokens and their logprobs: POST /v1/completions with `echo: true`,
   * `logprobs`, `max_tokens: 0`, `temperature: 0` — the request vLLM answers with every prompt
   * token's logprob in OpenAI's legacy shape, the first null (vllm-project/vllm
   * vllm/entrypoints/openai/completion/serving.py `request_output_to_completion_response`: with echo
   * and max_tokens 0 the choice holds the prompt's tokens and prompt logprobs only). A response
   * without logprobs, with fewer tokens than the prompt, or with a missing logprob after the first
   * position is an `invalid-response` failure, never a number made up.
   */
  promptLogprobs(prompt: string | ArrayLike<number>, opts: PromptLogprobsOptions = {}): Promise<PromptLogprobsOutcome> {
    const ids = typeof prompt === 'string' ? undefined : Array.from(prompt);
    const maxTokens = opts.maxTokens ?? 0;
    const body = {
      model: this.model,
      prompt: ids ?? prompt,
      echo: true,
      logprobs: opts.topLogprobs ?? 1,
      max_tokens: maxTokens,
      temperature: 0,
      ...(opts.returnTokenIds ? { return_token_ids: true } : {}),
    };
    return this.request('/completions', body, opts.signal, (json) => {
      const r = choiceLogprobs(json, completionLogprobsResponseSchema, legacyLogprobsSchema, 'the response has no logprobs: the endpoint ignored echo/logprobs');
      if (!r || r instanceof Missing) return r;
      const { choice: c, logprobs: l, usage } = r;
      // How many of the echoed tokens are the prompt's: known for ids, else the usage says.
      const n = ids?.length ?? usage?.prompt_tokens ?? (maxTokens === 0 ? l.tokens.length : undefined);
      if (n === undefined) return new Missing('cannot tell the prompt tokens from the generated ones: no usage.prompt_tokens');
      if (l.tokens.length < n || (maxTokens === 0 && l.tokens.length !== n)) {
        return new Missing(`the endpoint echoed ${l.tokens.length} tokens for a prompt of ${n}`);
      }
      const logprobs = l.token_logprobs.slice(0, n);
      const gap = logprobs.findIndex((x, i) => i > 0 && (x === null || !Number.isFinite(x)));
      if (gap > 0) return new Missing(`prompt token ${gap} has no logprob`);
      const echoedIds = c.prompt_token_ids && c.prompt_token_ids.length === n ? c.prompt_token_ids : undefined;
      return { value: { tokens: l.tokens.slice(0, n), logprobs, ...((ids ?? echoedIds) ? { ids: ids ?? echoedIds } : {}) }, usage };
    });
  }

  /**
   * POST /v1/chat/completions with `logprobs: true` and `top_logprobs`: the generated tokens'
   * logprobs and their most likely alternatives, in OpenAI's shape
   * (choices[0].logprobs.content[] of {token, logprob, bytes, top_logprobs[]}). MMLU reads the
   * answer letter from `top`, the first generated token's alternatives.
   */
  chatTopLogprobs(messages: readonly ChatMessage[], gen: TopLogprobsOptions): Promise<TopLogprobsOutcome> {
    const body = { model: this.model, messages, ...generationFields(gen, 1), logprobs: true, top_logprobs: gen.topLogprobs };
    return this.request('/chat/completions', body, gen.signal, (json) => {
      const r = choiceLogprobs(json, chatLogprobsResponseSchema, chatLogprobsSchema, 'the response has no logprobs: the endpoint ignored logprobs/top_logprobs');
      if (!r || r instanceof Missing) return r;
      const { choice: c, logprobs: l, usage } = r;
      if (l.content == null) return new Missing('the response has no logprobs.content');
      const tokens = l.content.map((t) => ({
        token: t.token,
        logprob: t.logprob,
        top: (t.top_logprobs ?? []).map((a) => ({ token: a.token, logprob: a.logprob, ...(a.bytes ? { bytes: a.bytes } : {}) })).sort((a, b) => b.logprob - a.logprob),
      }));
      return this.topOutcome(c.message.content ?? '', c.finish_reason ?? null, usage, tokens, gen.topLogprobs);
    });
  }

  /** POST /v1/completions with `logprobs: N` (a token-id prompt as a JSON array): generated tokens with their alternatives, legacy shape read. */
  completeTopLogprobs(prompt: string | ArrayLike<number>, gen: TopLogprobsOptions): Promise<TopLogprobsOutcome> {
    const body = { model: this.model, prompt: promptField(prompt), ...generationFields(gen, 1), logprobs: gen.topLogprobs };
    return this.request('/completions', body, gen.signal, (json) => {
      const r = choiceLogprobs(json, completionLogprobsResponseSchema, legacyLogprobsSchema, 'the response has no logprobs: the endpoint ignored logprobs');
      if (!r || r instanceof Missing) return r;
      const { choice: c, logprobs: l, usage } = r;
      const tokens: GeneratedTokenLogprob[] = [];
      for (let i = 0; i < l.tokens.length; i++) {
        const lp = l.token_logprobs[i];
        if (lp === null || lp === undefined) return new Missing(`generated token ${i} has no logprob`);
        tokens.push({ token: l.tokens[i]!, logprob: lp, top: topOfMap(l.top_logprobs?.[i]) });
      }
      return this.topOutcome(c.text, c.finish_reason ?? null, usage, tokens, gen.topLogprobs);
    });
  }

  private topOutcome(text: string, finishReason: string | null, usage: RawUsage | null | undefined, tokens: GeneratedTokenLogprob[], asked: number) {
    if (tokens.length === 0 && text !== '') return new Missing('the response has text but no logprobs for it');
    if (asked > 0 && tokens.length > 0 && tokens[0]!.top.length === 0) return new Missing(`asked for ${asked} top logprobs, the response has none`);
    return { value: { text, finishReason, tokens, top: tokens[0]?.top ?? [] }, usage };
  }

  /** GET /v1/models. */
  async listModels(signal?: AbortSignal): Promise<{ ok: true; models: string[] } | { ok: false; error: string; kind: FailureKind }> {
    const r = await this.withRetries(signal, () =>
      this.attempt(`${this.apiBase}/models`, { method: 'GET' }, signal, (json) => {
        const p = modelsResponseSchema.safeParse(json);
        return p.success ? p.data.data.map((m) => m.id) : undefined;
      }),
    );
    return r.ok ? { ok: true, models: r.value } : { ok: false, error: r.error, kind: r.kind };
  }

  /** GET /health (vLLM): one attempt, no retries — a probe should answer now. */
  async health(signal?: AbortSignal): Promise<{ ok: boolean; status?: number; error?: string; latencyMs: number }> {
    const t0 = performance.now();
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), Math.min(this.opts.timeoutMs, 10_000));
    const unfollow = this.follow(signal, ctl);
    try {
      const res = await this.fetchImpl(`${this.root}/health`, { method: 'GET', headers: this.requestHeaders, signal: ctl.signal });
      await res.text().catch(() => undefined);
      return { ok: res.ok, status: res.status, latencyMs: performance.now() - t0 };
    } catch (e) {
      return { ok: false, error: (e as Error).message, latencyMs: performance.now() - t0 };
    } finally {
      clearTimeout(timer);
      unfollow();
    }
  }

  /** Aborts `ctl` when the caller's `signal` aborts, until the returned function is called. */
  private follow(signal: AbortSignal | undefined, ctl: AbortController): () => void {
    if (!signal) return () => undefined;
    if (signal.aborted) {
      ctl.abort();
      return () => undefined;
    }
    let set = this.underSignal.get(signal);
    if (!set) {
      const inFlight = (set = new Set());
      this.underSignal.set(signal, inFlight);
      signal.addEventListener('abort', () => inFlight.forEach((c) => c.abort()), { once: true });
    }
    const own = set;
    own.add(ctl);
    return () => void own.delete(ctl);
  }

  /**
   * One POST through the concurrency limit, the retries and the timeouts; `parse` validates the body.
   * The outcome: the parsed value's fields with the usage, latency and attempts, or the failure.
   */
  private request<T extends object>(
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
    parse: (json: unknown) => { value: T; usage?: RawUsage | null } | Missing | undefined,
  ): Promise<({ ok: true; usage: Usage | null; latencyMs: number; attempts: number } & T) | Failure> {
    return this.sem.run(async () => {
      const t0 = performance.now();
      const payload = JSON.stringify(body);
      let attempts = 0;
      const r = await this.withRetries(signal, () => {
        attempts++;
        return this.attempt(`${this.apiBase}${path}`, { method: 'POST', body: payload }, signal, parse);
      });
      const latencyMs = performance.now() - t0;
      this.opts.onRequestEnd?.(latencyMs);
      if (!r.ok) return { ok: false, error: r.error, kind: r.kind, status: r.status, latencyMs, attempts };
      return { ok: true as const, ...r.value.value, usage: toUsage(r.value.usage), latencyMs, attempts };
    });
  }

  private async withRetries<T>(signal: AbortSignal | undefined, once: () => Promise<Attempt<T>>): Promise<Attempt<T>> {
    let last: Attempt<T> | undefined;
    for (let n = 1; n <= this.opts.maxAttempts; n++) {
      last = await once();
      if (last.ok || !last.retryable || n === this.opts.maxAttempts || signal?.aborted) return last;
      const exp = Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** (n - 1));
      const jittered = exp / 2 + (this.random() * exp) / 2;
      const wait = last.retryAfter !== undefined ? Math.max(jittered, Math.min(last.retryAfter, this.opts.retryAfterMaxMs)) : jittered;
      await this.sleep(wait);
      if (signal?.aborted) return { ok: false, kind: 'aborted', error: 'cancelled', retryable: false };
    }
    return last!;
  }

  private async attempt<T>(url: string, init: { method: string; body?: string }, signal: AbortSignal | undefined, parse: (json: unknown) => T | Missing | undefined): Promise<Attempt<T>> {
    if (signal?.aborted) return { ok: false, kind: 'aborted', error: 'cancelled', retryable: false };
    const ctl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, this.opts.timeoutMs);
    const unfollow = this.follow(signal, ctl);
    try {
      const res = await this.fetchImpl(url, { ...init, headers: this.requestHeaders, signal: ctl.signal });
      const text = await res.text();
      if (!res.ok) {
        let detail = text.slice(0, 500);
        try {
          const j = JSON.parse(text) as { error?: { message?: string } | string; message?: string };
          detail = (typeof j.error === 'string' ? j.error : j.error?.message) ?? j.message ?? detail;
        } catch {
          /* not JSON: keep the raw text */
        }
        return {
          ok: false,
          kind: 'http',
          status: res.status,
          error: `HTTP ${res.status}${detail ? `: ${detail}` : ''}`,
          retryable: isRetryableStatus(res.status),
          retryAfter: retryAfterMs(res.headers.get('retry-after')),
        };
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return { ok: false, kind: 'invalid-response', error: `invalid JSON body (${text.length} bytes)`, retryable: true };
      }
      const value = parse(json);
      if (value === undefined) return { ok: false, kind: 'invalid-response', error: `unexpected response shape: ${text.slice(0, 200)}`, retryable: true };
      if (value instanceof Missing) return { ok: false, kind: 'invalid-response', error: value.message, retryable: false };
      return { ok: true, value };
    } catch (e) {
      if (signal?.aborted) return { ok: false, kind: 'aborted', error: 'cancelled', retryable: false };
      if (timedOut) return { ok: false, kind: 'timeout', error: `no response within ${this.opts.timeoutMs} ms`, retryable: true };
      const err = e as Error & { cause?: { code?: string; message?: string } };
      const why = err.cause?.code ?? err.cause?.message ?? err.message;
      return { ok: false, kind: 'network', error: `network error: ${why}`, retryable: true };
    } finally {
      clearTimeout(timer);
      unfollow();
    }
  }
}
