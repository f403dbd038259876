import {
  niahSpecSchema,
  type NiahLanguage,
  type NiahScorerName,
  type NiahSpec,
  type NiahVariant,
} from '@ctxlab/contracts';
import type { ChatMessage, Tokenizer } from '@ctxlab/tokenizers';
import { type Corpus, getCorpusIndex } from './corpus';
import { NiahError } from './errors';
import { GRID_PRESETS, resolveGrid } from './grid';
import { makeNeedleSet, type NeedleSet, ORIGINAL_SYSTEM_PROMPT } from './needles';
import { buildPrompt, type Placement } from './prompt';
import { hashSeed, Rng } from './rng';
import { scoreAnswer } from './scorers';

/** A spec with every default applied: what the engine actually runs. */
export interface ResolvedNiahSpec {
  variant: NiahVariant;
  language: NiahLanguage;
  corpus: string;
  tokenizer: NiahSpec['tokenizer'];
  seed: number;
  lengths: number[];
  depths: number[];
  samples: number;
  scorer?: NiahScorerName;
  digits: number;
  needles: number;
  queries: number;
  layout: 'chat' | 'single';
  systemPrompt?: string;
  maxWalkTokens: number;
  haystackStart: 'beginning' | 'random';
  verify: boolean;
  maxTokens: number;
  temperature: number;
  custom?: NiahSpec['custom'];
}

const DEFAULT_CORPUS: Record<NiahLanguage, string> = { en: 'sotu-en', zh: 'tang-zh' };

/** A spec as stored or sent (checked here: a spec that does not parse is an INVALID_SPEC error). */
export function resolveNiahSpec(input: unknown): ResolvedNiahSpec {
  const parsed = niahSpecSchema.safeParse(input);
  if (!parsed.success) {
    throw new NiahError('INVALID_SPEC', parsed.error.issues.map((i) => `${i.path.join('.') || 'spec'}: ${i.message}`).join('; '));
  }
  const spec = parsed.data;
  const preset = spec.grid.preset ? GRID_PRESETS[spec.grid.preset] : undefined;
  const language: NiahLanguage = spec.language ?? (spec.variant === 'zh-story' ? 'zh' : 'en');
  const englishOnly: NiahVariant[] = ['original', 'multi-needle', 'multi-key', 'multi-value', 'multi-query'];
  if (language === 'zh' && englishOnly.includes(spec.variant)) {
    throw new NiahError('UNSUPPORTED_VARIANT', `variant ${spec.variant} is English-only; Chinese has value, zh-story, negative and custom`, 'language');
  }
  const grid = resolveGrid(spec.grid);
  const o = spec.options;
  const layout = o.layout ?? preset?.layout ?? 'chat';
  const variantNeedles = spec.variant === 'multi-needle' ? 3 : 4;
  return {
    variant: spec.variant,
    language,
    corpus: spec.corpus ?? DEFAULT_CORPUS[language],
    tokenizer: spec.tokenizer,
    seed: spec.seed,
    ...grid,
    scorer: spec.scorer,
    digits: o.digits ?? preset?.digits ?? 7,
    needles: o.needles ?? variantNeedles,
    queries: o.queries ?? 2,
    layout,
    // The original harness' OpenAI prompt has a system message; 360Zhinao's single prompt has none.
    systemPrompt: o.systemPrompt ?? (layout === 'chat' ? ORIGINAL_SYSTEM_PROMPT : undefined),
    maxWalkTokens: o.maxWalkTokens,
    haystackStart: o.haystackStart,
    verify: o.verify,
    maxTokens: o.maxTokens,
    temperature: o.temperature,
    custom: spec.custom,
  };
}

export interface NiahCellKey {
  /** Stable id: the same spec gives the same ids (resume by id, never by rescanning results). */
  id: string;
  length: number;
  depth: number;
  sample: number;
}

/** A cell: its key, its needle set (less the depths, which the key and placements tell), and its prompt. */
export interface NiahCell extends NiahCellKey, Omit<NeedleSet, 'depths'> {
  /** All needle texts joined by newlines (one field for exports). */
  needle: string;
  /** For /v1/chat/completions. */
  messages: ChatMessage[];
  /** The exact ids of the templated prompt, for /v1/completions with a token-id prompt. */
  promptIds: Uint32Array;
  promptTokens: number;
  /** promptTokens − length (0 whenever exactness was possible). */
  lengthError: number;
  /** Index in promptIds of each needle's first token, and how it was placed. */
  needleTokenPositions: number[];
  placements: Placement[];
  maxTokens: number;
  temperature: number;
}

export interface NiahContext {
  corpus: Corpus;
  tokenizer: Tokenizer;
}

const pct = (d: number) => String(Math.round(d * 100_000) / 1000);
export const cellId = (length: number, depth: number, sample: number) => `L${length}-D${pct(depth)}-S${sample}`;

function cellRng(spec: ResolvedNiahSpec, length: number, depth: number, sample: number): Rng {
  return new Rng(hashSeed(spec.seed, spec.variant, spec.language, length, depth, sample));
}

function needleSetFor(spec: ResolvedNiahSpec, key: NiahCellKey): NeedleSet {
  return makeNeedleSet(
    { variant: spec.variant, language: spec.language, digits: spec.digits, needles: spec.needles, queries: spec.queries, custom: spec.custom },
    key.depth,
    cellRng(spec, key.length, key.depth, key.sample),
  );
}

