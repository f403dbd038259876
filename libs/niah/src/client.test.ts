import { guardedFetch } from '@ctxlab/security';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpenAIClient, type OpenAIClientOptions } from './client';
import { REPLY_TOKEN_LOGPROB, startOpenAITestServer, syntheticLogprob, type OpenAITestServer } from './testing/openai-test-server';

let server: OpenAITestServer;
let sleeps: number[];

beforeAll(async () => {
  server = await startOpenAITestServer({ tokenizer: 'byte', maxModelLen: 4096 });
});
afterAll(() => server.close());
beforeEach(() => {
  server.setBehaviour({ kind: 'answer' });
  server.setTopLogprobs(null);
  server.requests.length = 0;
  sleeps = [];
});

const client = (over: Partial<OpenAIClientOptions> = {}) =>
  new OpenAIClient({
    baseUrl: server.url,
    model: server.model,
    timeoutMs: 2_000,
    maxAttempts: 4,
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
    ...over,
  });

/** What a request resolves to when the server hangs and the caller aborts it 50 ms in. */
async function abortedWhileHanging<T>(request: (signal: AbortSignal) => Promise<T>): Promise<T> {
  server.setBehaviour({ kind: 'hang' });
  const ctl = new AbortController();
  const p = request(ctl.signal);
  setTimeout(() => ctl.abort(), 50);
  return p;
}

const question = [{ role: 'user', content: 'The special magic Oslo number is: 4242424.\n\nWhat is the special magic Oslo number?' }];

