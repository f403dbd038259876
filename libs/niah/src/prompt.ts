import { MAX_CONTEXT_LENGTH } from '@ctxlab/contracts';
import { isPythonSpace, type ChatMessage, type Tokenizer, utf8Length } from '@ctxlab/tokenizers';
import { type CorpusIndex, type SentenceEndIndex, sentenceEndIndex } from './corpus';
import { NiahError } from './errors';

/**
 * Exact-length prompt building.
 *
 * The corpus is tokenised once (CorpusIndex). A prompt is the chat template around a haystack
 * message made of corpus ranges and inserted needles. Its token ids are assembled without
 * re-tokenising the haystack: the tokenizer reports "cuts" — positions where any string with
 * the same two neighbouring characters tokenises as two independent halves. Between two cuts
 * inside one corpus range the corpus' own ids are copied; only the short windows around each
 * junction (template text, needle, the ends of the haystack) are encoded, from the last cut
 * before the junction to the first cut after it. The result equals tokenising the templated
 * prompt string from scratch (tests check this over many random lengths, and `verify` re-checks
 * at run time), so the requested length can be hit exactly: the end of the haystack moves to
 * the cut whose token count closes the gap, and, inside a multi-token word, to the character
 * that does.
 */

export type Placement = 'sentence' | 'token' | 'start' | 'end';

export interface NeedleInsert {
  text: string;
  /** Fraction of the haystack (0 = first, 1 = last). */
  depth: number;
}

export interface PromptRecipe {
  index: CorpusIndex;
  /** Total prompt tokens wanted, template included. */
  length: number;
  /** Virtual char where the haystack starts (a document start). */
  start: number;
  needles: readonly NeedleInsert[];
  system?: string;
  /** chat: system + user(haystack) + user(question); single: user(haystack + "\n\n" + question). */
  layout: 'chat' | 'single';
  /** Question and instruction, as sent. */
  question: string;
  /** Text around each needle: the original harness inserts "\n" + needle + "\n". */
  needleWrap?: { before: string; after: string };
  maxWalkTokens: number;
  /** Re-tokenise the whole prompt and compare (slow; for tests and audits). */
  verify?: boolean;
}

export interface PlacedNeedle {
  text: string;
  depth: number;
  placement: Placement;
  /** Index in the prompt ids of the first token that covers the needle's first character. */
  tokenIndex: number;
}

export interface BuiltPrompt {
  messages: ChatMessage[];
  ids: Uint32Array;
  promptTokens: number;
  /** promptTokens − requested length: 0 unless exactness was impossible (see buildPrompt). */
  lengthError: number;
  needles: PlacedNeedle[];
  /** Virtual char range of the corpus used. */
  haystackChars: { start: number; end: number };
}

type Piece = { kind: 'lit'; text: string; needle?: number; needleOffset?: number } | { kind: 'range'; from: number; to: number };

interface Mark {
  needle: number;
  /** UTF-16 offset in the pending window where the needle text starts. */
  offset: number;
}

interface Emitter {
  encode(text: string, marks: Mark[]): void;
  copy(t0: number, t1: number): void;
}

/**
 * Walks the text between two template specials, encoding only windows around junctions (see
 * the file comment) and copying the corpus' ids between them.
 */
function walk(pieces: readonly Piece[], index: CorpusIndex, emit: Emitter): void {
  let pending = '';
  let marks: Mark[] = [];
  const flush = () => {
    if (pending) emit.encode(pending, marks);
    pending = '';
    marks = [];
  };
  for (const p of pieces) {
    if (p.kind === 'lit') {
      if (p.needle !== undefined) marks.push({ needle: p.needle, offset: pending.length + (p.needleOffset ?? 0) });
      pending += p.text;
      continue;
    }
    if (p.to <= p.from) continue;
    const c1 = index.firstCutAbove(p.from);
    if (c1.char < p.to) {
      const c2 = index.lastCutBelow(p.to);
      pending += index.slice(p.from, c1.char);
      flush();
      if (c2.tok > c1.tok) emit.copy(c1.tok, c2.tok);
      pending = index.slice(c2.char, p.to);
    } else pending += index.slice(p.from, p.to);
  }
  flush();
}

/**
 * Ids of the short texts a prompt encodes (template parts, the windows around junctions), kept
 * per tokenizer: one grid encodes the same system prompt, role names and haystack-start window
 * in every cell, and the exact-length search encodes the same needle windows many times.
 */
const windowCache = new WeakMap<Tokenizer, Map<string, readonly number[]>>();
const WINDOW_CACHE_CHARS = 512;
const WINDOW_CACHE_ENTRIES = 8192;

