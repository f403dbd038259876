import { lastAtOrBelow, type Rng, sentenceEnds } from '@ctxlab/niah';
import { countPrompt, fitRangeEnd, fitUnits, type Piece, PieceTally, type PromptFrame } from '../assemble';
import { RulerError } from '../errors';
import { format, linePrefixes, NOISE_LINE, shuffle, splitContext, type TaskInput, type TaskOutput, uuid4 } from './common';
import type { NeedleType, NiahArgs, RulerTaskConfig } from './config';

/**
 * RULER's niah family (scripts/data/synthetic/niah.py):
 *  - needle: "One of the special magic {type_needle_v} for {key} is: {value}.";
 *  - num_needle_k keys (at least num_needle_q), num_needle_v values each, the needles shuffled
 *    by a generator seeded with the seed alone; num_needle_q keys asked, every value of each
 *    asked key expected;
 *  - keys/values: words ("adjective-noun"), 7-digit numbers, or UUID4s;
 *  - haystacks: `noise` (the noise line repeated, one per line), `needle` (lines that are
 *    needles with random keys and values), `essay` (sentences of essays, needles inserted
 *    between sentences at depths drawn without replacement from 40 evenly spaced percents);
 *    noise and needle lines get the needles at distinct random line indexes;
 *  - when one value is asked (num_needle_q × num_needle_v = 1) the template is made singular by
 *    RULER's replacements: Some→A, are all→is, are→is, answers→answer, and "numbers"→"number".
 * ctxlab differences: keys are drawn distinct (RULER may repeat one by chance, which makes the
 * answer ambiguous); the essay haystack is the corpus passed in (Paul Graham's essays cannot
 * be shipped) with its own whitespace kept, needles placed by token depth at the sentence end
 * before it; and the last line (or the essay's end) is cut to make the prompt exact.
 */

const NEEDLE = 'One of the special magic {type_needle_v} for {key} is: {value}.';
/** np.round(np.linspace(0, 100, num=40)).astype(int). */
export const RULER_DEPTHS: readonly number[] = Array.from({ length: 40 }, (_v, i) => Math.round((i * 100) / 39));

function randomValue(type: NeedleType, rng: Rng, input: TaskInput): string {
  switch (type) {
    case 'numbers':
      return String(rng.int(1_000_000, 9_999_999));
    case 'uuids':
      return uuid4(rng);
    case 'words': {
      const w = input.words;
      if (!w) throw new RulerError(`task ${input.config.name} needs a word list for its keys`, 'words');
      return `${rng.pick(w.adjectives)}-${rng.pick(w.nouns)}`;
    }
  }
}

/** RULER's singular rewrite of the template and answer prefix. */
export function niahTemplates(args: NiahArgs, config: RulerTaskConfig): { template: string; answerPrefix: string; typeNeedleV: string } {
  if (args.num_needle_q * args.num_needle_v !== 1) return { template: config.template, answerPrefix: config.answerPrefix, typeNeedleV: args.type_needle_v };
  const singular = (t: string) => t.replaceAll('Some', 'A').replaceAll('are all', 'is').replaceAll('are', 'is').replaceAll('answers', 'answer');
  return { template: singular(config.template), answerPrefix: singular(config.answerPrefix), typeNeedleV: args.type_needle_v.slice(0, -1) };
}

