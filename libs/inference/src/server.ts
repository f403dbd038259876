/**
 * A local OpenAI-compatible server for the lab models (`/v1/models`, `/v1/chat/completions`,
 * `/v1/completions` with text or token-id prompts, `/health`), speaking vLLM's error format, so the
 * whole pipeline — endpoints, NIAH sweeps, the portal — runs on a laptop against a real model.
 * `stream: true` answers with server-sent events as the OpenAI API does, one event per decoded
 * token, so OpenAI's own clients (which read chunks when they ask for a stream) work unchanged.
 * Logprobs as vLLM serves them (unstreamed): /v1/completions `echo` + `logprobs: N` (with
 * `max_tokens: 0`, the prompt-only scoring request), vLLM's `prompt_logprobs` and
 * `return_token_ids`, and /v1/chat/completions `logprobs` + `top_logprobs` — each the float64
 * log-softmax of the model's float32 logits (engine.ts rowLogprob), the numbers the local
 * perplexity check sums.
 *
 * With `prefixCache` the server reuses the K/V of prompt prefixes block by block as vLLM's
 * automatic prefix caching does (prefix-cache.ts): usage then carries vLLM's
 * `prompt_tokens_details.cached_tokens` (the prompt tokens not prefilled). `GET /metrics` speaks
 * Prometheus text with vLLM's counter names where vLLM has one:
 *   vllm:prompt_tokens_total, vllm:request_success_total,
 *   vllm:prefix_cache_queries_total / vllm:prefix_cache_hits_total (prompt tokens looked up / found),
 * and the lab server's own: ctxlab:prefill_tokens_total (prompt tokens computed),
 * ctxlab:prefill_seconds_total (wall time of the prefill passes), ctxlab:prefix_cache_*
 * (blocks stored, evicted, cached, pinned, capacity; prompts too long for the pool).
 * `POST /reset_prefix_cache` empties the pool (refused while requests hold blocks), as vLLM's does.
 */
import { getTokenizer, type ChatMessage } from '@ctxlab/tokenizers';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { loadCard, type LabModelCard } from './card';
import { DEFAULT_THREAD_TUNING, generate, releaseSessions, session, type GenerateOptions, type Generation, type ThreadTuning, type TokenLogprob } from './engine';
import { PrefixKvCache, type PrefixCacheConfig } from './prefix-cache';

export interface ServedModel {
  /** The name clients send as `model`. */
  id: string;
  file: string;
  theta: number;
  /** Longest prompt + completion accepted (vLLM's --max-model-len). */
  maxModelLen: number;
}

export interface LabServerOptions {
  port?: number;
  host?: string;
  threads?: number;
  /** Pinning and spinning of the intra-op threads (engine.ts DEFAULT_THREAD_TUNING when absent). */
  threadTuning?: ThreadTuning;
  cardPath?: string;
  /** Defaults: one model per stage, named lab-stage1, lab-stage2, … */
  models?: ServedModel[];
  /** Automatic prefix caching over one KV pool shared by the served models; off when absent or 0 tokens. */
  prefixCache?: PrefixCacheConfig;
}

/**
 * The request fields both completion routes take after their prompt (decoding is greedy either way).
 * `max_tokens` parses from 0: vLLM accepts 0 only with `echo` on /v1/completions (see
 * logprobRefusal), and refuses it elsewhere naming the field.
 */
const sampling = {
  max_tokens: z.number().int().min(0).max(4096).default(64),
  temperature: z.number().min(0).max(2).optional(),
  stop: z.union([z.string(), z.array(z.string())]).optional(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
};
/** Counts are numbers here; their ranges are checked as vLLM checks them (logprobRefusal), naming the field. */
const count = z.number().int().nullish();
const chatBody = z.object({
  model: z.string(),
  messages: z.array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() })).min(1),
  ...sampling,
  logprobs: z.boolean().nullish(),
  top_logprobs: count,
});
const completionBody = z.object({
  model: z.string(),
  prompt: z.union([z.string(), z.array(z.number().int().min(0))]),
  ...sampling,
  echo: z.boolean().nullish(),
  logprobs: count,
  /** vLLM's extra parameter: the prompt tokens' logprobs, with this many alternatives, in its own shape. */
  prompt_logprobs: count,
  /** vLLM's extra parameter: the choice carries prompt_token_ids and token_ids. */
  return_token_ids: z.boolean().nullish(),
});
type ChatBody = z.infer<typeof chatBody>;
type CompletionBody = z.infer<typeof completionBody>;
/** What the completion routes share once the prompt is tokenized. */
type CompletionRequest = Pick<ChatBody, 'model' | 'max_tokens' | 'stream' | 'stream_options'>;
const issues = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
/**
 * vLLM checks the count fields before its schema does, so a non-number gets "`<field>` must be an
 * integer." naming it (completion/protocol.py and chat_completion/protocol.py `check_logprobs`).
 */
