import type { CorpusIndex } from '@ctxlab/niah';
import type { ChatMessage, Tokenizer } from '@ctxlab/tokenizers';
import { RulerError } from './errors';

/**
 * Exact token counts for prompts made of many small repeated pieces.
 *
 * A RULER prompt is a template around a haystack of units (noise lines, needle lines, numbered
 * words, documents, or ranges of a tokenised corpus). Re-tokenising a 128K prompt for every
 * candidate haystack size would cost ~150 ms a try; instead each piece is encoded once and
 * cached, and pieces are joined by their cached ids wherever the tokenizer reports the junction
 * as a cut (the two code points around it always tokenise as independent halves, see
 * Tokenizer.isCutPair). Where a junction is not a cut, the neighbouring pieces are encoded
 * together. The ids equal a from-scratch tokenisation of the whole templated prompt (tests
 * re-check it), so counts can be trusted to ±0. Corpus ranges are copied from the corpus'
 * token index between its cuts, as libs/niah's prompt builder does.
 */

/** A range [from, to) of virtual characters of a corpus index. */
export interface CorpusRange {
  from: number;
  to: number;
}

export type Piece = string | CorpusRange;

/** How the content becomes a prompt: the model's chat template (one user turn) or plain text after BOS. */
export interface PromptFrame {
  tokenizer: Tokenizer;
  chatTemplate: boolean;
  /** Text the model's answer continues (RULER's answer prefix), after the generation prompt. */
  answerPrefix: string;
  /** Needed when the content has corpus ranges. */
  index?: CorpusIndex;
}

type Frame = Piece | { special: number } | { content: true };

/**
 * Piece encodings per tokenizer, in two generations: when the young one fills up it becomes
 * the old one, and hits in the old one are promoted. Pieces that recur (noise lines, words,
 * item numbers, documents) stay; one-off pieces (random needle lines) age out.
 */
class PieceCache {
  private young = new Map<string, readonly number[]>();
  private old = new Map<string, readonly number[]>();
  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly limit: number,
  ) {}
  ids(text: string): readonly number[] {
    let ids = this.young.get(text);
    if (ids) return ids;
    ids = this.old.get(text) ?? this.tokenizer.encode(text);
    if (this.young.size >= this.limit) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(text, ids);
    return ids;
  }
}

const caches = new WeakMap<Tokenizer, PieceCache>();

function encodeCached(tokenizer: Tokenizer, text: string): readonly number[] {
  let cache = caches.get(tokenizer);
  if (!cache) caches.set(tokenizer, (cache = new PieceCache(tokenizer, 200_000)));
  return cache.ids(text);
}

/** Token count of a text on its own (cached). */
export function pieceTokens(tokenizer: Tokenizer, text: string): number {
  return encodeCached(tokenizer, text).length;
}

function firstCodePoint(s: string): number {
  return s.codePointAt(0)!;
}

function lastCodePoint(s: string): number {
  const c = s.charCodeAt(s.length - 1);
  return (c & 0xfc00) === 0xdc00 && s.length >= 2 ? s.codePointAt(s.length - 2)! : c;
}

/** True when `left` followed by `right` tokenises as the two texts' own tokens. */
export function isCut(tokenizer: Tokenizer, left: string, right: string): boolean {
  return left.length === 0 || right.length === 0 || tokenizer.isCutPair(lastCodePoint(left), firstCodePoint(right));
}

const textStarts = new WeakMap<Tokenizer, string>();

/**
 * What a tokenizer puts before a text that starts a prompt: SentencePiece models (Llama-2) encode
 * a whole string as if it began with a space ("▁The"), a continuation without one. The prompt
 * builders encode pieces as continuations, so a plain prompt starts with that space as text.
 */
function textStart(tokenizer: Tokenizer): string {
  let t = textStarts.get(tokenizer);
  if (t === undefined) {
    const probe = 'The';
    const whole = tokenizer.encode(probe, { textStart: true });
    const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
    t = !same(whole, tokenizer.encode(probe)) && same(whole, tokenizer.encode(` ${probe}`)) ? ' ' : '';
    textStarts.set(tokenizer, t);
  }
  return t;
}

