import { getTokenizer } from '@ctxlab/tokenizers';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCard } from './card';
import { allowedCpus, generate, intraOpAffinities, passes, releaseSessions, rotaryTables, session, sessionOptions } from './engine';
import { startLabServer } from './server';

const card = loadCard();
const stage = (n: number) => card.stages.find((s) => s.stage === n)!;
const file = (n: number) => `${card.dir}/${stage(n).file}`;

afterAll(releaseSessions);

describe('lab model engine on onnxruntime-node', () => {
  it('rotary tables: angle = position × θ^(−2j/d), half width', () => {
    const { cos, sin } = rotaryTables(10_000, 32, 5, 2);
    expect(cos.dims).toEqual([2, 16]);
    const a = 6 * 10_000 ** (-2 * 3 / 32);
    expect((cos.data as Float32Array)[16 + 3]).toBeCloseTo(Math.cos(a), 6);
    expect((sin.data as Float32Array)[16 + 3]).toBeCloseTo(Math.sin(a), 6);
  });

  it('decoding from the KV cache gives what a full recompute gives', async () => {
    const s = await session(file(2), 1);
    const tok = getTokenizer('byte');
    const prompt = tok.encodeChat([{ role: 'user', content: 'The special magic Paris number is: 1234567. What is the special magic Paris number?' }], { addGenerationPrompt: true });
    const g = await generate(s, card, prompt, { theta: stage(2).ropeTheta, maxNewTokens: 6, stopIds: [] });
    expect(g.ids).toHaveLength(6);
    // Without the cache: one pass over prompt + the first k generated tokens predicts token k.
    for (let k = 0; k < 6; k++) {
      const seq = [...prompt, ...g.ids.slice(0, k)];
      const again = await generate(s, card, seq, { theta: stage(2).ropeTheta, maxNewTokens: 1, stopIds: [] });
      expect(again.ids[0]).toBe(g.ids[k]);
    }
  });

  it('a different theta changes the output (the rotary tables really are inputs)', async () => {
    const s = await session(file(1), 1);
    const ids = Array.from({ length: 300 }, (_, i) => 97 + (i % 26));
    const feed = (theta: number) => {
      const { cos, sin } = rotaryTables(theta, card.headDim, 0, ids.length);
      const past: Record<string, ort.Tensor> = {};
      for (let l = 0; l < card.numLayers; l++) {
        past[`past_key_values.${l}.key`] = new ort.Tensor('float32', new Float32Array(0), [1, card.numKeyValueHeads, 0, card.headDim]);
        past[`past_key_values.${l}.value`] = new ort.Tensor('float32', new Float32Array(0), [1, card.numKeyValueHeads, 0, card.headDim]);
      }
      return s.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]), cos, sin, ...past });
    };
    const [a, b] = [await feed(10_000), await feed(154_243)];
    const la = a.logits!.data as Float32Array;
    const lb = b.logits!.data as Float32Array;
    let diff = 0;
    for (let i = la.length - 259; i < la.length; i++) diff = Math.max(diff, Math.abs(la[i]! - lb[i]!));
    expect(diff).toBeGreaterThan(1e-3);
  });
});