/** Index of the document a sample's haystack starts at: the first for sample 0 (the original harness). */
export function sampleStartDocument(spec: ResolvedNiahSpec, sample: number, documents: number): number {
  if (sample === 0 || spec.haystackStart === 'beginning') return 0;
  return hashSeed(spec.seed, 'haystack-start', sample) % documents;
}

/**
 * Every cell of the grid in sweep order: the order that lets a prefix-caching server (vLLM
 * --enable-prefix-caching) reuse the most. Cells built on one haystack share the prompt up to
 * their first needle, so within a haystack cells go by that position, latest first: each
 * prompt's shared prefix is then a prefix of the one just sent — still the most recently used
 * blocks in an LRU cache — and the trunk is computed once. See prefix-cache.ts and the bench.
 */
export function planNiahCells(spec: ResolvedNiahSpec): NiahCellKey[] {
  const keys: (NiahCellKey & { group: number; firstNeedle: number })[] = [];
  for (let sample = 0; sample < spec.samples; sample++) {
    for (const length of spec.lengths) {
      for (const depth of spec.depths) {
        const key = { id: cellId(length, depth, sample), length, depth, sample };
        const set = needleSetFor(spec, key);
        const first = set.depths.length ? Math.min(...set.depths) : 1;
        keys.push({ ...key, group: spec.haystackStart === 'beginning' ? 0 : sample, firstNeedle: first * length });
      }
    }
  }
  keys.sort((a, b) => a.group - b.group || b.firstNeedle - a.firstNeedle || b.length - a.length || a.sample - b.sample || a.depth - b.depth);
  return keys.map(({ id, length, depth, sample }) => ({ id, length, depth, sample }));
}

/** Cells in the naive order (length ascending, then depth ascending): the baseline for the simulator. */
export function naiveCellOrder(spec: ResolvedNiahSpec): NiahCellKey[] {
  const out: NiahCellKey[] = [];
  for (let sample = 0; sample < spec.samples; sample++)
    for (const length of spec.lengths) for (const depth of spec.depths) out.push({ id: cellId(length, depth, sample), length, depth, sample });
  return out;
}

export function buildNiahCell(spec: ResolvedNiahSpec, ctx: NiahContext, key: NiahCellKey): NiahCell {
  if (ctx.tokenizer.name !== spec.tokenizer) {
    throw new NiahError('INVALID_SPEC', `the spec counts tokens with ${spec.tokenizer} but the context's tokenizer is ${ctx.tokenizer.name}`);
  }
  const set = needleSetFor(spec, key);
  const index = getCorpusIndex(ctx.corpus, ctx.tokenizer);
  const startDoc = sampleStartDocument(spec, key.sample, ctx.corpus.documents.length);
  const question = [set.question, set.instruction].filter((s) => s.length > 0).join(' ');
  const built = buildPrompt({
    index,
    length: key.length,
    start: index.docStart(startDoc),
    needles: set.needles.map((text, i) => ({ text, depth: set.depths[i]! })),
    system: spec.systemPrompt,
    layout: spec.layout,
    question,
    maxWalkTokens: spec.maxWalkTokens,
    verify: spec.verify,
    // RULER-style needles sit between sentences; the others are wrapped in newlines like the original harness.
    needleWrap: spec.variant.startsWith('multi-') && spec.variant !== 'multi-needle' ? { before: ' ', after: '' } : undefined,
  });
  return {
    ...key,
    needles: set.needles,
    needle: set.needles.join('\n'),
    question: set.question,
    instruction: set.instruction,
    expected: set.expected,
    scorer: spec.scorer ?? set.scorer,
    forbidden: set.forbidden,
    digits: set.digits,
    messages: built.messages,
    promptIds: built.ids,
    promptTokens: built.promptTokens,
    lengthError: built.lengthError,
    needleTokenPositions: built.needles.map((n) => n.tokenIndex),
    placements: built.needles.map((n) => n.placement),
    maxTokens: spec.maxTokens,
    temperature: spec.temperature,
  };
}

export interface GenerateOptions {
  /** Ids already done (resume): skipped without building their prompts. */
  skip?: ReadonlySet<string>;
  /** Build only these cells, in this order (default: planNiahCells). */
  cells?: readonly NiahCellKey[];
}

/** Cells with their prompts, lazily and in sweep order: one prompt in memory at a time. */
export function* generateNiahCells(spec: ResolvedNiahSpec, ctx: NiahContext, opts: GenerateOptions = {}): Generator<NiahCell> {
  for (const key of opts.cells ?? planNiahCells(spec)) {
    if (opts.skip?.has(key.id)) continue;
    yield buildNiahCell(spec, ctx, key);
  }
}

/** Scores a model's answer for a cell (0–100). Only call it with a real answer: a failed request has none. */
export function scoreNiahCell(cell: Pick<NiahCell, 'scorer' | 'expected' | 'needle' | 'forbidden' | 'digits'>, answer: string): number {
  return scoreAnswer(cell.scorer, answer, { expected: cell.expected, needle: cell.needle, forbidden: cell.forbidden, digits: cell.digits });
}