function countTypeRefusal(raw: unknown, fields: readonly string[]): Refusal | null {
  if (typeof raw !== 'object' || raw === null) return null;
  for (const f of fields) {
    const v = (raw as Record<string, unknown>)[f];
    if (v !== undefined && v !== null && typeof v !== 'number') return { message: `\`${f}\` must be an integer.`, param: f };
  }
  return null;
}
/** The field a schema refusal names (the first issue's top-level field), as vLLM's errors carry `param`. */
const paramOf = (e: z.ZodError) => (e.issues[0]?.path[0] !== undefined ? String(e.issues[0].path[0]) : null);

/**
 * vLLM's --max-logprobs default: more alternatives than this are refused. vllm-project/vllm
 * vllm/sampling_params.py `_validate_logprobs` (commit 00388f6573ccfcffad607b8c9ecdf341a4669ceb):
 * "Requested sample logprobs of N, which is greater than max allowed: 20" (parameter logprobs), and
 * "Requested prompt logprobs of N, …" (parameter prompt_logprobs); -1 means the whole vocabulary.
 */
export const MAX_LOGPROBS = 20;

/** A refused request: the message and the field it names (vLLM's VLLMValidationError `parameter`). */
type Refusal = { message: string; param: string };

/**
 * The logprob fields checked as vLLM checks them; the first refusal, or null. Sources (vllm-project/vllm):
 *  - completions: vllm/entrypoints/openai/completion/protocol.py `check_logprobs` (commit
 *    002032ee2b18e1f7bd924ec47b62504ba3866063): `logprobs` / `prompt_logprobs` must be ≥ 0 or -1;
 *    `prompt_logprobs` with `stream` is refused; `to_sampling_params` asks the engine for prompt
 *    logprobs = `logprobs` when `echo` is set, and sends max_tokens 1 to the engine when `echo` and
 *    `max_tokens == 0` (the prompt-only scoring request).
 *  - chat: vllm/entrypoints/openai/chat_completion/protocol.py `check_logprobs` (same commit):
 *    `top_logprobs` must be ≥ 0 or -1, and > 0 (or -1) needs `logprobs: true`; the engine is asked
 *    for `top_logprobs` alternatives when `logprobs` is true.
 *  - max_tokens: vllm/sampling_params.py `_verify_args` (commit 00388f65…): "max_tokens must be at
 *    least 1, got N." — the engine never sees 0, since echo turns it into 1.
 * The lab server streams text only: logprobs or echo with `stream` are refused rather than dropped.
 */