/** The template around the content: specials, template text, a content slot, then the answer prefix. */
function frameParts(frame: PromptFrame): Frame[] {
  const { tokenizer } = frame;
  if (!frame.chatTemplate) {
    const lead = textStart(tokenizer);
    return [{ special: tokenizer.special.bos.id }, ...(lead ? [lead] : []), { content: true }, frame.answerPrefix];
  }
  const parts: Frame[] = tokenizer
    .chatLayout(['user'])
    .map((part) => (part.kind === 'special' ? { special: part.token.id } : part.kind === 'text' ? part.text : { content: true }));
  parts.push(frame.answerPrefix);
  return parts;
}

interface Sink {
  ids(ids: readonly number[]): void;
  copy(index: CorpusIndex, t0: number, t1: number): void;
}

/**
 * Runs the template and content through `sink`. With `from` > 0 only content[from..] and the
 * template after it are visited: the caller knows a cut precedes content[from].
 */
function walk(frame: PromptFrame, content: readonly Piece[], sink: Sink, from = 0): void {
  const { tokenizer } = frame;
  let pending = '';
  const flush = () => {
    if (pending) sink.ids(encodeCached(tokenizer, pending));
    pending = '';
  };
  const text = (s: string) => {
    if (!s) return;
    if (pending && isCut(tokenizer, pending, s)) flush();
    pending += s;
  };
  const range = (item: CorpusRange) => {
    const index = frame.index;
    if (!index) throw new Error('internal: a corpus range needs the frame to carry the corpus index');
    if (item.to <= item.from) return;
    const c1 = index.firstCutAbove(item.from);
    if (c1.char >= item.to) return text(index.slice(item.from, item.to));
    // Inside the range the corpus' own cuts hold in any context, so its ids are copied.
    const c2 = index.lastCutBelow(item.to);
    pending += index.slice(item.from, c1.char);
    flush();
    if (c2.tok > c1.tok) sink.copy(index, c1.tok, c2.tok);
    pending = index.slice(c2.char, item.to);
  };
  const parts = frameParts(frame);
  let p = from > 0 ? parts.findIndex((part) => typeof part === 'object' && 'content' in part) : 0;
  for (; p < parts.length; p++) {
    const part = parts[p]!;
    if (typeof part === 'string') text(part);
    else if ('special' in part) {
      flush();
      sink.ids([part.special]);
    } else {
      for (let i = from; i < content.length; i++) {
        const piece = content[i]!;
        if (typeof piece === 'string') text(piece);
        else range(piece);
      }
    }
  }
  flush();
}

/** Tokens of the framed prompt (template, content, answer prefix); from content[from] on when a cut precedes it. */
export function countPrompt(frame: PromptFrame, content: readonly Piece[], from = 0): number {
  let n = 0;
  walk(
    frame,
    content,
    {
      ids: (ids) => void (n += ids.length),
      copy: (_index, t0, t1) => void (n += t1 - t0),
    },
    from,
  );
  return n;
}

/**
 * Exact prompt tokens of [lead, ...pieces, trail] from the pieces' own counts, without laying
 * the pieces out in their (shuffled) order. Where every piece cuts against every other piece
 * and `lead` cuts against each piece, each piece tokenises on its own wherever it stands: the
 * total is the pieces' sum plus the prompt around them, which depends only on the piece that
 * meets `trail` (it may merge with it: "...\n" is one Llama-3 token). Pieces are registered
 * through `tokens` before `total` is asked; one junction that is not a cut makes every
 * total undefined, and the caller lays the prompt out instead.
 */
export class PieceTally {
  private readonly firsts = new Set<number>();
  private readonly lasts = new Set<number>();
  private clean = true;
  private readonly around = new Map<string, number>();
  constructor(
    private readonly frame: PromptFrame,
    private readonly lead: string,
    private readonly trail: string,
  ) {}

