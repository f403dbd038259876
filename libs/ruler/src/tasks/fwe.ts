import type { Rng } from '@ctxlab/niah';
import { fitUnits, PieceTally, type PromptFrame } from '../assemble';
import { RulerError } from '../errors';
import { format, shuffle, shuffledLastIndex, splitContext, type TaskInput, type TaskOutput } from './common';
import type { RulerTaskConfig } from './config';

/**
 * RULER's frequent words extraction (scripts/data/synthetic/freq_words_extraction.py):
 *  - a vocabulary of (sequence length − tokens_to_generate) // 50 distinct random lowercase
 *    words of coded_wordlen letters, sorted then shuffled by a seed-only generator; the first
 *    becomes '...' (noise the question says to ignore);
 *  - word of rank k appears floor(num_words · k^−α / ζ(α)) times (a Zipf law), shuffled by a
 *    seed-only generator, space-separated;
 *  - the answer is the words ranked 2–4; num_words is the largest that fits (RULER steps by
 *    length/32; ctxlab takes the largest exactly).
 * Filling the exact gap: a few extra '...' and words of fewer than coded_wordlen letters
 * (never in the vocabulary), appearing once each.
 */

type FweConfig = Extract<RulerTaskConfig, { family: 'freq_words_extraction' }>;

/** Riemann ζ(s) for s > 1: partial sum plus the Euler–Maclaurin tail (error below 1e-12 for s ≥ 1.1). */
export function zeta(s: number): number {
  if (!(s > 1)) throw new RulerError(`fwe's alpha must be greater than 1, got ${s}`, 'alpha');
  const N = 1000;
  let sum = 0;
  for (let k = 1; k < N; k++) sum += k ** -s;
  return sum + N ** (1 - s) / (s - 1) + N ** -s / 2 + (s * N ** (-s - 1)) / 12;
}

/** Occurrences of each rank for num_words words: RULER's sampled_cnt.astype(int). */
export function zipfCounts(numWords: number, vocabSize: number, alpha: number): number[] {
  const z = zeta(alpha);
  return Array.from({ length: vocabSize }, (_v, i) => Math.floor((numWords * (i + 1) ** -alpha) / z));
}

function codedWord(rng: Rng, len: number): string {
  let w = '';
  for (let i = 0; i < len; i++) w += String.fromCharCode(97 + rng.int(0, 25));
  return w;
}

export function buildFwe(input: TaskInput & { config: FweConfig }): TaskOutput {
  const { alpha, coded_wordlen: len } = input.config.args;
  const vocabSize = Math.floor((input.sequenceLength - input.config.tokensToGenerate) / 50);
  if (vocabSize < 4) throw new RulerError(`fwe needs a sequence of at least ${4 * 50 + input.config.tokensToGenerate} tokens`, 'length');
  const rng = input.rng();
  const set = new Set<string>();
  while (set.size < vocabSize) set.add(codedWord(rng, len));
  const vocab = shuffle([...set].sort(), input.fixedRng('vocab'));
  vocab[0] = '...';
  const answers = vocab.slice(1, 4);
  const spaced = vocab.map((w) => ` ${w}`);

  const { before, after } = splitContext(format(input.config.template, { query: '' }));
  const answerPrefix = input.config.answerPrefix;
  const frame: PromptFrame = { tokenizer: input.tokenizer, chatTemplate: input.chatTemplate, answerPrefix };
  const extra = codedWord(input.drawRng('filler'), len - 1);
  const atoms: string[] = [];
  for (let dots = 0; dots <= 40; dots++) for (let k = 1; k < len; k++) atoms.push(`${' ...'.repeat(dots)} ${extra.slice(0, k)}`);
  // Running totals for the size search. The text before the list ends with a space, so the
  // unspaced first word reads as the lead without it plus a spaced word: the list is then
  // spaced words in any order, and the shuffle decides only the last one (" ..." merges with
  // the newline after the list).
  const tally = before.endsWith(' ') ? new PieceTally(frame, before.slice(0, -1), after) : undefined;
  let own: number[] | undefined;
  const tokens = (n: number) => {
    if (!tally) return undefined;
    own ??= spaced.map((w) => tally.tokens(w));
    const counts = zipfCounts(n, vocabSize, alpha);
    let words = 0;
    let sum = 0;
    counts.forEach((c, r) => {
      words += c;
      sum += c * own![r]!;
    });
    if (words === 0) return undefined;
    let j = shuffledLastIndex(words, input.fixedRng(`words-${n}`));
    let r = 0;
    while (j >= counts[r]!) j -= counts[r++]!;
    return tally.total(sum, spaced[r]!);
  };
  const fitted = fitUnits(
    frame,
    {
      minUnits: 10,
      maxAtoms: 4,
      tokens,
      build: (n) => {
        const ranks: number[] = [];
        zipfCounts(n, vocabSize, alpha).forEach((c, i) => {
          for (let k = 0; k < c; k++) ranks.push(i);
        });
        shuffle(ranks, input.fixedRng(`words-${n}`));
        const words: string[] = new Array(ranks.length);
        ranks.forEach((r, i) => (words[i] = i === 0 ? vocab[r]! : spaced[r]!));
        return { content: [before, ...words, after], fillAt: words.length + 1, data: words.length };
      },
      atoms: (_n, slot) => atoms.map((a) => a.replace(extra.slice(0, 1), String.fromCharCode(97 + ((extra.charCodeAt(0) - 97 + slot) % 26)))),
    },
    input.target,
  );
  return { content: fitted.content, answerPrefix, answers, frame, meta: { vocabSize, numWords: fitted.n, words: fitted.data, filler: fitted.filler } };
}
