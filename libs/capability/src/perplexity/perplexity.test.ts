import { loadCard, sequencePerplexity, session, startLabServer } from '@ctxlab/inference';
import { OpenAIClient } from '@ctxlab/niah';
import { DEFAULT_CORPORA, loadDefaultCorpus } from '@ctxlab/niah/node';
import { startOpenAITestServer, syntheticLogprob, type OpenAITestServer } from '@ctxlab/niah/testing';
import { getTokenizer } from '@ctxlab/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointPerplexity, perplexityFromLogprobs } from './endpoint';
import { encodePrefix, perplexityWindows } from './windows';

// The last addresses of the State of the Union corpus: text the lab model's card keeps out of training.
const heldOut = () => {
  const docs = loadDefaultCorpus(DEFAULT_CORPORA.en).documents;
  return docs.slice(-3).map((d) => d.text).join('\n\n');
};

describe('perplexity windows', () => {
  it('BOS then consecutive stretches of the text\'s own tokens, as many as fit', () => {
    for (const name of ['byte', 'llama3'] as const) {
      const tok = getTokenizer(name);
      const text = heldOut().slice(0, 200_000);
      const all = tok.encode(text);
      const ws = perplexityWindows(text, tok, 129, 5);
      expect(ws).toHaveLength(5);
      ws.forEach((w, i) => {
        expect(w).toHaveLength(129);
        expect(w[0]).toBe(tok.special.bos.id);
        expect(Array.from(w.slice(1))).toEqual(all.slice(i * 128, (i + 1) * 128));
      });
      // Without BOS the windows are the tokens alone; a short text gives fewer windows.
      expect(Array.from(perplexityWindows(text, tok, 64, 1, { bos: false })[0]!)).toEqual(all.slice(0, 64));
      expect(perplexityWindows('short text', tok, 64, 3)).toHaveLength(0);
    }
  });

  it('encodePrefix encodes only a clean prefix, and gets exactly the whole encoding\'s first tokens', () => {
    const tok = getTokenizer('llama3');
    const text = heldOut();
    const need = 3000;
    expect(encodePrefix(text, tok, need)).toEqual(tok.encode(text.slice(0, 60_000)).slice(0, need));
    expect(() => perplexityWindows(text, tok, 1, 1)).toThrow(/at least 2 tokens/);
  });

  it('perplexityFromLogprobs: positions 1 … n − 1, the first ignored; gaps and wrong counts are refused', () => {
    expect(perplexityFromLogprobs([null, -1, -3])).toEqual({ tokens: 2, nll: 2, perplexity: Math.exp(2) });
    expect(perplexityFromLogprobs([-7, -1, -3])!.nll).toBe(2);
    expect(perplexityFromLogprobs([null, null, -3])).toBeNull();
    expect(perplexityFromLogprobs([null, -1, Number.NaN])).toBeNull();
    expect(perplexityFromLogprobs([null, -1, -3], 4)).toBeNull();
    expect(perplexityFromLogprobs([null])).toBeNull();
  });
});