  /** The piece's own token count; notes its first and last code points. */
  tokens(piece: string): number {
    if (!piece) {
      this.clean = false;
      return 0;
    }
    const { tokenizer } = this.frame;
    const f = firstCodePoint(piece);
    const l = lastCodePoint(piece);
    if (!this.firsts.has(f)) {
      this.firsts.add(f);
      if (!isCut(tokenizer, this.lead, piece)) this.clean = false;
      for (const x of this.lasts) if (!tokenizer.isCutPair(x, f)) this.clean = false;
    }
    if (!this.lasts.has(l)) {
      this.lasts.add(l);
      for (const x of this.firsts) if (!tokenizer.isCutPair(l, x)) this.clean = false;
    }
    return pieceTokens(tokenizer, piece);
  }

  /** Prompt tokens when the registered pieces sum to `sum` tokens and `last` ends the list. */
  total(sum: number, last: string): number | undefined {
    if (!this.clean) return undefined;
    let edge = this.around.get(last);
    if (edge === undefined) {
      edge = countPrompt(this.frame, [this.lead, last, this.trail]) - this.tokens(last);
      if (!this.clean) return undefined;
      this.around.set(last, edge);
    }
    return edge + sum;
  }
}

export interface AssembledPrompt {
  /** The user turn, for /v1/chat/completions (the answer prefix is not in it: see `answerPrefix`). */
  messages: ChatMessage[];
  /** The content as one string (haystack and instructions, without template). */
  content: string;
  /** Exact ids of the templated prompt ending with the answer prefix, for /v1/completions. */
  promptIds: Uint32Array;
}

export function assemblePrompt(frame: PromptFrame, content: readonly Piece[], opts: { verify?: boolean } = {}): AssembledPrompt {
  const chunks: (readonly number[] | Uint32Array)[] = [];
  let total = 0;
  walk(frame, content, {
    ids: (ids) => {
      chunks.push(ids);
      total += ids.length;
    },
    copy: (index, t0, t1) => {
      const out = new Uint32Array(t1 - t0);
      index.copyTokens(t0, t1, out, 0);
      chunks.push(out);
      total += out.length;
    },
  });
  const promptIds = new Uint32Array(total);
  let o = 0;
  for (const c of chunks) {
    promptIds.set(c, o);
    o += c.length;
  }
  const parts: string[] = [];
  for (const p of content) {
    if (typeof p === 'string') parts.push(p);
    else frame.index!.sliceInto(p.from, p.to, parts);
  }
  const text = parts.join('');
  const { tokenizer } = frame;
  if (tokenizer.normalizeContent(text) !== text) {
    throw new Error('internal: a RULER prompt content must not start or end with whitespace (the chat template would strip it)');
  }
  if (opts.verify) {
    // The chat template's last text and the answer prefix are one text run: encoded together.
    const full = frame.chatTemplate
      ? reencodeTail(tokenizer, text, frame.answerPrefix)
      : tokenizer.encode(text + frame.answerPrefix, { addBos: true });
    if (full.length !== promptIds.length || full.some((v, i) => v !== promptIds[i])) {
      const at = full.findIndex((v, i) => v !== promptIds[i]);
      throw new Error(`internal: assembled prompt differs from a full re-tokenisation at token ${at} (${promptIds.length} vs ${full.length} tokens)`);
    }
  }
  return { messages: [{ role: 'user', content: text }], content: text, promptIds };
}

/** The templated prompt plus answer prefix tokenised from scratch: the template's text parts and the prefix as one run. */
function reencodeTail(tokenizer: Tokenizer, content: string, answerPrefix: string): number[] {
  const out: number[] = [];
  let pending = '';
  for (const part of tokenizer.chatLayout(['user'])) {
    if (part.kind === 'special') {
      if (pending) out.push(...tokenizer.encode(pending));
      pending = '';
      out.push(part.token.id);
    } else pending += part.kind === 'text' ? part.text : tokenizer.normalizeContent(content);
  }
  out.push(...tokenizer.encode(pending + answerPrefix));
  return out;
}