function windowIds(tokenizer: Tokenizer, text: string): readonly number[] {
  if (text.length > WINDOW_CACHE_CHARS) return tokenizer.encode(text);
  let cache = windowCache.get(tokenizer);
  if (!cache) windowCache.set(tokenizer, (cache = new Map()));
  let ids = cache.get(text);
  if (!ids) {
    ids = tokenizer.encode(text);
    if (cache.size >= WINDOW_CACHE_ENTRIES) cache.clear();
    cache.set(text, ids);
  }
  return ids;
}

/**
 * The template around the haystack. Text between two template specials is encoded on its own,
 * so everything outside the haystack's stretch is fixed for a recipe: its ids are computed once,
 * and only the haystack's stretch (the literal text around the content, then the content) is
 * walked per candidate end.
 */
interface Layout {
  head: readonly number[];
  tail: readonly number[];
  /** Literal text before and after the content within the haystack's stretch. */
  hayBefore: string;
  hayAfter: string;
  messagesFor(haystack: string): ChatMessage[];
}

function makeLayout(tokenizer: Tokenizer, recipe: PromptRecipe): Layout {
  const messages: { role: string; content: string | null }[] = [];
  if (recipe.system !== undefined) messages.push({ role: 'system', content: tokenizer.normalizeContent(recipe.system) });
  if (recipe.layout === 'chat') messages.push({ role: 'user', content: null }, { role: 'user', content: tokenizer.normalizeContent(recipe.question) });
  else messages.push({ role: 'user', content: null });
  const parts = tokenizer.chatLayout(messages.map((m) => m.role));
  const questionTail = recipe.layout === 'single' ? `\n\n${tokenizer.normalizeContent(recipe.question)}` : '';
  const head: number[] = [];
  const tail: number[] = [];
  let hayBefore = '';
  let hayAfter = '';
  // Before the content: `text` collects the current stretch; at the content it becomes hayBefore.
  let text = '';
  let seenContent = false;
  let inHay = false;
  const flush = () => {
    const out = seenContent ? tail : head;
    if (text) out.push(...windowIds(tokenizer, text));
    text = '';
  };
  for (const part of parts) {
    if (part.kind === 'special') {
      if (inHay) {
        hayAfter = text;
        text = '';
        inHay = false;
      } else flush();
      (seenContent ? tail : head).push(part.token.id);
    } else if (part.kind === 'text') text += part.text;
    else {
      const m = messages[part.message]!;
      if (m.content !== null) text += m.content;
      else {
        hayBefore = text;
        text = questionTail;
        seenContent = true;
        inHay = true;
      }
    }
  }
  if (inHay) hayAfter = text;
  else flush();
  return {
    head,
    tail,
    hayBefore,
    hayAfter,
    messagesFor(haystack) {
      return messages.map((m) => ({ role: m.role, content: m.content ?? haystack + questionTail }));
    },
  };
}

/** Tokens of the haystack's stretch (literal text around the content included). */
function countStretch(pieces: readonly Piece[], index: CorpusIndex): number {
  let n = 0;
  const tok = index.tokenizer;
  walk(pieces, index, {
    encode: (text) => void (n += windowIds(tok, text).length),
    copy: (t0, t1) => void (n += t1 - t0),
  });
  return n;
}

function codePointBefore(s: string, i: number): number {
  const c = s.charCodeAt(i - 1);
  return (c & 0xfc00) === 0xdc00 && i >= 2 ? s.codePointAt(i - 2)! : c;
}

/** Virtual position of the last sentence end at or below X, if any. */
function lastSentenceEnd(index: CorpusIndex, ends: SentenceEndIndex, X: number): number | undefined {
  const L = index.chars;
  const k = Math.floor(X / L);
  const e = ends.atOrBelow(X - k * L);
  if (e >= 0) return k * L + e;
  if (k > 0) {
    const last = ends.last();
    if (last >= 0) return (k - 1) * L + last;
  }
  return undefined;
}

interface Insert {
  /** Virtual char, or 'start'/'end' of the haystack. */
  at: number | 'start' | 'end';
  needle: number;
  placement: Placement;
}

/** Where the haystack is cut and resumes `skip` characters later (after the last middle needle, or at a gap). */
interface Drop {
  at: number;
  skip: number;
}

/** Tokens before the haystack's end where a haystack with no needle inside it may take its gap. */
const GAP_BEFORE_END_TOKENS = 32;

