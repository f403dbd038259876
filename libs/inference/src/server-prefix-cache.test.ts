import { PrefixCacheSimulator } from '@ctxlab/niah';
import { loadDefaultCorpus } from '@ctxlab/niah/node';
import { getTokenizer } from '@ctxlab/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLabServer } from './server';

type Completion = {
  choices: { text: string; token_ids?: number[]; logprobs: { token_logprobs: (number | null)[]; top_logprobs: (Record<string, number> | null)[] } | null; prompt_logprobs: (Record<string, { logprob: number }> | null)[] | null }[];
  usage: { prompt_tokens: number; completion_tokens: number; prompt_tokens_details?: { cached_tokens: number } };
};
type Server = Awaited<ReturnType<typeof startLabServer>>;

const BLOCK = 16;
const CAPACITY = 640;
const tok = getTokenizer('byte');
const text = loadDefaultCorpus('sotu-en').text.slice(50_000, 52_000);
const bos = tok.special.bos.id;
const haystack = [bos, ...tok.encode(text)];
const question = tok.encode('\n\nWhat is the special magic number?\n\n### Assistant:\n');

/**
 * Prompts that share prefixes, in an order that hits, misses, evicts (the pool holds 640 tokens) and
 * includes block-aligned prompts sent twice (the second recomputes its last block).
 */
const prompts: number[][] = [
  [...haystack.slice(0, 300), ...question],
  [...haystack.slice(0, 300), ...question],
  [...haystack.slice(0, 450), ...question],
  haystack.slice(0, 256),
  haystack.slice(0, 256),
  [...haystack.slice(0, 200), ...question],
  haystack.slice(0, 600),
  [...haystack.slice(0, 300), ...question],
  haystack.slice(0, 257),
  [...haystack.slice(0, 123)],
  [...haystack.slice(0, 450), ...question],
];

/** Cached tokens of a prompt whose every full block is cached: all but the last token's block when block-aligned. */
const allCached = (n: number) => Math.floor((n - 1) / BLOCK) * BLOCK;

