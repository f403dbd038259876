import { generateNiahCells, resolveNiahSpec, scoreNiahCell } from '@ctxlab/niah';
import { loadNiahContext } from '@ctxlab/niah/node';
import { getTokenizer } from '@ctxlab/tokenizers';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCard } from './card';
import { generate, releaseSessions, session } from './engine';

const card = loadCard();
const stage = (n: number) => card.stages.find((s) => s.stage === n)!;
afterAll(releaseSessions);

/** NIAH value retrieval of a shipped lab model on onnxruntime-node, as the main job runs it (5 depths, 1 sample). */
async function retrieval(n: 1 | 2, length: number): Promise<number[]> {
  const spec = resolveNiahSpec({
    variant: 'value', tokenizer: 'byte', seed: 0,
    grid: { lengths: { kind: 'list', values: [length] }, depths: { kind: 'linspace', min: 0, max: 1, count: 5, curve: 'linear' }, samples: 1 },
    options: { layout: 'single', digits: 7, maxTokens: 48, maxWalkTokens: 256, haystackStart: 'random', verify: false, temperature: 0 },
  });
  const s = await session(`${card.dir}/${stage(n).file}`, 1);
  const tok = getTokenizer('byte');
  const scores = [];
  for (const cell of generateNiahCells(spec, loadNiahContext(spec))) {
    const g = await generate(s, card, Array.from(cell.promptIds), { theta: stage(n).ropeTheta, maxNewTokens: 48 });
    scores.push(scoreNiahCell(cell, tok.decode(g.ids)));
  }
  return scores;
}
const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;

/**
 * The lab models read their context (MODEL_CARD.md has the full grid): stage 1 finds the needle at
 * its trained 512 bytes and loses it at 4× that; stage 2 (θ raised by dynamic NTK, trained at
 * 2,048) holds there — the field's context-extension story on a CPU.
 */
describe('lab models retrieve the needle', () => {
  it('stage 1 at its trained length', async () => {
    expect(mean(await retrieval(1, 512))).toBeGreaterThanOrEqual(80);
  }, 60_000);
  it('stage 1 fails at 4× its trained length; stage 2 holds there', async () => {
    const [s1, s2] = [await retrieval(1, 2048), await retrieval(2, 2048)];
    expect(mean(s1)).toBeLessThan(50);
    expect(mean(s2)).toBeGreaterThanOrEqual(60);
    console.info(`@2048 bytes, 5 depths: stage 1 ${s1.join('/')} · stage 2 ${s2.join('/')}`);
  }, 120_000);
});
