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
  fetch?: typeof fetch;
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

export class OpenAIClient {
  readonly model: string;
  readonly concurrency: number;
  private readonly apiBase: string;
  private readonly root: string;
  private readonly opts: Required<Pick<OpenAIClientOptions, 'timeoutMs' | 'maxAttempts' | 'backoffBaseMs' | 'backoffMaxMs' | 'retryAfterMaxMs'>> &
    OpenAIClientOptions;
  private readonly sem: Semaphore;
  private readonly fetchImpl: typeof fetch;
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
    this.random = opts.random ?? Math.random;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** POST /v1/chat/completions. */
  chat(messages: readonly ChatMessage[], gen: GenerationOptions = {}): Promise<CompletionOutcome> {
    const body = {
      model: this.model,
      messages,
      max_tokens: gen.maxTokens ?? 300,
      temperature: gen.temperature ?? 0,
      ...(gen.stop ? { stop: gen.stop } : {}),
    };
    return this.generate('/chat/completions', body, gen.signal, (json) => {
      const r = chatResponseSchema.safeParse(json);
      if (!r.success) return undefined;
      const c = r.data.choices[0]!;
      return { text: c.message.content, finishReason: c.finish_reason ?? null, usage: r.data.usage };
    });
  }

  /** POST /v1/completions; a token-id prompt is sent as a JSON array of ints (vLLM accepts it). */
  complete(prompt: string | ArrayLike<number>, gen: GenerationOptions = {}): Promise<CompletionOutcome> {
    const body = {
      model: this.model,
      prompt: typeof prompt === 'string' ? prompt : Array.from(prompt),
      max_tokens: gen.maxTokens ?? 300,
      temperature: gen.temperature ?? 0,
      ...(gen.stop ? { stop: gen.stop } : {}),
    };
    return this.generate('/completions', body, gen.signal, (json) => {
      const r = completionResponseSchema.safeParse(json);
      if (!r.success) return undefined;
      const c = r.data.choices[0]!;
      return { text: c.text, finishReason: c.finish_reason ?? null, usage: r.data.usage };
    });
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
    const onAbort = () => ctl.abort();
    signal?.addEventListener('abort', onAbort);
    try {
      const res = await this.fetchImpl(`${this.root}/health`, { method: 'GET', headers: this.headers(), signal: ctl.signal });
      await res.arrayBuffer().catch(() => undefined);
      return { ok: res.ok, status: res.status, latencyMs: performance.now() - t0 };
    } catch (e) {
      return { ok: false, error: (e as Error).message, latencyMs: performance.now() - t0 };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private headers(): Record<string, string> {
    return { 'content-type': 'application/json', ...(this.opts.apiKey ? { authorization: `Bearer ${this.opts.apiKey}` } : {}) };
  }

  private generate(
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
    parse: (json: unknown) => { text: string; finishReason: string | null; usage?: { prompt_tokens: number; completion_tokens: number } | null } | undefined,
  ): Promise<CompletionOutcome> {
    return this.sem.run(async () => {
      const t0 = performance.now();
      const payload = JSON.stringify(body);
      let attempts = 0;
      const r = await this.withRetries(signal, () => {
        attempts++;
        return this.attempt(`${this.apiBase}${path}`, { method: 'POST', body: payload }, signal, parse);
      });
      const latencyMs = performance.now() - t0;
      if (!r.ok) return { ok: false, error: r.error, kind: r.kind, status: r.status, latencyMs, attempts };
      const u = r.value.usage;
      return {
        ok: true,
        text: r.value.text,
        finishReason: r.value.finishReason,
        usage: u ? { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens } : null,
        latencyMs,
        attempts,
      };
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

  private async attempt<T>(url: string, init: { method: string; body?: string }, signal: AbortSignal | undefined, parse: (json: unknown) => T | undefined): Promise<Attempt<T>> {
    if (signal?.aborted) return { ok: false, kind: 'aborted', error: 'cancelled', retryable: false };
    const ctl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, this.opts.timeoutMs);
    const onAbort = () => ctl.abort();
    signal?.addEventListener('abort', onAbort);
    try {
      const res = await this.fetchImpl(url, { ...init, headers: this.headers(), signal: ctl.signal });
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
      return { ok: true, value };
    } catch (e) {
      if (signal?.aborted) return { ok: false, kind: 'aborted', error: 'cancelled', retryable: false };
      if (timedOut) return { ok: false, kind: 'timeout', error: `no response within ${this.opts.timeoutMs} ms`, retryable: true };
      const err = e as Error & { cause?: { code?: string; message?: string } };
      const why = err.cause?.code ?? err.cause?.message ?? err.message;
      return { ok: false, kind: 'network', error: `network error: ${why}`, retryable: true };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
