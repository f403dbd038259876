import { Rng } from '@ctxlab/niah';
import { getTokenizer } from '@ctxlab/tokenizers';
import { describe, expect, it } from 'vitest';
import { countPrompt, fitUnits, PieceTally, type PromptFrame, type UnitPlan } from './assemble';
import { shuffle, shuffledLastIndex } from './tasks/common';

const llama3 = getTokenizer('llama3');
const frame: PromptFrame = { tokenizer: llama3, chatTemplate: true, answerPrefix: ' Answer:' };
const lead = 'Count the words. Here they are:';
const trail = '\nQuestion: which word is the most frequent?';

describe('PieceTally', () => {
  it('gives the exact count of any order of pieces that cut against each other, the last one merging with the trail', () => {
    // " ..." before "\n" is one token less than apart: the total depends on the last piece.
    const pieces = [' ...', ' apple', ' 123', ' banana', ' ...', ' cherry!', ' 4567', ' ...'];
    const tally = new PieceTally(frame, lead, trail);
    const sum = pieces.reduce((s, p) => s + tally.tokens(p), 0);
    for (let seed = 0; seed < 12; seed++) {
      const order = shuffle(pieces.slice(), new Rng(seed));
      expect(tally.total(sum, order.at(-1)!)).toBe(countPrompt(frame, [lead, ...order, trail]));
    }
    expect(tally.total(sum, ' ...')).not.toBe(tally.total(sum, ' apple'));
  });

  it('gives no total once two pieces could merge', () => {
    const tally = new PieceTally(frame, lead, trail);
    tally.tokens(' apple');
    expect(tally.total(0, ' apple')).toBeTypeOf('number');
    tally.tokens('pie'); // " apple" then "pie" would be one word
    expect(tally.total(0, ' apple')).toBeUndefined();
    const afterSpace = new PieceTally(frame, 'Words: ', trail);
    afterSpace.tokens(' apple'); // the lead's trailing space joins the next piece
    expect(afterSpace.total(0, ' apple')).toBeUndefined();
  });
});

describe('shuffledLastIndex', () => {
  it('names the item shuffle puts last', () => {
    for (let seed = 0; seed < 20; seed++) {
      const items = Array.from({ length: 1 + seed * 7 }, (_v, i) => i);
      expect(items[shuffledLastIndex(items.length, new Rng(seed))]).toBe(shuffle(items.slice(), new Rng(seed)).at(-1));
    }
  });
});

describe('fitUnits', () => {
  const words = Array.from({ length: 4000 }, (_v, i) => ` w${i % 97}x`);
  const plan = (built: number[], withTokens: boolean): UnitPlan<null> => {
    const tally = new PieceTally(frame, lead, trail);
    const sums = [0];
    return {
      minUnits: 1,
      maxAtoms: 2,
      build: (n) => {
        built.push(n);
        return { content: [lead, ...words.slice(0, n), trail], fillAt: n + 1, data: null };
      },
      atoms: () => [' a', ' ab', ' abc1', ' abc12'],
      ...(withTokens && {
        tokens: (n: number) => {
          while (sums.length <= n) sums.push(sums.at(-1)! + tally.tokens(words[sums.length - 1]!));
          return tally.total(sums[n]!, words[n - 1]!);
        },
      }),
    };
  };

  it('with running totals, lays out only the size it settles on, and fits the same prompt', () => {
    const built: number[] = [];
    const fast = fitUnits(frame, plan(built, true), 3001);
    expect(new Set(built)).toEqual(new Set([fast.n]));
    const slowBuilt: number[] = [];
    const slow = fitUnits(frame, plan(slowBuilt, false), 3001);
    expect(slowBuilt.length).toBeGreaterThan(2);
    expect(fast.content).toEqual(slow.content);
    expect(countPrompt(frame, fast.content)).toBe(3001);
  });
});
