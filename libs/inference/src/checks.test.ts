import { getTokenizer } from '@ctxlab/tokenizers';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCard } from './card';
import { engineRoundTrip, sequencePerplexity, thetaFor, tokenizerRoundTrip } from './checks';
import { releaseSessions, session } from './engine';

const card = loadCard();
const stage1 = card.stages.find((s) => s.stage === 1)!;
const file = `${card.dir}/${stage1.file}`;
afterAll(releaseSessions);

const text = 'It is a pleasure to report to you that the state of our Union is strong. We have met our obligations and kept our promises. '.repeat(6);

describe('local checks on onnxruntime-node', () => {
  it('theta rules: the model\'s, fixed, NTK-aware for a target, dynamic NTK per length', () => {
    const m = { theta: 10_000, trainedLength: 512, headDim: 32 };
    expect(thetaFor({ kind: 'model' }, m, 2048)).toBe(10_000);
    expect(thetaFor({ kind: 'fixed', theta: 5e5 }, m, 2048)).toBe(5e5);
    expect(thetaFor({ kind: 'ntk', targetLength: 2048 }, m, 100)).toBeCloseTo(10_000 * 4 ** (32 / 30), 6);
    expect(thetaFor({ kind: 'dynamic-ntk', alpha: 4 }, m, 512)).toBe(10_000);
    // The lab stage-2 theta of the model card: α 4, L 2048, L0 512, d 32 → 154,243 (truncated).
    expect(Math.trunc(thetaFor({ kind: 'dynamic-ntk', alpha: 4 }, m, 2048))).toBe(154_243);
  });

  it('perplexity of a real text is finite and far below uniform (259); the tail is split off', async () => {
    const s = await session(file, 1);
    const ids = getTokenizer('byte').encode(text, { addBos: true }).slice(0, 400);
    const r = await sequencePerplexity(s, card, ids, stage1.ropeTheta, 300);
    expect(r.tokens).toBe(399);
    expect(r.perplexity).toBeGreaterThan(1);
    expect(r.perplexity).toBeLessThan(60);
    expect(r.tailPerplexity).not.toBeNull();
    expect(Math.log(r.perplexity)).toBeCloseTo(r.meanNll, 9);
    // Scrambled bytes are much less predictable than the speech.
    const scrambled = ids.map((x, i) => (i === 0 ? x : 32 + ((x * 7919 + i * 104729) % 95)));
    expect((await sequencePerplexity(s, card, scrambled, stage1.ropeTheta)).perplexity).toBeGreaterThan(r.perplexity * 2);
  });

  it('engine round trip: cached one-token steps match one full prefill', async () => {
    const s = await session(file, 1);
    const ids = getTokenizer('byte').encode(text, { addBos: true }).slice(0, 200);
    const r = await engineRoundTrip(s, card, ids, stage1.ropeTheta, 8);
    expect(r.positions).toBe(8);
    expect(r.sameArgmax).toBe(true);
    expect(r.maxAbsLogitDiff).toBeLessThan(1e-3);
  });

  it('tokenizer round trip: exact for both tokenizers, and says where a text would break', () => {
    for (const name of ['byte', 'llama3'] as const) {
      expect(tokenizerRoundTrip(name, text)).toMatchObject({ ok: true, firstDifference: null });
      expect(tokenizerRoundTrip(name, '王莽篡汉，刘秀中兴。').ok).toBe(true);
    }
    // A lone surrogate cannot survive UTF-8: the check reports the position.
    expect(tokenizerRoundTrip('byte', 'ab\ud800cd')).toMatchObject({ ok: false, firstDifference: 2 });
  });
});