/**
 * Builds one prompt of exactly `recipe.length` tokens.
 *
 * Search order, chosen so cells of one haystack keep sharing everything before their first
 * needle (what a prefix-caching server reuses): first only the haystack's end moves (to any
 * character, not just cuts); then also the point where the haystack resumes after the last
 * needle skips up to 12 characters. A haystack with no needle inside it (depth 0 or 1, or no
 * needle) has no such point, so it takes a gap of up to 12 characters at a sentence end shortly
 * before its end instead: every token before the gap stays shared. Only then does the start
 * move — free when the first needle sits at depth 0, a lost prefix otherwise. If nothing is
 * exact (tiny prompts, or a byte tokenizer whose only exact end would leave trailing whitespace
 * the template strips), the closest count below the target is returned and `lengthError` says
 * by how much.
 */
export function buildPrompt(recipe: PromptRecipe): BuiltPrompt {
  // Refused before any work: a prompt of billions of tokens would hold the process for a minute
  // and gigabytes of memory before failing.
  if (!Number.isInteger(recipe.length) || recipe.length < 1 || recipe.length > MAX_CONTEXT_LENGTH) {
    throw new NiahError('INVALID_SPEC', `a prompt length must be a whole number of tokens from 1 to ${MAX_CONTEXT_LENGTH.toLocaleString('en-US')}; got ${recipe.length}`, 'length');
  }
  const { index } = recipe;
  const layout = makeLayout(index.tokenizer, recipe);
  const fixed = layout.head.length + layout.tail.length;
  const wrap = recipe.needleWrap ?? { before: '\n', after: '\n' };
  const order = recipe.needles.map((n, i) => ({ ...n, i })).sort((a, b) => a.depth - b.depth || a.i - b.i);

  /** The haystack's stretch: its literal surroundings, corpus ranges [a, b) and the needles. */
  const piecesFor = (a: number, b: number, inserts: readonly Insert[], drop: Drop | undefined): Piece[] => {
    const pieces: Piece[] = [];
    let cur = a;
    const sorted = inserts
      .map((ins) => ({ ins, pos: ins.at === 'start' ? a : ins.at === 'end' ? b : ins.at }))
      .sort((x, y) => x.pos - y.pos || x.ins.needle - y.ins.needle);
    const range = (to: number) => {
      if (to > cur) pieces.push({ kind: 'range', from: cur, to });
      cur = Math.max(cur, to);
    };
    // The drop comes after any needle at its own position (the skip follows the last needle).
    let pendingDrop = drop;
    const applyDrop = () => {
      range(pendingDrop!.at);
      cur = Math.max(cur, Math.min(b, pendingDrop!.at + pendingDrop!.skip));
      pendingDrop = undefined;
    };
    for (const { ins, pos } of sorted) {
      if (pendingDrop && pendingDrop.at < pos) applyDrop();
      range(pos);
      const n = recipe.needles[ins.needle]!;
      pieces.push({ kind: 'lit', text: wrap.before + n.text + wrap.after, needle: ins.needle, needleOffset: wrap.before.length });
    }
    if (pendingDrop) applyDrop();
    range(b);
    // The template strips the content (Jinja `trim`): keep it strip-invariant by dropping the
    // wraps at the very start and end of the haystack message.
    const first = pieces[0];
    if (first?.kind === 'lit') {
      const stripped = first.text.replace(/^\s+/, '');
      first.needleOffset! -= first.text.length - stripped.length;
      first.text = stripped;
    }
    const last = pieces.at(-1);
    if (last?.kind === 'lit') last.text = last.text.replace(/\s+$/, '');
    if (layout.hayBefore) pieces.unshift({ kind: 'lit', text: layout.hayBefore });
    if (layout.hayAfter) pieces.push({ kind: 'lit', text: layout.hayAfter });
    return pieces;
  };

  const total = (a: number, b: number, inserts: readonly Insert[], drop: Drop | undefined) => fixed + countStretch(piecesFor(a, b, inserts, drop), index);

  // Overhead: the whole prompt with the needles but no haystack.
  const allEnd: Insert[] = order.map((n) => ({ at: 'end', needle: n.i, placement: 'end' }));
  const overhead = total(recipe.start, recipe.start, allEnd, undefined);
  if (overhead > recipe.length) {
    throw new NiahError(
      'LENGTH_TOO_SHORT',
      `a ${recipe.length}-token prompt cannot hold the template, question and needle, which need ${overhead} tokens`,
    );
  }
  const budget = recipe.length - overhead;

  // Needle positions: depth × haystack tokens, then back to a sentence end within the walk bound.
  const ends = sentenceEndIndex(index.corpus);
  const startCut = index.lastCutBelow(recipe.start + 1);
  /** Where a needle aimed at haystack token `target` goes: a sentence end, else a cut; undefined at or before a. */
  const anchor = (target: number, a: number): { at: number; placement: 'sentence' | 'token' } | undefined => {
    const cut = index.cutAtOrBeforeToken(target);
    if (cut.char <= a) return undefined;
    const s = lastSentenceEnd(index, ends, cut.char);
    if (s !== undefined && s > a && target - index.lastCutBelow(s + 1).tok <= recipe.maxWalkTokens) return { at: s, placement: 'sentence' };
    return { at: cut.char, placement: 'token' };
  };
  const place = (a: number): Insert[] =>
    order.map((n) => {
      if (n.depth <= 0) return { at: 'start', needle: n.i, placement: 'start' };
      if (n.depth >= 1) return { at: 'end', needle: n.i, placement: 'end' };
      const at = anchor(startCut.tok + Math.round(n.depth * budget), a);
      return at ? { ...at, needle: n.i } : { at: 'start', needle: n.i, placement: 'start' };
    });

  const isLowSurrogateAt = (X: number) => (index.slice(X, X + 1).charCodeAt(0) & 0xfc00) === 0xdc00;
  /** A content end: not inside a surrogate pair, not after whitespace the template would strip. */
  const validEnd = (b: number) => {
    const before = index.slice(Math.max(0, b - 2), b);
    return before.length > 0 && !isLowSurrogateAt(b) && !isPythonSpace(codePointBefore(before, before.length));
  };
  /**
   * Skips after `at`: the next 12 characters, then (for scripts of 3-byte characters, where only
   * line breaks change the byte count's remainder) every position after a line break within 96.
   */
  const skipsAfter = (at: number): number[] => {
    const skips = [0];
    const after = index.slice(at, at + 96);
    for (let k = 1; k < after.length; k++) {
      if ((after.charCodeAt(k) & 0xfc00) === 0xdc00) continue;
      if (k <= 12 || after[k - 1] === '\n') skips.push(k);
    }
    return skips;
  };

  type Fit = { b: number; count: number };
  const better = (x: Fit | undefined, y: Fit) => !x || (y.count <= recipe.length && (x.count > recipe.length || y.count > x.count));

  /** Moves only the haystack's end; returns an exact fit or the closest from below. */
  const fitEnd = (a: number, inserts: readonly Insert[], drop: Drop | undefined): Fit | undefined => {
    const lo = index.firstCutAbove(drop ? Math.max(a, drop.at + drop.skip) : a);
    const fLo = total(a, lo.char, inserts, drop);
    if (fLo > recipe.length) return undefined;
    const want = lo.tok + (recipe.length - fLo);
    let c = index.cutAtOrBeforeToken(want);
    let fc = total(a, c.char, inserts, drop);
    // Windows near the needles can bend the linear relation; step back until at or below.
    while (fc > recipe.length && c.char > lo.char) {
      c = index.lastCutBelow(c.char);
      fc = total(a, c.char, inserts, drop);
    }
    let best: Fit | undefined = validEnd(c.char) ? { b: c.char, count: fc } : undefined;
    if (best?.count === recipe.length) return best;
    // Any character between the neighbouring cuts can end the haystack; multi-token words and
    // multi-byte characters give counts the cuts alone cannot.
    let from = c.char;
    for (let i = 0; i < 2 && from > lo.char; i++) from = index.lastCutBelow(from).char;
    let to = c.char;
    for (let i = 0; i < 3; i++) to = index.firstCutAbove(to).char;
    for (let b = Math.max(from, lo.char); b <= to; b++) {
      if (!validEnd(b)) continue;
      const f = total(a, b, inserts, drop);
      if (f === recipe.length) return { b, count: f };
      if (better(best, { b, count: f })) best = { b, count: f };
    }
    return best;
  };

  let chosen: (Fit & { a: number; inserts: readonly Insert[]; drop: Drop | undefined }) | undefined;
  const consider = (a: number, inserts: readonly Insert[], drop: Drop | undefined): boolean => {
    const r = fitEnd(a, inserts, drop);
    if (r && (!chosen || better(chosen, r))) chosen = { ...r, a, inserts, drop };
    return chosen?.count === recipe.length;
  };

  const tryStart = (a: number): boolean => {
    let inserts = place(a);
    const middle = inserts.flatMap((i) => (typeof i.at === 'number' ? [i.at] : []));
    if (middle.length > 0) {
      const lastAt = Math.max(...middle);
      for (const skip of skipsAfter(lastAt)) if (consider(a, inserts, { at: lastAt, skip })) return true;
      if (chosen) return false;
      // Too short for any haystack after the needles: keep them, put them at the end.
      inserts = inserts.map((i) => (typeof i.at === 'number' ? { ...i, at: 'end', placement: 'end' } : i));
    }
    if (consider(a, inserts, undefined)) return true;
    // No needle inside the haystack: a gap where a needle aimed just before the end would go.
    const gap = budget > 2 * GAP_BEFORE_END_TOKENS ? anchor(startCut.tok + budget - GAP_BEFORE_END_TOKENS, a) : undefined;
    if (gap) for (const skip of skipsAfter(gap.at).slice(1)) if (consider(a, inserts, { at: gap.at, skip })) return true;
    return false;
  };

  let done = tryStart(recipe.start);
  if (!done) {
    // Last resort: move the start to a later character (word starts first).
    const window = index.slice(recipe.start, recipe.start + 400);
    const candidates: number[] = [];
    for (const wordStart of [true, false]) {
      for (let i = 1; i < window.length && candidates.length < 96; i++) {
        if ((window.charCodeAt(i) & 0xfc00) === 0xdc00 || isPythonSpace(window.codePointAt(i)!)) continue;
        if (isPythonSpace(codePointBefore(window, i)) === wordStart) candidates.push(recipe.start + i);
      }
    }
    for (const a of candidates) if ((done = tryStart(a))) break;
  }
  if (!chosen) throw new NiahError('LENGTH_TOO_SHORT', `could not fit a haystack into a ${recipe.length}-token prompt`);
  const c = chosen;
  return materialise(recipe, layout, piecesFor(c.a, c.b, c.inserts, c.drop), c);
}

