import { fitUnits, PieceTally, type PromptFrame } from '../assemble';
import { RulerError } from '../errors';
import { format, LazyShuffle, shuffle, shuffledLastIndex, splitContext, type TaskInput, type TaskOutput } from './common';
import type { RulerTaskConfig } from './config';

/**
 * RULER's common words extraction (scripts/data/synthetic/common_words_extraction.py):
 *  - num_words distinct words drawn at random; the first num_cw are the common ones;
 *  - the list repeats each common word freq_cw times and each other word freq_ucw times,
 *    shuffled, written "1. w 2. w …";
 *  - below a 4,096-token sequence RULER uses 6 and 1 instead (and a smaller example);
 *  - num_fewshot examples first: 40 words (10 × 10, 30 × 3) — 20 words (10 × 3, 10 × 1) below
 *    4,096 — with the template, the answer prefix and the answer "1. w … 10. w", one per line;
 *  - the answer is the num_cw common words; num_words is the largest that fits.
 * ctxlab differences: RULER formats the example with the whole model template around it (so
 * a chat model sees two complete conversations in one prompt); ctxlab puts the example inside
 * the one user turn, as RULER's variable tracking does. The gap left by the largest list
 * that fits is filled with a few extra words that appear once each (rarer than any listed
 * word, so the answer is unchanged).
 */

type CweConfig = Extract<RulerTaskConfig, { family: 'common_words_extraction' }>;

const numbered = (words: readonly string[]) => words.map((w, i) => `${i + 1}. ${w}`).join(' ');

const numbers: string[] = [];
/** " 12." for item 11 (0-based), "1." for the first: built once per process. */
function itemNumber(i: number): string {
  while (numbers.length <= i) numbers.push(numbers.length === 0 ? '1.' : ` ${numbers.length + 1}.`);
  return numbers[i]!;
}

export function buildCwe(input: TaskInput & { config: CweConfig }): TaskOutput {
  const args = input.config.args;
  const lists = input.words;
  if (!lists) throw new RulerError('task cwe needs a word list', 'words');
  const small = input.sequenceLength < 4096;
  const [freqCw, freqUcw] = small ? [6, 1] : [args.freq_cw, args.freq_ucw];
  const [exWords, exCw, exUcw] = small ? [20, 3, 1] : [40, 10, 3];
  const t = input.config.template;
  const answerPrefix = input.config.answerPrefix;

  const order = new LazyShuffle(lists.words, input.rng());
  const spacedWords = new Map<string, string>();
  const spaced = (w: string) => {
    let s = spacedWords.get(w);
    if (s === undefined) spacedWords.set(w, (s = ` ${w}`));
    return s;
  };
  const listOf = (words: string[], cw: number, ucw: number, rngLabel: string, n: number) => {
    const list: string[] = [];
    words.forEach((w, i) => {
      for (let k = 0; k < (i < args.num_cw ? cw : ucw); k++) list.push(w);
    });
    return shuffle(list, input.drawRng(rngLabel, n));
  };

  // Examples use words of their own (drawn from the end of the sample's order).
  const examples: string[] = [];
  for (let e = 0; e < args.num_fewshot; e++) {
    const words = Array.from({ length: exWords }, (_v, i) => order.at(order.length - 1 - e * exWords - i));
    const context = numbered(listOf(words, exCw, exUcw, `example-${e}`, exWords));
    examples.push(`${format(t, { context })}${answerPrefix} ${numbered(words.slice(0, args.num_cw))}`);
  }
  const { before, after } = splitContext(t);
  const head = `${examples.join('\n')}\n${before}`;
  const frame: PromptFrame = { tokenizer: input.tokenizer, chatTemplate: input.chatTemplate, answerPrefix };
  const itemsFor = (n: number) => args.num_cw * freqCw + (n - args.num_cw) * freqUcw;

  // Running totals for the size search: the list's items in any order are the item numbers
  // after "1." and each word's " word" as often as it is listed; the shuffle decides only the
  // last word, which meets the text after the list.
  const tally = new PieceTally(frame, `${head}${itemNumber(0)}`, after);
  const numberSums = [0, 0];
  const wordSums = [0];
  const tokens = (n: number) => {
    const items = itemsFor(n);
    while (numberSums.length <= items) numberSums.push(numberSums.at(-1)! + tally.tokens(itemNumber(numberSums.length - 1)));
    while (wordSums.length <= n) wordSums.push(wordSums.at(-1)! + tally.tokens(spaced(order.at(wordSums.length - 1))));
    const commonItems = args.num_cw * freqCw;
    const sum = numberSums[items]! + freqCw * wordSums[args.num_cw]! + freqUcw * (wordSums[n]! - wordSums[args.num_cw]!);
    const j = shuffledLastIndex(items, input.drawRng('list', n));
    const last = j < commonItems ? Math.floor(j / freqCw) : args.num_cw + Math.floor((j - commonItems) / freqUcw);
    return tally.total(sum, spaced(order.at(last)));
  };

  const fitted = fitUnits(
    frame,
    {
      minUnits: args.num_cw + 1,
      maxAtoms: 4,
      tokens,
      build: (n) => {
        const words = Array.from({ length: n }, (_v, i) => order.at(i));
        const list = listOf(words, freqCw, freqUcw, 'list', n);
        // Each item is two cached pieces, " 12." and " word": both are cuts, and the pieces repeat across sizes.
        const items: string[] = new Array(2 * list.length);
        list.forEach((w, i) => {
          items[2 * i] = itemNumber(i);
          items[2 * i + 1] = spaced(w);
        });
        return { content: [head, ...items, after], fillAt: items.length + 1, data: { common: words.slice(0, args.num_cw), items: list.length } };
      },
      atoms: (n, slot) => {
        const items = itemsFor(n);
        return Array.from({ length: 24 }, (_v, i) => ` ${items + slot + 1}. ${order.at(n + slot * 24 + i)}`);
      },
    },
    input.target,
  );
  return {
    content: fitted.content,
    answerPrefix,
    answers: fitted.data.common,
    frame,
    meta: { words: fitted.n, items: fitted.data.items, freqCw, freqUcw, filler: fitted.filler },
  };
}