export function buildNiah(input: TaskInput & { config: Extract<RulerTaskConfig, { family: 'niah' }> }): TaskOutput {
  const args = input.config.args;
  const numK = Math.max(args.num_needle_k, args.num_needle_q);
  const rng = input.rng();
  const keys: string[] = [];
  const values: string[][] = [];
  const needles: string[] = [];
  while (keys.length < numK) {
    const key = randomValue(args.type_needle_k, rng, input);
    if (keys.includes(key)) continue;
    keys.push(key);
    const vs: string[] = [];
    while (vs.length < args.num_needle_v) {
      const v = randomValue(args.type_needle_v, rng, input);
      if (!vs.includes(v)) vs.push(v);
    }
    values.push(vs);
    for (const v of vs) needles.push(format(NEEDLE, { type_needle_v: args.type_needle_v, key, value: v }));
  }
  shuffle(needles, input.fixedRng('needles'));
  const asked = rng.sample(
    keys.map((_k, i) => i),
    args.num_needle_q,
  );
  const queries = asked.map((i) => keys[i]!);
  const answers = asked.flatMap((i) => values[i]!);
  const query = queries.length > 1 ? `${queries.slice(0, -1).join(', ')}, and ${queries.at(-1)}` : queries[0]!;

  const t = niahTemplates(args, input.config);
  const fields = { type_needle_v: t.typeNeedleV, query };
  const { before, after } = splitContext(format(t.template, fields));
  const answerPrefix = format(t.answerPrefix, fields);
  const frame: PromptFrame = { tokenizer: input.tokenizer, chatTemplate: input.chatTemplate, answerPrefix, index: input.corpusIndex };
  const meta = { keys, queries, needles, haystack: args.type_haystack };

  if (args.type_haystack === 'essay') {
    const e = essay(input, frame, before, after, needles);
    return { content: e.content, answerPrefix, answers, frame, meta: { ...meta, depth: e.depth } };
  }

  // Noise and needle haystacks: one line per unit, each ending in the newline RULER joins with.
  const tail = after.replace(/^\n/, '');
  const distractors: string[] = [];
  const distractor = (i: number) => {
    while (distractors.length <= i) {
      const r = input.drawRng('distractor', distractors.length);
      let key = randomValue(args.type_needle_k, r, input);
      while (keys.includes(key)) key = randomValue(args.type_needle_k, r, input);
      distractors.push(`${format(NEEDLE, { type_needle_v: args.type_needle_v, key, value: randomValue(args.type_needle_v, r, input) })}\n`);
    }
    return distractors[i]!;
  };
  const line = (i: number) => (args.type_haystack === 'noise' ? `${NOISE_LINE}\n` : distractor(i));
  // Running totals for the size search: lines in any order, and the needles go in before the
  // last line, which always ends the haystack.
  const tally = new PieceTally(frame, before, tail);
  const lineSums = [0];
  let needleSum: number | undefined;
  const tokens = (n: number) => {
    if (n < 1) return undefined;
    needleSum ??= needles.reduce((sum, needle) => sum + tally.tokens(`${needle}\n`), 0);
    while (lineSums.length <= n) lineSums.push(lineSums.at(-1)! + tally.tokens(line(lineSums.length - 1)));
    return tally.total(lineSums[n]! + needleSum, line(n - 1));
  };
  const fitted = fitUnits(
    frame,
    {
      minUnits: needles.length,
      maxAtoms: 3,
      tokens,
      build: (n) => {
        const lines = Array.from({ length: n }, (_v, i) => line(i));
        // RULER: indexes = sorted(random.sample(range(n), len(needles)), reverse=True), inserted in that order.
        const r = input.drawRng('positions', n);
        const indexes = r
          .sample(
            lines.map((_l, i) => i),
            needles.length,
          )
          .sort((a, b) => b - a);
        const positions: number[] = [];
        indexes.forEach((at, j) => {
          lines.splice(at, 0, `${needles[j]!}\n`);
          positions.push(at);
        });
        return { content: [before, ...lines, tail], fillAt: lines.length + 1, data: { positions } };
      },
      atoms: (n, slot) => linePrefixes((args.type_haystack === 'noise' ? `${NOISE_LINE}\n` : distractor(n + slot)).replace(/\n$/, ''), '\n'),
    },
    input.target,
  );
  // The first needle's depth: the fraction of the haystack's lines above it.
  const depth = Math.min(...fitted.data.positions) / fitted.n;
  return { content: fitted.content, answerPrefix, answers, frame, meta: { ...meta, lines: fitted.n + needles.length, filler: fitted.filler, depth } };
}

/** Needles in a corpus haystack at RULER's depths, the end moved for an exact length. */
function essay(input: TaskInput, frame: PromptFrame, before: string, after: string, needles: string[]): { content: Piece[]; depth: number } {
  const index = input.corpusIndex;
  const corpus = input.corpus;
  if (!index || !corpus) throw new RulerError(`task ${input.config.name} needs a corpus for its essay haystack`, 'corpus');
  // RULER: sorted(int(len(sentences) * depth / 100) for depth in random.sample(DEPTHS, len(needles))).
  const depths = input
    .drawRng('depths')
    .sample(RULER_DEPTHS, needles.length)
    .map((d) => d / 100)
    .sort((a, b) => a - b);
  const overhead = countPrompt(frame, [before, ...needles.map((n) => ` ${n}`), after]);
  const budget = input.target - overhead;
  if (budget <= 0) throw new RulerError(`a ${input.target}-token prompt cannot hold the template and needles, which need ${overhead} tokens`, 'length');
  const ends = sentenceEnds(corpus);
  const L = index.chars;
  // RULER's haystack starts at the corpus' start. When no end closes the count (a paragraph
  // break can add two tokens at once), the start moves to a later word, as libs/niah does.
  const first = index.docStart(0);
  const window = index.slice(first, first + 400);
  const starts = [first, ...[...window.matchAll(/(?<=\s)\S/g)].map((m) => first + m.index).slice(0, 48)];
  for (const a of starts) {
    const startTok = index.lastCutBelow(a + 1).tok;
    // Depth 100 is after the last sentence (RULER: position len(sentences)): it follows the end.
    const at = depths.map((d) => {
      if (d >= 1) return Infinity;
      const cut = index.cutAtOrBeforeToken(startTok + Math.round(d * budget));
      const k = Math.floor(cut.char / L);
      const i = lastAtOrBelow(ends, ends.length, cut.char - k * L);
      const s = i >= 0 ? k * L + ends[i]! : a;
      return s > a ? s : a;
    });
    const contentFor = (b: number): Piece[] => {
      const pieces: Piece[] = [before];
      let cur = a;
      at.forEach((pos, j) => {
        const p = Math.min(pos, b);
        if (p > cur) pieces.push({ from: cur, to: p });
        cur = Math.max(cur, p);
        // At the very start the needle leads; elsewhere it follows a sentence end.
        pieces.push(p === a ? `${needles[j]!} ` : ` ${needles[j]!}`);
      });
      if (b > cur) pieces.push({ from: cur, to: b });
      pieces.push(after);
      return pieces;
    };
    const lo = Math.max(a, ...at.filter((p) => p !== Infinity));
    const b = fitRangeEnd(frame, contentFor, lo, lo + 64 * input.target + L, input.target);
    // Depth as RULER draws it (a fraction of the haystack): the first needle's.
    if (b !== undefined) return { content: contentFor(b), depth: depths[0]! };
  }
  throw new RulerError(`could not fit the essay haystack to exactly ${input.target} tokens`, 'length');
}
