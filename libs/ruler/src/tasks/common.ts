import type { Corpus, CorpusIndex, Rng } from '@ctxlab/niah';
import type { Tokenizer } from '@ctxlab/tokenizers';
import type { Piece, PromptFrame } from '../assemble';
import type { QaDataset } from '../qa-data';
import type { WordLists } from '../words';
import type { RulerTaskConfig } from './config';

/** RULER's noise haystack (niah.py, variable_tracking.py): one line, repeated. */
export const NOISE_LINE = 'The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.';

/** Python's str.format for RULER's templates (plain `{name}` fields, no escapes). */
export function format(template: string, fields: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in fields ? String(fields[k]) : m));
}

/** A template split around its {context} field. */
export function splitContext(template: string): { before: string; after: string } {
  const i = template.indexOf('{context}');
  return { before: template.slice(0, i), after: template.slice(i + '{context}'.length) };
}

/** Everything a task builder needs for one sample. */
export interface TaskInput<C extends RulerTaskConfig = RulerTaskConfig> {
  config: C;
  /** RULER's max_seq_length: prompt plus tokens_to_generate. */
  sequenceLength: number;
  /** Exact prompt tokens to build. */
  target: number;
  tokenizer: Tokenizer;
  chatTemplate: boolean;
  seed: number;
  index: number;
  /** Randomness of this sample only. */
  rng: () => Rng;
  /** Seeded by the seed alone: RULER's `random.Random(args.random_seed)` shuffles. */
  fixedRng: (label: string) => Rng;
  /** Fresh randomness for one labelled draw of this sample (same label, same draw). */
  drawRng: (...label: (string | number)[]) => Rng;
  words?: WordLists;
  corpus?: Corpus;
  corpusIndex?: CorpusIndex;
  qa?: QaDataset;
}

export interface TaskOutput {
  content: Piece[];
  answerPrefix: string;
  answers: string[];
  frame: PromptFrame;
  meta: Record<string, unknown>;
}

const HEX = '0123456789abcdef';

/** A random UUID version 4 (RULER: uuid.UUID(int=random.getrandbits(128), version=4)). */
export function uuid4(rng: Rng): string {
  const hex = (n: number) => {
    let s = '';
    for (let i = 0; i < n; i++) s += HEX[rng.int(0, 15)];
    return s;
  };
  const variant = (8 + rng.int(0, 3)).toString(16);
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${variant}${hex(3)}-${hex(12)}`;
}

/** Items of a list in a seeded random order, drawn lazily (a Fisher–Yates shuffle extended on demand). */
export class LazyShuffle<T> {
  private readonly a: T[];
  private done = 0;
  constructor(
    items: readonly T[],
    private readonly rng: Rng,
  ) {
    this.a = items.slice();
  }
  get length(): number {
    return this.a.length;
  }
  at(i: number): T {
    if (i >= this.a.length) throw new Error(`internal: asked for item ${i} of a ${this.a.length}-item list`);
    while (this.done <= i) {
      const j = this.done + Math.floor(this.rng.next() * (this.a.length - this.done));
      [this.a[this.done], this.a[j]] = [this.a[j]!, this.a[this.done]!];
      this.done++;
    }
    return this.a[i]!;
  }
}

/** In-place Fisher–Yates. */
export function shuffle<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * The index of the item that shuffle(items, rng) puts last, for a list of `length` items: its
 * first swap settles the last place, so the shuffle need not run (rng must be a fresh copy).
 */
export function shuffledLastIndex(length: number, rng: Rng): number {
  return length > 1 ? Math.floor(rng.next() * length) : 0;
}

/** Prefixes of a line that end on a non-space character, each followed by `end`: filler atoms. */
export function linePrefixes(line: string, end: string): string[] {
  const out: string[] = [];
  for (let i = 1; i <= line.length; i++) if (!/\s/.test(line[i - 1]!)) out.push(line.slice(0, i) + end);
  return out;
}
