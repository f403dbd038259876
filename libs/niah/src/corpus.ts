import type { Tokenizer } from '@ctxlab/tokenizers';
import { NiahError } from './errors';
import { sha256Hex } from './sha256';

/** Documents are joined by a blank line; the haystack repeats the joined text cyclically. */
export const DOC_SEPARATOR = '\n\n';

export interface CorpusDocument {
  name: string;
  text: string;
}

export interface Corpus {
  readonly name: string;
  /** 'en', 'zh', … (free text for user corpora). */
  readonly language: string;
  readonly documents: readonly CorpusDocument[];
  /** One cycle of the haystack: every document followed by DOC_SEPARATOR. */
  readonly text: string;
  /** UTF-16 offset of each document in `text`. */
  readonly docStarts: Int32Array;
  /** sha256 (hex) of `text`: identifies the normalised documents and their order. */
  digest(): string;
}

/**
 * Normalisation applied to every document: CRLF/CR to LF, BOM dropped, surrounding whitespace
 * trimmed. Trimming matters beyond tidiness: a document that starts with a non-space
 * character after the separator's newline is a tokenizer cut point, so corpora can be
 * tokenised document by document and the pieces concatenated exactly.
 */
export function normalizeDocumentText(text: string): string {
  return text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').trim();
}

/**
 * Splits a long document into parts of at most `maxChars` characters, at a paragraph break where
 * there is one (else a line break, else a space, else anywhere but inside a surrogate pair), so a
 * book too long for one import document becomes several whose haystack reads the same.
 */
export function splitDocument(doc: CorpusDocument, maxChars: number): CorpusDocument[] {
  if (doc.text.length <= maxChars) return [doc];
  const parts: string[] = [];
  let rest = doc.text;
  while (rest.length > maxChars) {
    const window = rest.slice(0, maxChars + 1);
    let cut = [window.lastIndexOf('\n\n'), window.lastIndexOf('\n'), window.lastIndexOf(' ')].find((i) => i > 0) ?? maxChars;
    if (cut === maxChars && /[\uD800-\uDBFF]/.test(rest.charAt(cut - 1))) cut -= 1;
    parts.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^\s+/, '');
  }
  if (rest.length > 0) parts.push(rest);
  return parts.map((text, i) => ({ name: `${doc.name} (part ${i + 1} of ${parts.length})`, text }));
}

export function loadCorpusFromTexts(name: string, documents: readonly CorpusDocument[], opts: { language?: string } = {}): Corpus {
  const docs = documents.map((d) => ({ name: d.name, text: normalizeDocumentText(d.text) })).filter((d) => d.text.length > 0);
  if (docs.length === 0) throw new NiahError('EMPTY_CORPUS', `corpus "${name}" has no non-empty documents`);
  const docStarts = new Int32Array(docs.length);
  const parts: string[] = [];
  let offset = 0;
  docs.forEach((d, i) => {
    docStarts[i] = offset;
    parts.push(d.text, DOC_SEPARATOR);
    offset += d.text.length + DOC_SEPARATOR.length;
  });
  const text = parts.join('');
  let digest: string | undefined;
  return {
    name,
    language: opts.language ?? 'en',
    documents: docs,
    text,
    docStarts,
    digest: () => (digest ??= sha256Hex(text)),
  };
}

const sentenceCache = new WeakMap<Corpus, Int32Array>();

/**
 * Positions right after a sentence end (., !, ?, 。, ！, ？, … plus closing quotes/brackets) that
 * are followed by whitespace, a Han character or the end of a document: where a needle may go.
 */