describe('endpoint perplexity against the test double (vLLM\'s shapes, fault injection)', () => {
  let server: OpenAITestServer;
  beforeAll(async () => {
    server = await startOpenAITestServer({ tokenizer: 'byte' });
  });
  afterAll(() => server.close());
  const client = () => new OpenAIClient({ baseUrl: server.url, model: server.model, timeoutMs: 300, maxAttempts: 2, sleep: async () => undefined, concurrency: 1 });

  it('scores each window from its synthetic logprobs; a failed window is reported, never scored', async () => {
    const tok = getTokenizer('byte');
    const windows = perplexityWindows(heldOut(), tok, 32, 4);
    // Window 1 fails twice (both attempts), window 2 once then succeeds, window 3 answers without logprobs.
    server.script({ kind: 'answer' }, { kind: 'status', status: 500 }, { kind: 'hang' }, { kind: 'status', status: 503 }, { kind: 'answer' }, { kind: 'no-logprobs' });
    const r = await endpointPerplexity(client(), windows);
    const expected = (w: Uint32Array) => {
      const ids = Array.from(w);
      const nll = -ids.slice(1).reduce((a, _, k) => a + syntheticLogprob(ids, k + 1), 0) / (ids.length - 1);
      return Math.exp(nll);
    };
    expect(r.windows[0]).toMatchObject({ ok: true, window: 0, tokens: 31, attempts: 1 });
    expect((r.windows[0] as { perplexity: number }).perplexity).toBeCloseTo(expected(windows[0]!), 12);
    expect(r.windows[1]).toMatchObject({ ok: false, window: 1, kind: 'timeout', attempts: 2 });
    expect(r.windows[2]).toMatchObject({ ok: true, window: 2, attempts: 2 });
    expect(r.windows[3]).toMatchObject({ ok: false, window: 3, kind: 'invalid-response', attempts: 1 });
    expect(r).toMatchObject({ scored: 2, failed: 2, tokens: 62 });
    const both = [windows[0]!, windows[2]!].map((w) => Math.log(expected(w)) * 31);
    expect(r.perplexity!).toBeCloseTo(Math.exp((both[0]! + both[1]!) / 62), 12);
  });

  it('nothing scored: perplexity null, not a number', async () => {
    server.setBehaviour({ kind: 'status', status: 500 });
    try {
      const r = await endpointPerplexity(client(), [[256, 72, 105]]);
      expect(r).toMatchObject({ scored: 0, failed: 1, perplexity: null, nll: null, tokens: 0 });
      expect(r.windows[0]).toMatchObject({ ok: false, kind: 'http', status: 500 });
    } finally {
      server.setBehaviour({ kind: 'answer' });
    }
  });
});

describe('endpoint perplexity through the lab model server equals the onnxruntime-node perplexity', () => {
  let srv: Awaited<ReturnType<typeof startLabServer>>;
  beforeAll(async () => {
    srv = await startLabServer({ threads: 1 });
  });
  afterAll(() => srv.close()); // closing the server releases the onnxruntime sessions

  /**
   * Tolerance: the server computes each logprob from the same float32 logits of one prefill of the
   * window (same graph, same theta, same thread count), with the same float64 log-softmax as
   * checks.ts, and JSON carries float64 exactly (shortest round-trip form); both sums run over the
   * same positions in the same order. So the two agree to float64 rounding of the sum — 1e-9
   * relative is a million times that and far below anything a perplexity is read to. A difference
   * in the float32 logits themselves (another prefill path, a KV-cache path) would show up near
   * 1e-6 relative and fail it. Measured: identical (max |Δ| 0).
   */
  const TOLERANCE = 1e-9;

  it('for windows of 64, 256 and 1024 tokens (beyond stage 1\'s trained 512): max |Δ perplexity| within tolerance', async () => {
    const card = loadCard();
    const stage1 = card.stages.find((s) => s.stage === 1)!;
    const tok = getTokenizer('byte');
    const text = heldOut();
    const s = await session(`${card.dir}/${stage1.file}`, 1);
    const client = new OpenAIClient({ baseUrl: srv.url, model: 'lab-stage1', maxAttempts: 1, concurrency: 2 });
    let maxAbs = 0;
    let maxRel = 0;
    for (const L of [64, 256, 1024]) {
      const windows = perplexityWindows(text, tok, L, 3);
      expect(windows).toHaveLength(3);
      const served = await endpointPerplexity(client, windows);
      expect(served.failed).toBe(0);
      for (const [i, w] of windows.entries()) {
        const local = await sequencePerplexity(s, card, Array.from(w), stage1.ropeTheta);
        const r = served.windows[i]!;
        if (!r.ok) throw new Error(r.error);
        expect(r.tokens).toBe(local.tokens);
        maxAbs = Math.max(maxAbs, Math.abs(r.perplexity - local.perplexity));
        maxRel = Math.max(maxRel, Math.abs(r.perplexity - local.perplexity) / local.perplexity);
        expect(Math.abs(r.nll - local.meanNll)).toBeLessThanOrEqual(TOLERANCE * local.meanNll);
      }
    }
    console.log(`endpoint vs onnxruntime-node perplexity: max |Δ| ${maxAbs.toExponential(3)}, max relative ${maxRel.toExponential(3)}`);
    expect(maxRel).toBeLessThanOrEqual(TOLERANCE);
  }, 120_000);
});