/**
 * Exact-length haystack of whole units plus filler atoms.
 *
 * `build(n)` lays out n units; the fitter finds the largest n whose prompt fits (interpolation
 * search: counts grow almost linearly with n), then closes the remaining gap with up to
 * `maxAtoms` filler atoms inserted at `fillAt` (a task's own small pieces: a partial noise line,
 * an extra rare word, a truncated distractor document). RULER itself stops at the largest n
 * that fits and leaves the rest of the budget unused; the atoms are what makes ±0 possible.
 */
export interface UnitPlan<T> {
  minUnits: number;
  build(n: number): { content: Piece[]; fillAt: number; data: T };
  /** Candidate atoms for filler slot `slot`, each bounded by cuts on both sides where it goes. */
  atoms(n: number, slot: number): readonly string[];
  maxAtoms: number;
  /**
   * Exact prompt tokens of build(n) without laying it out (see PieceTally), or undefined where
   * that cannot be told; then the size search counts built prompts.
   */
  tokens?(n: number): number | undefined;
}

export interface FittedUnits<T> {
  n: number;
  content: Piece[];
  filler: string[];
  data: T;
}

export function fitUnits<T>(frame: PromptFrame, plan: UnitPlan<T>, target: number): FittedUnits<T> {
  const counted = new Map<number, number>();
  const count = (n: number) => {
    let c = counted.get(n);
    if (c === undefined) counted.set(n, (c = plan.tokens?.(n) ?? countPrompt(frame, plan.build(n).content)));
    return c;
  };
  let lo = plan.minUnits;
  const cLo = count(lo);
  if (cLo > target) {
    throw new RulerError(`a ${target}-token prompt cannot hold this task's template, question and needles, which need ${cLo} tokens`, 'length');
  }
  // Bracket [lo, hi) with count(lo) <= target < count(hi).
  const probe = lo + 8;
  const perUnit = Math.max(1, (count(probe) - cLo) / (probe - lo));
  let hi = lo + Math.max(1, Math.ceil(((target - cLo) / perUnit) * 1.02) + 1);
  while (count(hi) <= target) {
    lo = hi;
    hi = lo + Math.max(1, Math.ceil((target - count(lo)) / perUnit) + 1);
  }
  while (hi - lo > 1) {
    const cl = count(lo);
    const ch = count(hi);
    let mid = lo + Math.round(((target - cl) * (hi - lo)) / Math.max(1, ch - cl));
    mid = Math.min(hi - 1, Math.max(lo + 1, mid));
    if (count(mid) <= target) lo = mid;
    else hi = mid;
  }
  for (let n = lo; n >= plan.minUnits && n >= lo - 3; n--) {
    const built = plan.build(n);
    const withFiller = (filler: string[]) => [...built.content.slice(0, built.fillAt), ...filler, ...built.content.slice(built.fillAt)];
    // Filler only changes the runs from the last cut before the fill spot on: only those are recounted.
    const from = lastCutBefore(frame.tokenizer, built.content, built.fillAt);
    const before = from > 0 ? countPrompt(frame, built.content, from) : 0;
    const countWith = (content: Piece[]) => (from > 0 ? count(n) - before + countPrompt(frame, content, from) : countPrompt(frame, content));
    // Atoms are counted on their own. Where the unit before the fill spot merged with the text
    // after it (".\n" is one token), the filler splits that token and the whole prompt grows or
    // shrinks by a constant: one miss measures it, and the gap is corrected.
    let gap = target - count(n);
    const tried = new Set<number>();
    let checks = 0;
    while (gap >= 0 && !tried.has(gap) && checks < 16) {
      tried.add(gap);
      let corrected: number | undefined;
      for (const filler of fillerCombos(frame.tokenizer, plan, n, gap)) {
        const content = withFiller(filler);
        const got = countWith(content);
        checks++;
        if (got === target) return { n, content, filler, data: built.data };
        if (filler.length > 0) {
          corrected = gap - (got - target);
          break;
        }
        if (checks >= 16) break;
      }
      if (corrected === undefined) break;
      gap = corrected;
    }
  }
  throw new RulerError(`could not fill a ${target}-token prompt exactly with this tokenizer`, 'length');
}

/**
 * The index i < at such that a cut lies between content[i - 1] and content[i] (both non-empty
 * texts) and the pieces content[i..at-1] are texts; 0 when there is none.
 */