function logprobRefusal(b: { chat: true; body: ChatBody } | { chat: false; body: CompletionBody }, vocab: number): Refusal | null {
  const tooMany = (kind: 'sample' | 'prompt', n: number | null | undefined, param: string): Refusal | null => {
    if (n === null || n === undefined) return null;
    const asked = n === -1 ? vocab : n;
    return asked > MAX_LOGPROBS ? { message: `Requested ${kind} logprobs of ${asked}, which is greater than max allowed: ${MAX_LOGPROBS}`, param } : null;
  };
  const negative = (n: number | null | undefined) => n !== null && n !== undefined && n < 0 && n !== -1;
  const echoZero = !b.chat && b.body.echo === true && b.body.max_tokens === 0;
  if (b.body.max_tokens < 1 && !echoZero) return { message: `max_tokens must be at least 1, got ${b.body.max_tokens}.`, param: 'max_tokens' };
  if (b.chat) {
    const { logprobs, top_logprobs: top } = b.body;
    if (negative(top)) return { message: '`top_logprobs` must be a positive value or -1.', param: 'top_logprobs' };
    if (top !== null && top !== undefined && top !== 0 && !logprobs) return { message: 'when using `top_logprobs`, `logprobs` must be set to true.', param: 'top_logprobs' };
    if (logprobs) {
      const r = tooMany('sample', top ?? 0, 'logprobs');
      if (r) return r;
      if (b.body.stream) return { message: 'the lab server does not stream logprobs: send `logprobs` without `stream`', param: 'logprobs' };
    }
    return null;
  }
  const { logprobs, prompt_logprobs: promptN, echo, stream } = b.body;
  if (negative(promptN)) return { message: '`prompt_logprobs` must be a positive value or -1.', param: 'prompt_logprobs' };
  if (stream && promptN !== null && promptN !== undefined && promptN !== 0) return { message: '`prompt_logprobs` are not available when `stream=True`.', param: 'prompt_logprobs' };
  if (negative(logprobs)) return { message: '`logprobs` must be a positive value or -1.', param: 'logprobs' };
  const r = tooMany('sample', logprobs, 'logprobs') ?? tooMany('prompt', promptN ?? (echo ? logprobs : null), 'prompt_logprobs');
  if (r) return r;
  if (stream && (echo || (logprobs ?? promptN) != null)) {
    return { message: 'the lab server does not stream logprobs or echo: send them without `stream`', param: echo ? 'echo' : logprobs != null ? 'logprobs' : 'prompt_logprobs' };
  }
  return null;
}

/**
 * A completion route's body checked in vLLM's order: the count fields' types, the schema, then the
 * logprob fields (logprobRefusal); the body, or the first refusal (its message and the field it names).
 */
function checkedBody<S extends z.ZodType>(
  raw: unknown,
  schema: S,
  countFields: readonly string[],
  logprobs: (body: z.output<S>) => Refusal | null,
): { ok: true; data: z.output<S> } | { ok: false; message: string; param: string | null } {
  const typed = countTypeRefusal(raw, countFields);
  if (typed) return { ok: false, ...typed };
  const b = schema.safeParse(raw);
  if (!b.success) return { ok: false, message: issues(b.error), param: paramOf(b.error) };
  const refused = logprobs(b.data);
  return refused ? { ok: false, ...refused } : { ok: true, data: b.data };
}

/** vLLM's --max-model-len when none is given. */
const DEFAULT_MAX_MODEL_LEN = 8192;

export function defaultModels(card: LabModelCard & { dir: string }, maxModelLen = DEFAULT_MAX_MODEL_LEN): ServedModel[] {
  return card.stages.map((s) => ({ id: `lab-stage${s.stage}`, file: join(card.dir, s.file), theta: s.ropeTheta, maxModelLen }));
}

/**
 * One lab model from a path, as a serve job hands it over: a lab model directory (model.onnx +
 * config.json, whose rope_theta it is served with unless `theta` overrides it) or a bare .onnx file
 * (then `theta` is required). Throws naming what is missing.
 */
export function servedModelFromPath(path: string, opts: { id?: string; theta?: number; maxModelLen?: number } = {}): ServedModel {
  let file = path;
  let theta = opts.theta;
  if (existsSync(path) && statSync(path).isDirectory()) {
    file = join(path, 'model.onnx');
    if (!existsSync(file)) throw new Error(`${path} is not a lab model directory: it has no model.onnx`);
    const cfgPath = join(path, 'config.json');
    if (theta === undefined) {
      if (!existsSync(cfgPath)) throw new Error(`${path} has no config.json to read rope_theta from; give the theta`);
      const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as { rope_theta?: unknown };
      if (typeof cfg.rope_theta !== 'number' || !(cfg.rope_theta > 0)) throw new Error(`${cfgPath} has no positive rope_theta`);
      theta = cfg.rope_theta;
    }
  } else if (!existsSync(path)) throw new Error(`${path} does not exist`);
  else if (theta === undefined) throw new Error(`${path} is a bare ONNX file: give the RoPE theta it is served with`);
  return { id: opts.id ?? basename(path).replace(/\.onnx$/, ''), file, theta, maxModelLen: opts.maxModelLen ?? DEFAULT_MAX_MODEL_LEN };
}