const metrics = async (srv: Server) => {
  const body = await (await fetch(`${srv.url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of body.split('\n')) if (line && !line.startsWith('#')) out.set(line.split(' ')[0]!, Number(line.split(' ')[1]));
  return out;
};

describe('the lab server with automatic prefix caching', () => {
  let on: Server;
  let off: Server;
  beforeAll(async () => {
    on = await startLabServer({ threads: 1, prefixCache: { capacityTokens: CAPACITY, blockSize: BLOCK } });
    off = await startLabServer({ threads: 1 });
  });
  afterAll(async () => {
    await on.close();
    await off.close();
  });
  const post = (srv: Server, path: string, body: unknown) =>
    fetch(`${srv.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const complete = async (srv: Server, body: Record<string, unknown>) => {
    const res = await post(srv, '/v1/completions', { model: 'lab-stage2', max_tokens: 8, return_token_ids: true, ...body });
    expect(res.status).toBe(200);
    return (await res.json()) as Completion;
  };

  it('greedy tokens equal, logprobs agree, and cached tokens are the simulator’s to the token', async () => {
    expect((await post(on, '/reset_prefix_cache', {})).status).toBe(200);
    const before = await metrics(on);
    const sim = new PrefixCacheSimulator({ blockSize: BLOCK, capacityTokens: CAPACITY });
    let cached = 0;
    let prompted = 0;
    for (const prompt of prompts) {
      const [a, b] = [await complete(on, { prompt, logprobs: 3 }), await complete(off, { prompt, logprobs: 3 })];
      expect(a.choices[0]!.token_ids).toEqual(b.choices[0]!.token_ids);
      expect(a.choices[0]!.text).toBe(b.choices[0]!.text);
      const la = a.choices[0]!.logprobs!;
      const lb = b.choices[0]!.logprobs!;
      la.token_logprobs.forEach((x, i) => expect(Math.abs(x! - lb.token_logprobs[i]!)).toBeLessThan(1e-4));
      la.top_logprobs.forEach((d, i) => expect(Object.keys(d!)).toEqual(Object.keys(lb.top_logprobs[i]!)));
      expect(a.usage.prompt_tokens_details?.cached_tokens).toBe(sim.process(prompt).cachedTokens);
      expect(b.usage.prompt_tokens_details).toBeUndefined();
      cached += a.usage.prompt_tokens_details!.cached_tokens;
      prompted += a.usage.prompt_tokens;
    }
    expect(cached).toBeGreaterThan(0);
    const after = await metrics(on);
    const delta = (k: string) => after.get(k)! - (before.get(k) ?? 0);
    expect(delta('vllm:prefix_cache_queries_total')).toBe(prompted);
    expect(delta('vllm:prefix_cache_hits_total')).toBe(cached);
    expect(delta('ctxlab:prefill_tokens_total')).toBe(prompted - cached);
    expect(delta('ctxlab:prefix_cache_evicted_blocks_total')).toBeGreaterThan(0);
    expect(after.get('ctxlab:prefix_cache_pinned_blocks')).toBe(0);
    expect(after.get('ctxlab:prefix_cache_capacity_blocks')).toBe(CAPACITY / BLOCK);
  }, 120_000);

  it('a block-aligned prompt sent twice recomputes its last block', async () => {
    expect((await post(on, '/reset_prefix_cache', {})).status).toBe(200);
    const prompt = haystack.slice(0, 320);
    expect((await complete(on, { prompt })).usage.prompt_tokens_details?.cached_tokens).toBe(0);
    expect((await complete(on, { prompt })).usage.prompt_tokens_details?.cached_tokens).toBe(320 - BLOCK);
  });

  it('prompt logprobs compute the whole prompt (a cached token has no logits) and equal the uncached ones', async () => {
    const prompt = [...haystack.slice(0, 300), ...question];
    await complete(on, { prompt });
    const body = { prompt, max_tokens: 0, echo: true, logprobs: 2 };
    const [a, b] = [await complete(on, body), await complete(off, body)];
    expect(a.usage.prompt_tokens_details?.cached_tokens).toBe(0);
    const la = a.choices[0]!.logprobs!.token_logprobs;
    const lb = b.choices[0]!.logprobs!.token_logprobs;
    expect(la).toHaveLength(prompt.length);
    la.forEach((x, i) => (x === null ? expect(lb[i]).toBeNull() : expect(Math.abs(x - lb[i]!)).toBeLessThan(1e-4)));
    // Its blocks are still stored: the next plain request reuses them.
    expect((await complete(on, { prompt })).usage.prompt_tokens_details?.cached_tokens).toBe(allCached(prompt.length));
  });

  it('another model or theta never reuses blocks; chat and streams report cached tokens too', async () => {
    expect((await post(on, '/reset_prefix_cache', {})).status).toBe(200);
    const prompt = haystack.slice(0, 200);
    await complete(on, { prompt });
    const other = await post(on, '/v1/completions', { model: 'lab-stage1', prompt, max_tokens: 4 });
    expect(((await other.json()) as Completion).usage.prompt_tokens_details?.cached_tokens).toBe(0);
    const messages = [{ role: 'user', content: text.slice(0, 400) }];
    await post(on, '/v1/chat/completions', { model: 'lab-stage2', messages, max_tokens: 4 });
    const res = await post(on, '/v1/chat/completions', { model: 'lab-stage2', messages, max_tokens: 4, stream: true, stream_options: { include_usage: true } });
    const events = (await res.text()).split('\n\n').filter((e) => e.startsWith('data: {'));
    const usage = (JSON.parse(events.at(-1)!.slice(6)) as Completion).usage;
    expect(usage.prompt_tokens_details?.cached_tokens).toBe(allCached(usage.prompt_tokens));
  });

  it('/reset_prefix_cache is refused when the cache is off; /metrics still counts prefilled tokens', async () => {
    expect((await post(off, '/reset_prefix_cache', {})).status).toBe(400);
    const m = await metrics(off);
    expect(m.get('ctxlab:prefill_tokens_total')).toBe(m.get('vllm:prompt_tokens_total'));
    expect(m.has('vllm:prefix_cache_queries_total')).toBe(false);
  });
});