describe('OpenAI-compatible client against the test server', () => {
  it('gets an answer, usage and latency from /v1/chat/completions', async () => {
    const r = await client().chat(question, { maxTokens: 50 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.text).toContain('4242424');
    expect(r.usage?.promptTokens).toBe(server.requests[0]!.promptTokens);
    expect(r.attempts).toBe(1);
    expect(r.latencyMs).toBeGreaterThan(0);
  });

  it('sends token-id prompts to /v1/completions', async () => {
    const ids = Array.from(new TextEncoder().encode(question[0]!.content));
    const r = await client().complete(Uint32Array.from(ids));
    expect(r.ok && r.text).toContain('4242424');
    expect(server.requests[0]!.body).toMatchObject({ prompt: ids });
  });

  it.each([
    ['HTTP 500', { kind: 'status', status: 500 }],
    ['HTTP 503', { kind: 'status', status: 503 }],
    ['a hanging server (timeout)', { kind: 'hang' }],
    ['a truncated body', { kind: 'truncate' }],
    ['a connection reset', { kind: 'reset' }],
    ['invalid JSON', { kind: 'invalid-json' }],
    ['a response without choices', { kind: 'wrong-shape' }],
  ] as const)('retries after %s and succeeds', async (_name, failure) => {
    server.script(failure, failure);
    const r = await client({ timeoutMs: 300 }).chat(question);
    expect(r.ok).toBe(true);
    expect(r.attempts).toBe(3);
    expect(server.requests).toHaveLength(3);
    // Exponential backoff with jitter: 500·2^(n−1) scaled by 0.5 + 0.5·random.
    expect(sleeps).toEqual([375, 750]);
  });

  it('honours Retry-After on 429', async () => {
    server.script({ kind: 'status', status: 429, retryAfterSeconds: 3 });
    const r = await client().chat(question);
    expect(r.ok).toBe(true);
    expect(sleeps).toEqual([3000]);
  });

  it('gives up after maxAttempts with a failure that says why', async () => {
    server.setBehaviour({ kind: 'status', status: 503, message: 'overloaded' });
    const r = await client().chat(question);
    expect(r).toMatchObject({ ok: false, kind: 'http', status: 503, attempts: 4 });
    expect(!r.ok && r.error).toContain('overloaded');
  });

  it('does not retry a bad request', async () => {
    const r = await client().chat([{ role: 'user', content: 'x'.repeat(5000) }]);
    expect(r).toMatchObject({ ok: false, kind: 'http', status: 400, attempts: 1 });
    expect(!r.ok && r.error).toContain('maximum context length is 4096');
    const wrongModel = await client({ model: 'nope' }).chat(question);
    expect(wrongModel).toMatchObject({ ok: false, status: 404, attempts: 1 });
  });

  it('stops when the caller aborts', async () => {
    expect(await abortedWhileHanging((signal) => client({ timeoutMs: 10_000 }).chat(question, { signal }))).toMatchObject({ ok: false, kind: 'aborted' });
  });

  it('a response held past the transport\'s own limits arrives when the transport is given the request timeout', async () => {
    server.setBehaviour({ kind: 'delay', ms: 2_000 });
    // undici's 300 s limits, lowered to 200 ms: the same request ends early without the timeout.
    const transportLimits = { headersTimeout: 200, bodyTimeout: 200 };
    const [allowed, limited] = await Promise.all([
      client({ timeoutMs: 10_000, maxAttempts: 1, fetch: guardedFetch({ allow: ['127.0.0.1'] }, { timeoutMs: 10_000, transportLimits }) }).chat(question),
      client({ timeoutMs: 10_000, maxAttempts: 1, fetch: guardedFetch({ allow: ['127.0.0.1'] }, { transportLimits }) }).chat(question),
    ]);
    expect(allowed).toMatchObject({ ok: true, attempts: 1 });
    expect(limited).toMatchObject({ ok: false, kind: 'network', error: 'network error: UND_ERR_HEADERS_TIMEOUT' });
  });

  it('limits requests in flight', async () => {
    server.setBehaviour({ kind: 'delay', ms: 40 });
    let inFlight = 0;
    let peak = 0;
    const counting: typeof fetch = async (...args) => {
      peak = Math.max(peak, ++inFlight);
      try {
        return await fetch(...args);
      } finally {
        inFlight--;
      }
    };
    const c = client({ concurrency: 2, fetch: counting });
    const results = await Promise.all(Array.from({ length: 6 }, () => c.chat(question)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(peak).toBe(2);
  });

  it('lists models and probes health', async () => {
    expect(await client().listModels()).toEqual({ ok: true, models: [server.model] });
    expect(await client({ baseUrl: `${server.url}/v1/` }).health()).toMatchObject({ ok: true, status: 200 });
    const down = await client({ baseUrl: 'http://127.0.0.1:9', maxAttempts: 1 }).health();
    expect(down.ok).toBe(false);
  });
});

describe('test server NIAH answerer', () => {
  it('finds needles of every variant and nothing in a haystack without one', async () => {
    const { answerNiahPrompt } = await import('./testing/openai-test-server');
    const hay = 'Lorem ipsum. '.repeat(20);
    expect(answerNiahPrompt(`${hay}\nThe special magic Lima number is: 7654321\n${hay}\n\nWhat is the special magic Lima number?`)?.answer).toContain('7654321');
    expect(answerNiahPrompt(`${hay}上海特有的魔法数字是：1234567。${hay}\n\n上海特有的魔法数字是多少？`)?.answer).toContain('1234567');
    expect(answerNiahPrompt(`${hay}这家店的老板是刘秀。${hay}王莽在谁的手下工作？`)?.answer).toContain('刘秀');
    expect(
      answerNiahPrompt(`${hay} One of the special magic numbers for calm-river is: 111. One of the special magic numbers for odd-violin is: 222. What are all the special magic numbers for calm-river and odd-violin mentioned in the provided text?`)?.answer,
    ).toMatch(/111.*222/);
    expect(answerNiahPrompt(`${hay}\nFigs are one of the secret ingredients needed to build the perfect pizza.\n What are the secret ingredients needed to build the perfect pizza?`)?.answer).toContain('figs');
    expect(answerNiahPrompt(`${hay}What is the special magic Lima number?`)).toBeUndefined();
  });
});

describe('logprobs through the client (the test double speaks vLLM\'s shapes)', () => {
  const ids = Array.from(new TextEncoder().encode('The special magic Oslo number is: 4242424.'));

  it('promptLogprobs: echo + logprobs + max_tokens 0; every prompt token scored, the first null', async () => {
    const r = await client().promptLogprobs(Uint32Array.from(ids));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(server.requests[0]!.body).toMatchObject({ prompt: ids, echo: true, logprobs: 1, max_tokens: 0, temperature: 0 });
    expect(r.ids).toEqual(ids);
    expect(r.tokens.join('')).toBe(new TextDecoder().decode(Uint8Array.from(ids)));
    expect(r.logprobs).toEqual([null, ...ids.slice(1).map((_, k) => syntheticLogprob(ids, k + 1))]);
    expect(r).toMatchObject({ attempts: 1, usage: { promptTokens: ids.length, completionTokens: 0 } });
  });

  it('promptLogprobs of a text prompt: the prompt part by usage.prompt_tokens, even when tokens are generated after it', async () => {
    const text = 'Hello there, world.';
    const r = await client().promptLogprobs(text, { maxTokens: 5 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    // The byte tokenizer adds BOS to a text prompt, as vLLM's add_special_tokens does.
    expect(r.logprobs).toHaveLength(text.length + 1);
    expect(r.ids).toBeUndefined();
  });

  it.each([
    ['HTTP 500', { kind: 'status', status: 500 }],
    ['a hanging server (timeout)', { kind: 'hang' }],
    ['a response without choices', { kind: 'wrong-shape' }],
    ['a truncated body', { kind: 'truncate' }],
  ] as const)('promptLogprobs retries after %s and succeeds', async (_name, failure) => {
    server.script(failure);
    const r = await client({ timeoutMs: 300 }).promptLogprobs(ids);
    expect(r).toMatchObject({ ok: true, attempts: 2 });
  });

  it('promptLogprobs failures are typed and say why: HTTP 500 after the retries, a timeout, a response without logprobs', async () => {
    server.setBehaviour({ kind: 'status', status: 500, message: 'engine died' });
    const http = await client().promptLogprobs(ids);
    expect(http).toMatchObject({ ok: false, kind: 'http', status: 500, attempts: 4 });
    expect(!http.ok && http.error).toContain('engine died');

    server.setBehaviour({ kind: 'hang' });
    expect(await client({ timeoutMs: 150, maxAttempts: 2 }).promptLogprobs(ids)).toMatchObject({ ok: false, kind: 'timeout', attempts: 2 });

    // An endpoint that answers without the logprobs asked for: not a zero, not retried.
    server.setBehaviour({ kind: 'no-logprobs' });
    const missing = await client().promptLogprobs(ids);
    expect(missing).toMatchObject({ ok: false, kind: 'invalid-response', attempts: 1 });
    expect(!missing.ok && missing.error).toMatch(/no logprobs/);

    expect(await abortedWhileHanging((signal) => client({ timeoutMs: 10_000 }).promptLogprobs(ids, { signal }))).toMatchObject({ ok: false, kind: 'aborted' });
  });

  it('promptLogprobs refuses an echo shorter than the prompt and a missing logprob after the first token', async () => {
    // A transport that tampers with the answers: drops the last echoed token, or nulls a logprob.
    const bad = await startOpenAITestServer({ tokenizer: 'byte' });
    try {
      const c = new OpenAIClient({ baseUrl: bad.url, model: bad.model, maxAttempts: 1, fetch: async (url, init) => {
        const res = await fetch(url, init);
        const j = (await res.json()) as { choices: { logprobs: { tokens: string[]; token_logprobs: (number | null)[]; top_logprobs: unknown[] } }[] };
        const l = j.choices[0]!.logprobs;
        if (String(init?.body).includes('"Hi"')) l.token_logprobs[2] = null;
        else for (const k of ['tokens', 'token_logprobs', 'top_logprobs'] as const) l[k].pop();
        return new Response(JSON.stringify(j), { status: 200, headers: { 'content-type': 'application/json' } });
      } });
      const short = await c.promptLogprobs(ids);
      expect(short).toMatchObject({ ok: false, kind: 'invalid-response' });
      expect(!short.ok && short.error).toContain(`echoed ${ids.length - 1} tokens for a prompt of ${ids.length}`);
      const gap = await c.promptLogprobs('Hi');
      expect(!gap.ok && gap.error).toContain('prompt token 2 has no logprob');
    } finally {
      await bad.close();
    }
  });

  it('chatTopLogprobs: the first reply token\'s top alternatives as a test sets them (MMLU\'s " A"…" D")', async () => {
    server.setTopLogprobs([
      { token: ' B', logprob: -0.4 },
      { token: ' A', logprob: -1.5 },
      { token: ' D', logprob: -2.5 },
      { token: ' C', logprob: -3 },
    ]);
    const r = await client().chatTopLogprobs(question, { maxTokens: 1, topLogprobs: 20 });
    expect(server.requests[0]!.body).toMatchObject({ logprobs: true, top_logprobs: 20, max_tokens: 1, temperature: 0 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.text).toBe(' B');
    expect(r.top.map((t) => t.token)).toEqual([' B', ' A', ' D', ' C']);
    expect(r.top[0]).toEqual({ token: ' B', logprob: -0.4, bytes: [32, 66] });
    const completion = await client().completeTopLogprobs(Uint32Array.from(ids), { maxTokens: 1, topLogprobs: 3 });
    expect(completion.ok && completion.top.map((t) => t.token)).toEqual([' B', ' A', ' D']);
  });

  it('chatTopLogprobs without scripted letters: synthetic reply logprobs; fault injection applies; missing logprobs fail', async () => {
    const r = await client().chatTopLogprobs(question, { maxTokens: 50, topLogprobs: 3 });
    expect(r.ok && r.tokens.length).toBeGreaterThan(1);
    expect(r.ok && r.tokens.every((t) => t.logprob === REPLY_TOKEN_LOGPROB && t.top.length === 3)).toBe(true);
    server.script({ kind: 'status', status: 503 });
    expect(await client().chatTopLogprobs(question, { topLogprobs: 5 })).toMatchObject({ ok: true, attempts: 2 });
    server.script({ kind: 'no-logprobs' });
    expect(await client().chatTopLogprobs(question, { topLogprobs: 5 })).toMatchObject({ ok: false, kind: 'invalid-response', attempts: 1 });
    server.script({ kind: 'no-logprobs' });
    expect(await client().completeTopLogprobs('Hi', { topLogprobs: 5 })).toMatchObject({ ok: false, kind: 'invalid-response', attempts: 1 });
  });

  it('the test double refuses bad logprob fields as vLLM does, naming them', async () => {
    const post = (path: string, body: unknown) => fetch(`${server.url}${path}`, { method: 'POST', body: JSON.stringify({ model: server.model, ...(body as object) }) });
    const cases: [string, unknown, string][] = [
      ['/v1/completions', { prompt: 'x', logprobs: 21 }, 'logprobs'],
      ['/v1/completions', { prompt: 'x', max_tokens: 0 }, 'max_tokens'],
      ['/v1/chat/completions', { messages: question, top_logprobs: 2 }, 'top_logprobs'],
      ['/v1/chat/completions', { messages: question, logprobs: true, top_logprobs: -1 }, 'top_logprobs'],
    ];
    for (const [path, body, param] of cases) {
      const res = await post(path, body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { param: string }).param).toBe(param);
    }
  });
});