export function sentenceEnds(corpus: Corpus): Int32Array {
  let cached = sentenceCache.get(corpus);
  if (!cached) {
    const out: number[] = [];
    const re = /[.!?。！？…][”’"'」』）)\]]*(?=\s|$|\p{Script=Han})/gu;
    for (const m of corpus.text.matchAll(re)) out.push(m.index + m[0].length);
    cached = Int32Array.from(out);
    sentenceCache.set(corpus, cached);
  }
  return cached;
}

/** Largest i with arr[i] <= x (arr sorted ascending), or -1. */
export function lastAtOrBelow(arr: ArrayLike<number>, n: number, x: number): number {
  let lo = 0;
  let hi = n - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (arr[mid]! <= x) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}

class Growable<T extends Uint32Array | Int32Array> {
  buf: T;
  length = 0;
  constructor(private readonly make: (n: number) => T) {
    this.buf = make(1 << 16);
  }
  append(src: ArrayLike<number>, offset: number): void {
    const need = this.length + src.length;
    if (need > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < need) cap *= 2;
      const next = this.make(cap);
      next.set(this.buf.subarray(0, this.length) as never);
      this.buf = next;
    }
    for (let i = 0; i < src.length; i++) this.buf[this.length + i] = src[i]! + offset;
    this.length = need;
  }
  push(v: number): void {
    this.append([v], 0);
  }
}

export interface Cut {
  /** Virtual character position (cycle k covers [k·chars, (k+1)·chars)). */
  char: number;
  /** Virtual token index of the first token after the cut. */
  tok: number;
}

/**
 * A corpus tokenised once for one tokenizer, document by document and only as far as asked,
 * addressed in "virtual" coordinates over the infinitely repeated haystack.
 */
export class CorpusIndex {
  readonly corpus: Corpus;
  readonly tokenizer: Tokenizer;
  private readonly ids = new Growable((n) => new Uint32Array(n));
  private readonly cutChar = new Growable((n) => new Int32Array(n));
  private readonly cutTok = new Growable((n) => new Int32Array(n));
  private nextDoc = 0;
  private charsDone = 0;

  constructor(corpus: Corpus, tokenizer: Tokenizer) {
    this.corpus = corpus;
    this.tokenizer = tokenizer;
  }

  get chars(): number {
    return this.corpus.text.length;
  }

  get complete(): boolean {
    return this.nextDoc >= this.corpus.documents.length;
  }

  get tokensDone(): number {
    return this.ids.length;
  }

  /** Tokens in one cycle of the haystack (tokenises the whole corpus). */
  get cycleTokens(): number {
    this.ensureComplete();
    return this.ids.length;
  }

  ensureComplete(): void {
    while (!this.complete) this.tokenizeNext();
  }

  /** ensureComplete, giving the event loop a turn after each document, so a server tokenising an upload keeps answering. */
  async ensureCompleteYielding(): Promise<void> {
    while (!this.complete) {
      this.tokenizeNext();
      await new Promise((r) => setTimeout(r, 0));
    }
  }

  private tokenizeNext(): void {
    const i = this.nextDoc;
    const doc = this.corpus.documents[i]!;
    const start = this.corpus.docStarts[i]!;
    const unit = doc.text + DOC_SEPARATOR;
    if (i > 0 || this.cutChar.length === 0) {
      const first = unit.codePointAt(0)!;
      if (!this.tokenizer.isCutPair(DOC_SEPARATOR.charCodeAt(DOC_SEPARATOR.length - 1), first)) {
        throw new Error(`tokenizer ${this.tokenizer.name} does not split at document starts; cannot tokenise "${this.corpus.name}" per document`);
      }
      this.cutChar.push(start);
      this.cutTok.push(this.ids.length);
    }
    const enc = this.tokenizer.encodeIndexed(unit);
    this.cutChar.append(enc.cutChars, start);
    this.cutTok.append(enc.cutTokens, this.ids.length);
    this.ids.append(enc.ids, 0);
    this.charsDone = start + unit.length;
    this.nextDoc++;
  }

  /** Tokenises until virtual token `t` exists (local tokens) or the corpus is complete. */
  ensureTokens(t: number): void {
    while (!this.complete && this.ids.length <= t) this.tokenizeNext();
  }

  private ensureLocalChars(x: number): void {
    while (!this.complete && this.charsDone <= x) this.tokenizeNext();
  }

  private split(X: number): { k: number; x: number } {
    const L = this.chars;
    const k = Math.floor(X / L);
    return { k, x: X - k * L };
  }

  private cycleTok(k: number): number {
    return k === 0 ? 0 : k * this.cycleTokens;
  }