describe('intra-op thread settings', () => {
  it('one 1-based CPU per worker thread, none for the calling thread', () => {
    expect(intraOpAffinities(1, [0, 1])).toBeUndefined();
    expect(intraOpAffinities(2, [0, 1])).toBe('2');
    expect(intraOpAffinities(3, [0, 1])).toBe('2;1');
    expect(intraOpAffinities(4, [4, 5, 6])).toBe('6;7;5');
  });

  it('session options carry the settings as onnxruntime session config entries', () => {
    expect(sessionOptions(1).extra).toBeUndefined();
    expect(sessionOptions(2, { pin: true, spin: false }).extra).toEqual({ session: { intra_op_thread_affinities: intraOpAffinities(2), 'intra_op.allow_spinning': '0' } });
    expect(sessionOptions(1, { pin: true, spin: true }).extra).toEqual({ session: { 'intra_op.allow_spinning': '1' } });
  });

  it('onnxruntime reads the affinity entry: a count that does not match the threads is refused', async () => {
    await expect(ort.InferenceSession.create(file(1), { ...sessionOptions(2), extra: { session: { intra_op_thread_affinities: '1;1' } } })).rejects.toThrow(/affinit/i);
  });

  it.skipIf(!existsSync('/proc/self/task') || allowedCpus().length < 2)('a pinned session runs its worker thread on the CPU it names', async () => {
    const tasks = () => new Set(readdirSync('/proc/self/task'));
    const before = tasks();
    const s = await ort.InferenceSession.create(file(1), sessionOptions(2, { pin: true, spin: false }));
    try {
      const cpuLists = () =>
        [...tasks()].filter((t) => !before.has(t)).map((t) => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/self/task/${t}/status`, 'utf8'))?.[1]);
      // The worker sets its own affinity when it starts: give it a moment.
      for (let i = 0; i < 50 && !cpuLists().includes(String(allowedCpus()[1])); i++) await new Promise((r) => setTimeout(r, 20));
      expect(cpuLists()).toContain(String(allowedCpus()[1]));
    } finally {
      await s.release();
    }
  });

  it('pass by pass decoding gives what generate gives', async () => {
    const s = await session(file(2), 1);
    const prompt = Array.from({ length: 40 }, (_, i) => 97 + (i % 26));
    const o = { theta: stage(2).ropeTheta, maxNewTokens: 5, stopIds: [] };
    const gen = passes(s, card, prompt, o);
    let steps = 0;
    let r = await gen.next();
    while (!r.done) {
      steps++;
      r = await gen.next();
    }
    // The prefill and 4 decode passes: the last one returns.
    expect(steps).toBe(4);
    expect(r.value.ids).toEqual((await generate(s, card, prompt, o)).ids);
  });
});

describe('the local OpenAI-compatible server', () => {
  it('serves both stages with exact usage counts and vLLM-style errors', async () => {
    const srv = await startLabServer({ threads: 1 });
    try {
      const models = (await (await fetch(`${srv.url}/v1/models`)).json()) as { data: { id: string }[] };
      expect(models.data.map((m) => m.id)).toEqual(['lab-stage1', 'lab-stage2']);
      expect((await fetch(`${srv.url}/health`)).status).toBe(200);
      const messages = [{ role: 'user' as const, content: 'Hello there. What is the special magic Oslo number?' }];
      const chat = await fetch(`${srv.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'lab-stage2', messages, max_tokens: 8 }) });
      expect(chat.status).toBe(200);
      const c = (await chat.json()) as { choices: { message: { content: string } }[]; usage: { prompt_tokens: number; completion_tokens: number } };
      expect(c.usage.prompt_tokens).toBe(getTokenizer('byte').encodeChat(messages, { addGenerationPrompt: true }).length);
      expect(c.usage.completion_tokens).toBeLessThanOrEqual(8);
      const ids = await fetch(`${srv.url}/v1/completions`, { method: 'POST', body: JSON.stringify({ model: 'lab-stage1', prompt: [256, 72, 105], max_tokens: 3 }) });
      expect(((await ids.json()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens).toBe(3);
      const long = await fetch(`${srv.url}/v1/completions`, { method: 'POST', body: JSON.stringify({ model: 'lab-stage1', prompt: 'x'.repeat(9000), max_tokens: 3 }) });
      expect(long.status).toBe(400);
      expect(((await long.json()) as { message: string }).message).toMatch(/maximum context length is 8192 tokens/);
      expect((await fetch(`${srv.url}/v1/completions`, { method: 'POST', body: JSON.stringify({ model: 'nope', prompt: 'x' }) })).status).toBe(404);
      expect((await fetch(`${srv.url}/v1/chat/completions`, { method: 'POST', body: '{not json' })).status).toBe(400);
      expect((await fetch(`${srv.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'lab-stage1', messages: [] }) })).status).toBe(400);
    } finally {
      await srv.close();
    }
  }, 60_000);
});
