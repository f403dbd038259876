import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseSessions } from './engine';
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

describe('the lab server streams completions as server-sent events (stream: true)', () => {
  let srv: Awaited<ReturnType<typeof startLabServer>>;
  beforeAll(async () => {
    srv = await startLabServer({ threads: 1 });
  });
  afterAll(async () => {
    await srv.close();
    await releaseSessions();
  });
  const post = (path: string, body: unknown) => fetch(`${srv.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
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
