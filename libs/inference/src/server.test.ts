import { getTokenizer } from '@ctxlab/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCard } from './card';
import { sequencePerplexity } from './checks';
import { rowLogprob, session } from './engine';
import { startLabServer } from './server';

type Chunk = {
  id: string;
  object: string;
  choices: { index: number; delta?: { role?: string; content?: string }; text?: string; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
};

/** Reads a server-sent-event body as OpenAI's clients do: `data:` lines, events split by a blank line. */
async function readEvents(res: Response): Promise<{ events: string[]; reads: number }> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: string[] = [];
  let buffer = '';
  let reads = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    reads++;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
      if (data) events.push(data);
    }
  }
  expect(buffer).toBe('');
  return { events, reads };
}

/**
 * A lab server for the enclosing describe block (started before its tests, closed after: closing
 * releases the onnxruntime sessions) and a POST of a JSON body to it.
 */
function labServerPost(): (path: string, body: unknown) => Promise<Response> {
  let srv: Awaited<ReturnType<typeof startLabServer>>;
  beforeAll(async () => {
    srv = await startLabServer({ threads: 1 });
  });
  afterAll(() => srv.close());
  return (path, body) => fetch(`${srv.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('the lab server streams completions as server-sent events (stream: true)', () => {
  const post = labServerPost();
  const messages = [{ role: 'user', content: 'The special magic Oslo number is: 4721. What is the special magic Oslo number?' }];

  it('chat: a role chunk, delta chunks that add up to the unstreamed answer, a finish chunk, usage, [DONE]', async () => {
    const plain = (await (await post('/v1/chat/completions', { model: 'lab-stage2', messages, max_tokens: 12 })).json()) as {
      choices: { message: { content: string }; finish_reason: string }[];
      usage: { completion_tokens: number };
    };
    const res = await post('/v1/chat/completions', { model: 'lab-stage2', messages, max_tokens: 12, stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const { events } = await readEvents(res);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Chunk);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]!.id)).toBe(true);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    const usage = chunks.at(-1)!;
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toMatchObject({ completion_tokens: plain.usage.completion_tokens });
    const finish = chunks.at(-2)!;
    expect(finish.choices[0]).toMatchObject({ delta: {}, finish_reason: plain.choices[0]!.finish_reason });
    const deltas = chunks.slice(1, -2);
    // One event per decoded token (bytes of one character travel together), not one body at the end.
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.length).toBeLessThanOrEqual(plain.usage.completion_tokens);
    expect(deltas.every((c) => c.choices[0]!.finish_reason === null && c.usage === null)).toBe(true);
    expect(deltas.map((c) => c.choices[0]!.delta!.content).join('')).toBe(plain.choices[0]!.message.content);
  }, 60_000);

  it('completions: text chunks add up to the unstreamed text; no usage chunk unless asked for', async () => {
    const body = { model: 'lab-stage1', prompt: 'The quick brown fox jumps over the lazy dog. The quick brown', max_tokens: 8 };
    const plain = (await (await post('/v1/completions', body)).json()) as { choices: { text: string; finish_reason: string }[] };
    const { events } = await readEvents(await post('/v1/completions', { ...body, stream: true }));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Chunk);
    expect(chunks.every((c) => c.object === 'text_completion' && !('usage' in c))).toBe(true);
    expect(chunks.at(-1)!.choices[0]).toMatchObject({ text: '', finish_reason: plain.choices[0]!.finish_reason });
    expect(chunks.slice(0, -1).length).toBeGreaterThan(1);
    expect(chunks.map((c) => c.choices[0]!.text).join('')).toBe(plain.choices[0]!.text);
  }, 60_000);

  it('refusals before the stream starts are plain JSON errors with their status', async () => {
    const res = await post('/v1/chat/completions', { model: 'nope', messages, stream: true });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { message: string }).message).toMatch(/does not exist/);
  });
});

describe('the lab server scores prompts and generations with logprobs (echo, logprobs, top_logprobs)', () => {
  const post = labServerPost();
  const card = loadCard();
  const stage1 = card.stages.find((s) => s.stage === 1)!;
  const tok = getTokenizer('byte');
  const ids = tok.encode('It is a pleasure to report to you that the state of our Union is strong. '.repeat(3), { addBos: true });
  type Legacy = { tokens: string[]; token_logprobs: (number | null)[]; top_logprobs: (Record<string, number> | null)[]; text_offset: number[] };
  type CompletionJson = {
    choices: { text: string; logprobs: Legacy | null; finish_reason: string; prompt_logprobs: (Record<string, { logprob: number; rank: number; decoded_token: string }> | null)[] | null; prompt_token_ids?: number[] }[];
    usage: { prompt_tokens: number; completion_tokens: number };
  };

  it('echo with max_tokens 0: the prompt tokens and their logprobs (first null), summing to the engine\'s own NLL', async () => {
    const res = await post('/v1/completions', { model: 'lab-stage1', prompt: ids, echo: true, logprobs: 2, max_tokens: 0 });
    expect(res.status).toBe(200);
    const j = (await res.json()) as CompletionJson;
    const c = j.choices[0]!;
    const lp = c.logprobs!;
    expect(lp.tokens).toHaveLength(ids.length);
    expect(lp.tokens.join('')).toBe(tok.decode(ids));
    expect(c.text).toBe(tok.decode(ids));
    expect(lp.token_logprobs[0]).toBeNull();
    expect(lp.top_logprobs[0]).toBeNull();
    expect(lp.token_logprobs.slice(1).every((x) => typeof x === 'number' && x <= 0)).toBe(true);
    // The token itself and its 2 most likely alternatives (fewer keys when it is one of them).
    for (let i = 1; i < ids.length; i++) {
      const d = lp.top_logprobs[i]!;
      expect(Object.keys(d).length).toBeGreaterThanOrEqual(2);
      expect(Object.keys(d).length).toBeLessThanOrEqual(3);
      expect(d[lp.tokens[i]!]).toBe(lp.token_logprobs[i]);
    }
    expect(lp.text_offset.slice(0, 3)).toEqual([0, [...lp.tokens[0]!].length, [...lp.tokens[0]!].length + [...lp.tokens[1]!].length]);
    expect(j.usage).toMatchObject({ prompt_tokens: ids.length, completion_tokens: 0 });
    expect(c.finish_reason).toBe('length');
    // vLLM's own field comes along: the same numbers, keyed by token id, with ranks.
    expect(c.prompt_logprobs![0]).toBeNull();
    expect(c.prompt_logprobs![5]![String(ids[5])]!.logprob).toBe(lp.token_logprobs[5]);

    // The engine's own computation over the same ids: one prefill, float64 log-softmax.
    const own = await sequencePerplexity(await session(`${card.dir}/${stage1.file}`, 1), card, ids, stage1.ropeTheta);
    const served = -(lp.token_logprobs.slice(1) as number[]).reduce((a, x) => a + x, 0);
    expect(Math.abs(served - own.meanNll * own.tokens)).toBeLessThan(1e-9 * own.tokens);
  }, 60_000);

  it('echo with generation: prompt then generated tokens, the generated ones scored too; a text prompt works alike', async () => {
    const text = 'The quick brown fox jumps over the lazy dog. The quick brown';
    const j = (await (await post('/v1/completions', { model: 'lab-stage1', prompt: text, echo: true, logprobs: 1, max_tokens: 4, return_token_ids: true })).json()) as CompletionJson;
    const c = j.choices[0]!;
    const n = j.usage.prompt_tokens + j.usage.completion_tokens;
    expect(c.logprobs!.tokens).toHaveLength(n);
    expect(c.text.startsWith(text)).toBe(true);
    expect(c.logprobs!.tokens.join('')).toBe(c.text);
    expect(c.logprobs!.token_logprobs.filter((x) => x === null)).toHaveLength(1);
    expect(c.prompt_token_ids).toEqual(tok.encode(text));
    // Greedy decoding: every generated token is the most likely one.
    for (let i = j.usage.prompt_tokens; i < n; i++) expect(Math.max(...Object.values(c.logprobs!.top_logprobs[i]!))).toBe(c.logprobs!.token_logprobs[i]);
    // Without echo: the generated tokens only.
    const g = (await (await post('/v1/completions', { model: 'lab-stage1', prompt: text, logprobs: 0, max_tokens: 4 })).json()) as CompletionJson;
    expect(g.choices[0]!.logprobs!.tokens.join('')).toBe(g.choices[0]!.text);
    expect(g.choices[0]!.logprobs!.token_logprobs).toEqual(c.logprobs!.token_logprobs.slice(j.usage.prompt_tokens));
    expect(g.choices[0]!.prompt_logprobs).toBeNull();
  }, 60_000);

  it('chat: logprobs + top_logprobs give each generated token with its most likely alternatives, best first', async () => {
    const messages = [{ role: 'user', content: 'Answer with one letter: A, B, C or D.\nAnswer:' }];
    const res = await post('/v1/chat/completions', { model: 'lab-stage2', messages, max_tokens: 3, logprobs: true, top_logprobs: 5 });
    expect(res.status).toBe(200);
    const j = (await res.json()) as {
      choices: { message: { content: string }; logprobs: { content: { token: string; logprob: number; bytes: number[]; top_logprobs: { token: string; logprob: number; bytes: number[] }[] }[] } }[];
    };
    const content = j.choices[0]!.logprobs.content;
    expect(content.length).toBeGreaterThan(0);
    expect(content.map((c) => Buffer.from(c.bytes.flat()).toString('latin1')).length).toBe(content.length);
    expect(Buffer.from(content.flatMap((c) => c.bytes)).toString('utf8')).toBe(j.choices[0]!.message.content);
    for (const c of content) {
      expect(c.top_logprobs).toHaveLength(5);
      expect(c.top_logprobs[0]!.logprob).toBe(c.logprob);
      const lps = c.top_logprobs.map((t) => t.logprob);
      expect([...lps].sort((a, b) => b - a)).toEqual(lps);
      expect(lps.reduce((a, x) => a + Math.exp(x), 0)).toBeLessThanOrEqual(1 + 1e-9);
    }
    // logprobs without top_logprobs: the tokens' own logprobs, no alternatives.
    const bare = (await (await post('/v1/chat/completions', { model: 'lab-stage2', messages, max_tokens: 2, logprobs: true })).json()) as typeof j;
    expect(bare.choices[0]!.logprobs.content.every((c) => c.top_logprobs.length === 0)).toBe(true);
    const none = (await (await post('/v1/chat/completions', { model: 'lab-stage2', messages, max_tokens: 2 })).json()) as typeof j;
    expect(none.choices[0]!.logprobs).toBeNull();
  }, 60_000);

  it.each([
    ['/v1/completions', { prompt: 'x', logprobs: 21 }, 'logprobs', 'Requested sample logprobs of 21, which is greater than max allowed: 20'],
    ['/v1/completions', { prompt: 'x', logprobs: -1 }, 'logprobs', 'Requested sample logprobs of 259, which is greater than max allowed: 20'],
    ['/v1/completions', { prompt: 'x', logprobs: -2 }, 'logprobs', '`logprobs` must be a positive value or -1.'],
    ['/v1/completions', { prompt: 'x', prompt_logprobs: 30 }, 'prompt_logprobs', 'Requested prompt logprobs of 30, which is greater than max allowed: 20'],
    ['/v1/completions', { prompt: 'x', prompt_logprobs: 1, stream: true }, 'prompt_logprobs', '`prompt_logprobs` are not available when `stream=True`.'],
    ['/v1/completions', { prompt: 'x', max_tokens: 0 }, 'max_tokens', 'max_tokens must be at least 1, got 0.'],
    ['/v1/completions', { prompt: 'x', logprobs: 'many' }, 'logprobs', '`logprobs` must be an integer.'],
    ['/v1/completions', { prompt: 'x', logprobs: 1.5 }, 'logprobs', 'logprobs'],
    ['/v1/completions', { prompt: [], echo: true, max_tokens: 0 }, 'prompt', 'Either prompt or prompt_embeds must be provided and non-empty.'],
    ['/v1/completions', { prompt: 'x', echo: true, logprobs: 1, stream: true }, 'echo', 'the lab server does not stream logprobs or echo'],
    ['/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], top_logprobs: 3 }, 'top_logprobs', 'when using `top_logprobs`, `logprobs` must be set to true.'],
    ['/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], logprobs: true, top_logprobs: -3 }, 'top_logprobs', '`top_logprobs` must be a positive value or -1.'],
    ['/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], logprobs: true, top_logprobs: 21 }, 'logprobs', 'Requested sample logprobs of 21, which is greater than max allowed: 20'],
    ['/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], max_tokens: 0 }, 'max_tokens', 'max_tokens must be at least 1, got 0.'],
  ] as const)('%s %j: 400 naming %s', async (path, body, param, message) => {
    const res = await post(path, { model: 'lab-stage1', ...body });
    expect(res.status).toBe(400);
    const j = (await res.json()) as { object: string; message: string; param: string; code: number };
    expect(j).toMatchObject({ object: 'error', param, code: 400 });
    expect(j.message).toContain(message);
  });
});

describe('rowLogprob (what the server sends): float64 log-softmax, rank, top alternatives', () => {
  it('matches a brute-force sort, ties to the lower id, and normalises', () => {
    const V = 300;
    const row = new Float32Array(V + 7);
    for (let v = 0; v < V; v++) row[7 + v] = Math.sin(v * 12.9898) * 8 + (v % 17 === 0 ? 3 : 0);
    row[7 + 40] = row[7 + 41]!; // a tie
    const order = Array.from({ length: V }, (_, v) => v).sort((a, b) => row[7 + b]! - row[7 + a]! || a - b);
    for (const target of [order[0]!, order[5]!, order[V - 1]!, 40, 41]) {
      const r = rowLogprob(row, 7, V, target, 20);
      expect(r.top.map((t) => t.id)).toEqual(order.slice(0, 20));
      expect(r.rank).toBe(1 + order.filter((v) => row[7 + v]! > row[7 + target]!).length);
      expect(r.top[0]!.logprob).toBeLessThanOrEqual(0);
    }
    const all = rowLogprob(row, 7, V, 0, V);
    expect(all.top.reduce((a, t) => a + Math.exp(t.logprob), 0)).toBeCloseTo(1, 12);
    expect(rowLogprob(row, 7, V, 3, 0).top).toEqual([]);
  });
});