function lastCutBefore(tokenizer: Tokenizer, content: readonly Piece[], at: number): number {
  for (let i = at - 1; i > 0; i--) {
    const left = content[i - 1];
    const right = content[i];
    if (typeof left !== 'string' || typeof right !== 'string') return 0;
    if (left && right && isCut(tokenizer, left, right)) return i;
  }
  return 0;
}

/** Filler atom sequences whose own token counts add up to `gap`, fewest atoms first (one per distinct count mix). */
function* fillerCombos<T>(tokenizer: Tokenizer, plan: UnitPlan<T>, n: number, gap: number): Generator<string[]> {
  if (gap === 0) {
    yield [];
    return;
  }
  // Per slot, one atom per token count: combinations differ only in counts.
  const slots = Array.from({ length: plan.maxAtoms }, (_v, k) => {
    const byCount = new Map<number, string>();
    for (const a of plan.atoms(n, k)) {
      const c = pieceTokens(tokenizer, a);
      if (!byCount.has(c)) byCount.set(c, a);
    }
    return byCount;
  });
  const extremes = slots.map((s) => ({ min: Math.min(...s.keys()), max: Math.max(...s.keys()) }));
  for (let k = 1; k <= plan.maxAtoms; k++) {
    const chosen: string[] = [];
    const dfs = function* (slot: number, left: number): Generator<string[]> {
      if (slot === k - 1) {
        const last = slots[slot]!.get(left);
        if (last !== undefined) yield [...chosen, last];
        return;
      }
      for (const [c, a] of slots[slot]!) {
        const rest = left - c;
        let min = 0;
        let max = 0;
        for (let j = slot + 1; j < k; j++) {
          min += extremes[j]!.min;
          max += extremes[j]!.max;
        }
        if (rest < min || rest > max) continue;
        chosen.push(a);
        yield* dfs(slot + 1, rest);
        chosen.pop();
      }
    };
    yield* dfs(0, gap);
  }
}

/**
 * The end `b` (a virtual char of the corpus, > lo) of a trailing corpus range such that the
 * prompt `contentFor(b)` has exactly `target` tokens; undefined when none exists near the
 * estimate. Cuts give the coarse position, then every character between neighbouring cuts is
 * tried (multi-token words give counts cuts alone cannot). Ends right after whitespace or
 * inside a surrogate pair are skipped.
 */
export function fitRangeEnd(frame: PromptFrame, contentFor: (b: number) => Piece[], lo: number, hi: number, target: number): number | undefined {
  const index = frame.index!;
  const count = (b: number) => countPrompt(frame, contentFor(b));
  const validEnd = (b: number) => {
    const around = index.slice(b - 1, b + 1);
    return !/\s/.test(around[0] ?? ' ') && (around.charCodeAt(1) & 0xfc00) !== 0xdc00;
  };
  const first = index.firstCutAbove(lo);
  if (first.char > hi) return scan(lo + 1, hi);
  const fFirst = count(first.char);
  if (fFirst > target) return scan(lo + 1, first.char);
  let c = index.cutAtOrBeforeToken(first.tok + (target - fFirst));
  if (c.char < first.char) c = first;
  if (c.char > hi) c = index.lastCutBelow(hi + 1);
  let fc = count(c.char);
  while (fc > target && c.char > first.char) {
    c = index.lastCutBelow(c.char);
    fc = count(c.char);
  }
  for (let i = 0; i < 64; i++) {
    const next = index.firstCutAbove(c.char);
    if (next.char > hi) break;
    const fn = count(next.char);
    if (fn > target) break;
    c = next;
    fc = fn;
  }
  if (fc === target && validEnd(c.char)) return c.char;
  let to = c.char;
  for (let i = 0; i < 3; i++) to = index.firstCutAbove(to).char;
  return scan(c.char, Math.min(hi, to));

  function scan(from: number, to: number): number | undefined {
    for (let b = Math.max(from, lo + 1); b <= to; b++) if (validEnd(b) && count(b) === target) return b;
    return undefined;
  }
}