  /** The last cut strictly before virtual char X (X > 0). */
  lastCutBelow(X: number): Cut {
    let { k, x } = this.split(X);
    if (x === 0) {
      k -= 1;
      x = this.chars;
      this.ensureComplete();
    } else this.ensureLocalChars(x);
    const i = lastAtOrBelow(this.cutChar.buf, this.cutChar.length, x - 1);
    const L = this.chars;
    return { char: k * L + this.cutChar.buf[i]!, tok: this.cycleTok(k) + this.cutTok.buf[i]! };
  }

  /** The first cut strictly after virtual char X. */
  firstCutAbove(X: number): Cut {
    const { k, x } = this.split(X);
    const L = this.chars;
    this.ensureLocalChars(x + 1);
    for (;;) {
      const i = lastAtOrBelow(this.cutChar.buf, this.cutChar.length, x) + 1;
      if (i < this.cutChar.length) return { char: k * L + this.cutChar.buf[i]!, tok: this.cycleTok(k) + this.cutTok.buf[i]! };
      if (this.complete) return { char: (k + 1) * L, tok: this.cycleTok(k + 1) };
      this.tokenizeNext();
    }
  }

  /** The last cut whose token index is ≤ virtual token t. */
  cutAtOrBeforeToken(t: number): Cut {
    this.ensureTokens(t + 1);
    let k = 0;
    let tl = t;
    if (this.complete && t >= this.ids.length) {
      k = Math.floor(t / this.ids.length);
      tl = t - k * this.ids.length;
    }
    const i = lastAtOrBelow(this.cutTok.buf, this.cutTok.length, tl);
    return { char: k * this.chars + this.cutChar.buf[i]!, tok: this.cycleTok(k) + this.cutTok.buf[i]! };
  }

  /** Haystack text between virtual chars [X, Y). */
  slice(X: number, Y: number): string {
    const L = this.chars;
    let out = '';
    while (X < Y) {
      const { k, x } = this.split(X);
      const end = Math.min(Y, (k + 1) * L);
      out += this.corpus.text.slice(x, end - k * L);
      X = end;
    }
    return out;
  }

  /** Appends haystack text [X, Y) to parts (keeps big contexts as a few slices). */
  sliceInto(X: number, Y: number, parts: string[]): void {
    const L = this.chars;
    while (X < Y) {
      const { k, x } = this.split(X);
      const end = Math.min(Y, (k + 1) * L);
      parts.push(this.corpus.text.slice(x, end - k * L));
      X = end;
    }
  }

  /** Copies virtual tokens [t0, t1) into out at offset; returns the new offset. */
  copyTokens(t0: number, t1: number, out: Uint32Array, offset: number): number {
    if (t1 > t0) this.ensureTokens(t1 - 1);
    while (t0 < t1) {
      // Beyond the first cycle the corpus is complete (ensureTokens saw to it).
      const T = this.complete ? this.ids.length : Infinity;
      const local = t0 >= this.ids.length ? t0 % T : t0;
      const n = Math.min(t1 - t0, T - local);
      out.set(this.ids.buf.subarray(local, local + n), offset);
      offset += n;
      t0 += n;
    }
    return offset;
  }

  /** Virtual char of the start of document `doc` in cycle 0. */
  docStart(doc: number): number {
    return this.corpus.docStarts[doc]!;
  }
}

const indexCache = new WeakMap<Corpus, Map<string, CorpusIndex>>();

/** The corpus' token index for a tokenizer, built once per (corpus, tokenizer) and extended lazily. */
export function getCorpusIndex(corpus: Corpus, tokenizer: Tokenizer): CorpusIndex {
  let byTok = indexCache.get(corpus);
  if (!byTok) indexCache.set(corpus, (byTok = new Map()));
  let idx = byTok.get(tokenizer.name);
  if (!idx) byTok.set(tokenizer.name, (idx = new CorpusIndex(corpus, tokenizer)));
  return idx;
}

/** Tokens in one full cycle of the corpus under `tokenizer`. */
export function corpusTokenCount(corpus: Corpus, tokenizer: Tokenizer): number {
  return getCorpusIndex(corpus, tokenizer).cycleTokens;
}

/** corpusTokenCount without holding the event loop for more than one document at a time (request paths). */
export async function corpusTokenCountYielding(corpus: Corpus, tokenizer: Tokenizer): Promise<number> {
  const index = getCorpusIndex(corpus, tokenizer);
  await index.ensureCompleteYielding();
  return index.cycleTokens;
}