function send(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
const error = (res: ServerResponse, status: number, message: string, type = 'BadRequestError', param: string | null = null) =>
  send(res, status, { object: 'error', message, type, param, code: status });

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 64 * 2 ** 20) throw new Error('request body larger than 64 MiB');
    chunks.push(c as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

export async function startLabServer(opts: LabServerOptions = {}) {
  const card = loadCard(opts.cardPath);
  const models = opts.models ?? defaultModels(card);
  const threads = opts.threads ?? 1;
  const tuning = opts.threadTuning ?? DEFAULT_THREAD_TUNING;
  const tok = getTokenizer('byte');
  const byId = new Map(models.map((m) => [m.id, m]));
  // Create sessions up front, so the first request is not slow and a broken file fails the start.
  await Promise.all(models.map((m) => session(m.file, threads, tuning)));
  const prefixCache = opts.prefixCache && opts.prefixCache.capacityTokens > 0 ? new PrefixKvCache(card, opts.prefixCache) : null;
  // Blocks are K/V after RoPE: the model file and its theta seed the block hash chain.
  const cacheNamespace = (m: ServedModel) => `${m.file}\0theta=${m.theta}`;
  /** Totals over requests that ran the model (monotonic, for /metrics). */
  const totals = { requests: 0, promptTokens: 0, prefillTokens: 0, prefillSeconds: 0 };

  /**
   * One generation, through the prefix cache when it is on: the request's blocks are pinned from
   * admission until it finishes. A request that runs no prefill (echo with max_tokens 0 and no
   * logprobs) does not touch the cache; one asking for prompt logprobs computes its whole prompt.
   */
  const run = async (m: ServedModel, ids: number[], o: Omit<GenerateOptions, 'theta' | 'prefix'>): Promise<Generation> => {
    const s = await session(m.file, threads, tuning);
    const prefills = o.maxNewTokens > 0 || o.promptLogprobs !== undefined;
    const lease = prefixCache && prefills ? await prefixCache.acquire(cacheNamespace(m), ids, { read: o.promptLogprobs === undefined }) : null;
    try {
      const g = await generate(s, card, ids, { ...o, theta: m.theta, ...(lease ? { prefix: lease } : {}) });
      if (prefills) {
        totals.requests++;
        totals.promptTokens += g.promptTokens;
        totals.prefillTokens += g.promptTokens - g.cachedTokens;
        totals.prefillSeconds += g.prefillMs / 1000;
      }
      return g;
    } finally {
      lease?.release();
    }
  };
  /** OpenAI's usage, with vLLM's prompt_tokens_details when the prefix cache is on. */
  const usageOf = (g: Generation) => ({
    prompt_tokens: g.promptTokens,
    completion_tokens: g.ids.length,
    total_tokens: g.promptTokens + g.ids.length,
    ...(prefixCache ? { prompt_tokens_details: { cached_tokens: g.cachedTokens } } : {}),
  });
  const metricsText = () => {
    const lines: string[] = [];
    const metric = (name: string, type: 'counter' | 'gauge', help: string, value: number) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
    metric('vllm:request_success_total', 'counter', 'Requests that ran the model to completion.', totals.requests);
    metric('vllm:prompt_tokens_total', 'counter', 'Prompt tokens of those requests.', totals.promptTokens);
    metric('ctxlab:prefill_tokens_total', 'counter', 'Prompt tokens prefilled (not taken from the prefix cache).', totals.prefillTokens);
    metric('ctxlab:prefill_seconds_total', 'counter', 'Wall time of the prefill passes.', totals.prefillSeconds);
    if (prefixCache) {
      const c = prefixCache.stats;
      metric('vllm:prefix_cache_queries_total', 'counter', 'Prompt tokens looked up in the prefix cache.', c.queriedTokens);
      metric('vllm:prefix_cache_hits_total', 'counter', 'Prompt tokens found in the prefix cache.', c.hitTokens);
      metric('ctxlab:prefix_cache_stored_blocks_total', 'counter', 'Full blocks computed and cached.', c.storedBlocks);
      metric('ctxlab:prefix_cache_evicted_blocks_total', 'counter', 'Cached blocks evicted (least recently freed first).', c.evictedBlocks);
      metric('ctxlab:prefix_cache_bypassed_total', 'counter', 'Requests whose prompt is longer than the pool, served without it.', c.bypassed);
      metric('ctxlab:prefix_cache_capacity_blocks', 'gauge', `Blocks in the KV pool (${prefixCache.blockSize} tokens each).`, prefixCache.capacityBlocks);
      metric('ctxlab:prefix_cache_cached_blocks', 'gauge', 'Blocks holding cached K/V.', c.cachedBlocks);
      metric('ctxlab:prefix_cache_pinned_blocks', 'gauge', 'Blocks held by running requests.', c.pinnedBlocks);
    }
    return `${lines.join('\n')}\n`;
  };

  /** A token as the logprob shapes name it: its text (a lone byte of a longer character decodes to U+FFFD). */
  const tokenText = (id: number) => tok.decode([id]);
  // vLLM clamps -inf to the JSON-serialisable -9999.0 OpenAI uses (completion/serving.py `_create_completion_logprobs`).
  const clampLp = (x: number) => Math.max(x, -9999);

  /**
   * OpenAI's legacy completions logprobs ({tokens, token_logprobs, top_logprobs, text_offset}) as
   * vLLM builds them — vllm-project/vllm vllm/entrypoints/openai/completion/serving.py
   * `_create_completion_logprobs` (commit 030ea52effcb05071543c8c42b8f0145e94cee43): a position
   * without logprobs (the first prompt token) has token_logprob null and top_logprobs null; the
   * others map token text → logprob for the token itself and the `n` most likely ("the top
   * num_output_top_logprobs + 1 logprobs, as defined in the openai API"); text_offset is the running
   * length of the token texts in code points (Python `len`).
   */
  const legacyLogprobs = (ids: readonly number[], lps: readonly (TokenLogprob | null)[]) => {
    const tokens: string[] = [];
    const tokenLogprobs: (number | null)[] = [];
    const top: (Record<string, number> | null)[] = [];
    const offsets: number[] = [];
    let offset = 0;
    ids.forEach((id, i) => {
      const t = tokenText(id);
      tokens.push(t);
      offsets.push(offset);
      offset += [...t].length;
      const lp = lps[i];
      if (!lp) {
        tokenLogprobs.push(null);
        top.push(null);
        return;
      }
      tokenLogprobs.push(clampLp(lp.logprob));
      const d: Record<string, number> = { [t]: clampLp(lp.logprob) };
      for (const a of lp.top) d[tokenText(a.id)] = clampLp(a.logprob);
      top.push(d);
    });
    return { text_offset: offsets, token_logprobs: tokenLogprobs, tokens, top_logprobs: top };
  };

  /**
   * vLLM's own prompt_logprobs field: per prompt token null (the first) or {token id: {logprob, rank,
   * decoded_token}} for the `n` most likely and the prompt token itself (rank: its place in the
   * vocabulary) — vllm/v1/engine/logprobs.py `_update_prompt_logprobs` starts the list with None
   * (commit 016e747a032d70a95d7d691ab1dfc0bb9d5b5beb).
   */
  const vllmPromptLogprobs = (ids: readonly number[], lps: readonly (TokenLogprob | null)[]) =>
    lps.map((lp, i) => {
      if (!lp) return null;
      const d: Record<string, { logprob: number; rank: number; decoded_token: string }> = {};
      lp.top.forEach((a, r) => (d[a.id] = { logprob: clampLp(a.logprob), rank: r + 1, decoded_token: tokenText(a.id) }));
      d[ids[i]!] = { logprob: clampLp(lp.logprob), rank: lp.rank, decoded_token: tokenText(ids[i]!) };
      return d;
    });

  /**
   * OpenAI's chat logprobs: choices[0].logprobs.content[] of {token, logprob, bytes, top_logprobs[]}
   * per generated token, top_logprobs the `n` most likely, most likely first (vLLM builds the same
   * shape: vllm/entrypoints/openai/chat_completion/serving.py `_create_chat_logprobs`, commit
   * 006c49d485f9ca479bf4989cbb694d0ac02f44b5). `bytes` are the token's own UTF-8 bytes, as OpenAI
   * documents them, so a character split over byte tokens can be put back together.
   */
  const chatLogprobs = (lps: readonly TokenLogprob[]) => ({
    content: lps.map((lp) => ({
      token: tokenText(lp.id),
      logprob: clampLp(lp.logprob),
      bytes: Array.from(tok.tokenBytes(lp.id)),
      top_logprobs: lp.top.map((a) => ({ token: tokenText(a.id), logprob: clampLp(a.logprob), bytes: Array.from(tok.tokenBytes(a.id)) })),
    })),
  });

  /** What a request asks for beyond the completion text. */
  interface Extras {
    /** Generated tokens' alternatives (chat top_logprobs, completions logprobs); null: no logprobs. */
    logprobs: number | null;
    /** Prompt tokens' alternatives; null: no prompt logprobs. */
    promptLogprobs: number | null;
    echo: boolean;
    returnTokenIds: boolean;
  }
  const plain: Extras = { logprobs: null, promptLogprobs: null, echo: false, returnTokenIds: false };

  const complete = async (res: ServerResponse, req: CompletionRequest, ids: number[], chat: boolean, x: Extras = plain) => {
    const { model: modelId, max_tokens: maxTokens } = req;
    const m = byId.get(modelId);
    if (!m) return error(res, 404, `The model \`${modelId}\` does not exist.`, 'NotFoundError');
    if (ids.length === 0) return error(res, 400, 'Either prompt or prompt_embeds must be provided and non-empty.', 'BadRequestError', 'prompt');
    if (ids.length + maxTokens > m.maxModelLen) {
      return error(res, 400, `This model's maximum context length is ${m.maxModelLen} tokens. However, you requested ${ids.length + maxTokens} tokens (${ids.length} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`);
    }
    if (req.stream) return stream(res, m, ids, maxTokens, chat, req.stream_options?.include_usage === true);
    const g = await run(m, ids, {
      maxNewTokens: maxTokens,
      stopAtNewline: !chat,
      ...(x.logprobs !== null && maxTokens > 0 ? { logprobs: x.logprobs } : {}),
      ...(x.promptLogprobs !== null ? { promptLogprobs: x.promptLogprobs } : {}),
    });
    const text = tok.decode(g.ids);
    // vLLM hands the engine max_tokens 1 for echo with max_tokens 0 and counts that token in its usage;
    // the lab server decodes nothing then, and counts nothing.
    const usage = usageOf(g);
    const created = Math.floor(Date.now() / 1000);
    if (chat) {
      const logprobs = x.logprobs !== null ? chatLogprobs(g.logprobs ?? []) : null;
      send(res, 200, { id: `chatcmpl-${created}`, object: 'chat.completion', created, model: m.id, choices: [{ index: 0, message: { role: 'assistant', content: text }, logprobs, finish_reason: g.finishReason }], usage });
      return;
    }
    // echo: the prompt's tokens first (completion/serving.py `request_output_to_completion_response`).
    const shown = x.echo ? [...ids, ...g.ids] : g.ids;
    const shownLps = x.echo ? [...(g.promptLogprobs ?? []), ...(g.logprobs ?? [])] : (g.logprobs ?? []);
    const logprobs = x.logprobs !== null ? legacyLogprobs(shown, shownLps) : null;
    const choice = {
      index: 0,
      text: x.echo ? tok.decode(ids) + text : text,
      logprobs,
      finish_reason: g.finishReason,
      prompt_logprobs: g.promptLogprobs ? vllmPromptLogprobs(ids, g.promptLogprobs) : null,
      ...(x.returnTokenIds ? { prompt_token_ids: ids, token_ids: g.ids } : {}),
    };
    send(res, 200, { id: `cmpl-${created}`, object: 'text_completion', created, model: m.id, choices: [choice], usage });
  };

  /**
   * One completion as server-sent events: `data: {chunk}` per decoded token (chat chunks carry
   * `choices[0].delta.content`, completion chunks `choices[0].text`), a last chunk with the
   * finish_reason, the usage chunk (empty choices) when asked for, then `data: [DONE]`.
   */
  const stream = async (res: ServerResponse, m: ServedModel, ids: number[], maxTokens: number, chat: boolean, includeUsage: boolean) => {
    const created = Math.floor(Date.now() / 1000);
    const id = `${chat ? 'chatcmpl' : 'cmpl'}-${created}`;
    const object = chat ? 'chat.completion.chunk' : 'text_completion';
    const event = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
    const chunk = (text: string | null, finishReason: string | null) =>
      event({
        id,
        object,
        created,
        model: m.id,
        choices: [chat ? { index: 0, delta: text === null ? {} : { content: text }, finish_reason: finishReason } : { index: 0, text: text ?? '', logprobs: null, finish_reason: finishReason }],
        ...(includeUsage ? { usage: null } : {}),
      });
    // A client that hangs up stops the decoding rather than letting it run to max_tokens.
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    if (chat) event({ id, object, created, model: m.id, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }], ...(includeUsage ? { usage: null } : {}) });
    const out: number[] = [];
    let sent = '';
    // Bytes of one character can arrive as several tokens: text is sent once it decodes whole.
    const flush = (final: boolean) => {
      const text = tok.decode(out);
      if (!final && text.endsWith('\uFFFD')) return;
      if (text.length > sent.length) chunk(text.slice(sent.length), null);
      sent = text;
    };
    try {
      const g = await run(m, ids, {
        maxNewTokens: maxTokens,
        stopAtNewline: !chat,
        signal: gone.signal,
        onToken: (t) => {
          out.push(t);
          flush(false);
        },
      });
      flush(true);
      chunk(chat ? null : '', g.finishReason);
      if (includeUsage) {
        event({ id, object, created, model: m.id, choices: [], usage: usageOf(g) });
      }
    } catch (e) {
      if (gone.signal.aborted) return;
      // The status line is already sent: the failure travels as an error event, as OpenAI's does.
      event({ error: { message: (e as Error).message, type: 'InternalServerError', param: null, code: 500 } });
    }
    res.end('data: [DONE]\n\n');
  };

  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method === 'GET' && path === '/health') return void res.writeHead(200).end();
      if (req.method === 'GET' && path === '/metrics') {
        const text = metricsText();
        return void res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-length': Buffer.byteLength(text) }).end(text);
      }
      if (req.method === 'POST' && path === '/reset_prefix_cache') {
        if (!prefixCache) return error(res, 400, 'the prefix cache is off (start the server with a prefix cache capacity)');
        if (!prefixCache.reset()) return error(res, 409, 'requests are running: the prefix cache can be reset only when idle', 'ConflictError');
        return void res.writeHead(200).end();
      }
      if (req.method === 'GET' && path === '/v1/models') {
        return send(res, 200, { object: 'list', data: models.map((m) => ({ id: m.id, object: 'model', owned_by: 'ctxlab', max_model_len: m.maxModelLen })) });
      }
      if (req.method === 'POST' && path === '/v1/chat/completions') {
        const b = checkedBody(await readJson(req), chatBody, ['prompt_logprobs', 'top_logprobs'], (body) => logprobRefusal({ chat: true, body }, card.vocabSize));
        if (!b.ok) return error(res, 400, b.message, 'BadRequestError', b.param);
        const ids = tok.encodeChat(b.data.messages as ChatMessage[], { addGenerationPrompt: true });
        return await complete(res, b.data, ids, true, { ...plain, logprobs: b.data.logprobs ? (b.data.top_logprobs ?? 0) : null });
      }
      if (req.method === 'POST' && path === '/v1/completions') {
        const b = checkedBody(await readJson(req), completionBody, ['prompt_logprobs', 'logprobs'], (body) => logprobRefusal({ chat: false, body }, card.vocabSize));
        if (!b.ok) return error(res, 400, b.message, 'BadRequestError', b.param);
        const ids = typeof b.data.prompt === 'string' ? tok.encode(b.data.prompt) : b.data.prompt;
        if (ids.some((x) => x >= card.vocabSize)) return error(res, 400, `prompt: token ids must be below the vocabulary size ${card.vocabSize}`, 'BadRequestError', 'prompt');
        const { echo, logprobs, prompt_logprobs: promptN, return_token_ids: returnTokenIds } = b.data;
        // With echo the prompt's logprobs come with `logprobs` alternatives unless prompt_logprobs says otherwise.
        const promptLogprobs = promptN ?? (echo && logprobs != null ? logprobs : null);
        return await complete(res, b.data, ids, false, {
          logprobs: logprobs ?? null,
          promptLogprobs,
          echo: echo === true,
          returnTokenIds: returnTokenIds === true,
        });
      }
      return error(res, 404, `no route ${req.method} ${path}`, 'NotFoundError');
    } catch (e) {
      if (e instanceof SyntaxError) return error(res, 400, `the request body is not valid JSON: ${e.message}`);
      return error(res, 500, (e as Error).message, 'InternalServerError');
    }
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    models,
    card,
    /** The KV pool (null when prefix caching is off). */
    prefixCache,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await releaseSessions();
    },
  };
}