function materialise(
  recipe: PromptRecipe,
  layout: Layout,
  pieces: Piece[],
  chosen: { a: number; b: number; count: number; inserts: readonly Insert[] },
): BuiltPrompt {
  const { index } = recipe;
  const tokenizer = index.tokenizer;
  const ids = new Uint32Array(chosen.count);
  ids.set(layout.head, 0);
  let o = layout.head.length;
  const needleTok = new Map<number, number>();
  walk(pieces, index, {
    encode: (text, marks) => {
      const enc = windowIds(tokenizer, text);
      for (const m of marks) {
        // The first token whose bytes reach past the needle's first byte.
        const byteOffset = utf8Length(text.slice(0, m.offset));
        let bytes = 0;
        let j = 0;
        while (j < enc.length && bytes + tokenizer.tokenBytes(enc[j]!).length <= byteOffset) bytes += tokenizer.tokenBytes(enc[j++]!).length;
        needleTok.set(m.needle, o + j);
      }
      ids.set(enc, o);
      o += enc.length;
    },
    copy: (t0, t1) => {
      o = index.copyTokens(t0, t1, ids, o);
    },
  });
  ids.set(layout.tail, o);
  o += layout.tail.length;
  if (o !== chosen.count) throw new Error(`internal: counted ${chosen.count} tokens but wrote ${o}`);

  // The haystack as a rope of corpus slices: concatenation links them in constant time, where
  // join() would copy megabytes per prompt. Byte for byte the same text; it is flattened only if
  // and when something reads it whole (a chat request's JSON body), once.
  const parts: string[] = [];
  const last = pieces.length - (layout.hayAfter ? 1 : 0);
  for (let i = layout.hayBefore ? 1 : 0; i < last; i++) {
    const p = pieces[i]!;
    if (p.kind === 'lit') parts.push(p.text);
    else index.sliceInto(p.from, p.to, parts);
  }
  let haystack = '';
  for (const part of parts) haystack += part;
  const messages = layout.messagesFor(haystack);
  if (recipe.verify) {
    const expected = tokenizer.encodeChat(messages);
    if (expected.length !== ids.length || expected.some((v, i) => v !== ids[i])) {
      const at = expected.findIndex((v, i) => v !== ids[i]);
      throw new Error(`internal: assembled prompt differs from a full re-tokenisation at token ${at} (${ids.length} vs ${expected.length} tokens)`);
    }
  }
  return {
    messages,
    ids,
    promptTokens: ids.length,
    lengthError: ids.length - recipe.length,
    needles: chosen.inserts
      .slice()
      .sort((x, y) => x.needle - y.needle)
      .map((ins) => ({
        text: recipe.needles[ins.needle]!.text,
        depth: recipe.needles[ins.needle]!.depth,
        placement: ins.placement,
        tokenIndex: needleTok.get(ins.needle) ?? -1,
      })),
    haystackChars: { start: chosen.a, end: chosen.b },
  };
}
