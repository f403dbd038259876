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

const SENTENCE_END = /[.!?。！？…][”’"'」』）)\]]*(?=\s|$|\p{Script=Han})/gu;

/**
 * Sentence ends of a corpus, found only as far as asked: a grid that uses half the corpus scans
 * half of it. The regex runs over the whole text from where it stopped, so its look-ahead sees
 * the real next character and the ends are the same as one scan of everything.
 */
export class SentenceEndIndex {
  private ends = new Int32Array(1 << 12);
  private count = 0;
  private readonly re = new RegExp(SENTENCE_END.source, SENTENCE_END.flags);
  /** Every end below this position is known. */
  private scanned = 0;
  private done = false;

  constructor(private readonly text: string) {}

  /** Scans until an end beyond x is known, or the text is exhausted. */
  private ensure(x: number): void {
    const re = this.re;
    while (!this.done && this.scanned <= x) {
      const m = re.exec(this.text);
      if (m === null) {
        this.done = true;
        this.scanned = this.text.length + 1;
        return;
      }
      const end = m.index + m[0].length;
      if (this.count === this.ends.length) {
        const next = new Int32Array(this.ends.length * 2);
        next.set(this.ends);
        this.ends = next;
      }
      this.ends[this.count++] = end;
      this.scanned = end;
    }
  }

  /** The last end at or below x (a position in one cycle of the text), or -1. */
  atOrBelow(x: number): number {
    this.ensure(x);
    const i = lastAtOrBelow(this.ends, this.count, x);
    return i >= 0 ? this.ends[i]! : -1;
  }

  /** The last end of the whole text, or -1. */
  last(): number {
    this.ensure(Infinity);
    return this.count > 0 ? this.ends[this.count - 1]! : -1;
  }

  all(): Int32Array {
    this.ensure(Infinity);
    return this.ends.slice(0, this.count);
  }
}

const sentenceCache = new WeakMap<Corpus, SentenceEndIndex>();

/** The corpus' sentence-end index, created once and extended lazily. */
export function sentenceEndIndex(corpus: Corpus): SentenceEndIndex {
  let cached = sentenceCache.get(corpus);
  if (!cached) sentenceCache.set(corpus, (cached = new SentenceEndIndex(corpus.text)));
  return cached;
}

/**
 * Positions right after a sentence end (., !, ?, 。, ！, ？, … plus closing quotes/brackets) that
 * are followed by whitespace, a Han character or the end of a document: where a needle may go.
 */
export function sentenceEnds(corpus: Corpus): Int32Array {
  return sentenceEndIndex(corpus).all();
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

export interface Cut {
  /** Virtual character position (cycle k covers [k·chars, (k+1)·chars)). */
  char: number;
  /** Virtual token index of the first token after the cut. */
  tok: number;
}

/** One document's encoding, in its own coordinates (the document's start is char 0, token 0). */
interface DocTokens {
  ids: Uint32Array;
  cutChars: Int32Array;
  cutTokens: Int32Array;
}

/**
 * A corpus tokenised once for one tokenizer, document by document and only as far as asked,
 * addressed in "virtual" coordinates over the infinitely repeated haystack.
 *
 * Each document's encoding is kept as the tokenizer returns it: appending it to corpus-wide
 * arrays would copy every id and cut again (and again on each growth), which costs as much
 * garbage as the tokenisation itself. Lookups find the document first (its start char or first
 * token), then the cut inside it; a document start is itself a cut.
 */
export class CorpusIndex {
  readonly corpus: Corpus;
  readonly tokenizer: Tokenizer;
  private readonly docs: DocTokens[] = [];
  /** First token of each document tokenised so far, then the running total. */
  private readonly docTok: Int32Array;
  private nextDoc = 0;
  private charsDone = 0;

  constructor(corpus: Corpus, tokenizer: Tokenizer) {
    this.corpus = corpus;
    this.tokenizer = tokenizer;
    this.docTok = new Int32Array(corpus.documents.length + 1);
  }

  get chars(): number {
    return this.corpus.text.length;
  }

  get complete(): boolean {
    return this.nextDoc >= this.corpus.documents.length;
  }

  get tokensDone(): number {
    return this.docTok[this.nextDoc]!;
  }

  /** Tokens in one cycle of the haystack (tokenises the whole corpus). */
  get cycleTokens(): number {
    this.ensureComplete();
    return this.tokensDone;
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
    const start = this.corpus.docStarts[i]!;
    const end = i + 1 < this.corpus.documents.length ? this.corpus.docStarts[i + 1]! : this.corpus.text.length;
    // Documents are tokenised apart, so each start must be a cut; the first one too, since the
    // haystack wraps around from the last document's separator to it.
    const first = this.corpus.text.codePointAt(start)!;
    if (!this.tokenizer.isCutPair(DOC_SEPARATOR.charCodeAt(DOC_SEPARATOR.length - 1), first)) {
      throw new Error(`tokenizer ${this.tokenizer.name} does not split at document starts; cannot tokenise "${this.corpus.name}" per document`);
    }
    const enc = this.tokenizer.encodeIndexed(this.corpus.text.slice(start, end));
    this.docs.push(enc);
    this.docTok[i + 1] = this.docTok[i]! + enc.ids.length;
    this.charsDone = end;
    this.nextDoc++;
  }

  /** Tokenises until virtual token `t` exists (local tokens) or the corpus is complete. */
  ensureTokens(t: number): void {
    while (!this.complete && this.tokensDone <= t) this.tokenizeNext();
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

  /** The last cut at or below local char x (tokenised that far). */
  private cutAtOrBelowChar(x: number): { char: number; tok: number } {
    const d = lastAtOrBelow(this.corpus.docStarts, this.nextDoc, x);
    const doc = this.docs[d]!;
    const base = this.corpus.docStarts[d]!;
    const i = lastAtOrBelow(doc.cutChars, doc.cutChars.length, x - base);
    return i < 0 ? { char: base, tok: this.docTok[d]! } : { char: base + doc.cutChars[i]!, tok: this.docTok[d]! + doc.cutTokens[i]! };
  }

  /** The last cut strictly before virtual char X (X > 0). */
  lastCutBelow(X: number): Cut {
    let { k, x } = this.split(X);
    if (x === 0) {
      k -= 1;
      x = this.chars;
      this.ensureComplete();
    } else this.ensureLocalChars(x);
    const c = this.cutAtOrBelowChar(x - 1);
    return { char: k * this.chars + c.char, tok: this.cycleTok(k) + c.tok };
  }

  /** The first cut strictly after virtual char X. */
  firstCutAbove(X: number): Cut {
    const { k, x } = this.split(X);
    const L = this.chars;
    this.ensureLocalChars(x + 1);
    for (;;) {
      const d = lastAtOrBelow(this.corpus.docStarts, this.nextDoc, x);
      const doc = this.docs[d]!;
      const base = this.corpus.docStarts[d]!;
      const i = lastAtOrBelow(doc.cutChars, doc.cutChars.length, x - base) + 1;
      if (i < doc.cutChars.length) return { char: k * L + base + doc.cutChars[i]!, tok: this.cycleTok(k) + this.docTok[d]! + doc.cutTokens[i]! };
      // Past the document's last inner cut: the next document's start.
      if (d + 1 < this.nextDoc) return { char: k * L + this.corpus.docStarts[d + 1]!, tok: this.cycleTok(k) + this.docTok[d + 1]! };
      if (this.complete) return { char: (k + 1) * L, tok: this.cycleTok(k + 1) };
      this.tokenizeNext();
    }
  }

  /** The last cut whose token index is ≤ virtual token t. */
  cutAtOrBeforeToken(t: number): Cut {
    this.ensureTokens(t + 1);
    let k = 0;
    let tl = t;
    const T = this.tokensDone;
    if (this.complete && t >= T) {
      k = Math.floor(t / T);
      tl = t - k * T;
    }
    const d = lastAtOrBelow(this.docTok, this.nextDoc, tl);
    const doc = this.docs[d]!;
    const i = lastAtOrBelow(doc.cutTokens, doc.cutTokens.length, tl - this.docTok[d]!);
    const c = i < 0 ? { char: this.corpus.docStarts[d]!, tok: this.docTok[d]! } : { char: this.corpus.docStarts[d]! + doc.cutChars[i]!, tok: this.docTok[d]! + doc.cutTokens[i]! };
    return { char: k * this.chars + c.char, tok: this.cycleTok(k) + c.tok };
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
      const T = this.tokensDone;
      const k = t0 >= T ? Math.floor(t0 / T) : 0;
      const local = t0 - k * T;
      const d = lastAtOrBelow(this.docTok, this.nextDoc, local);
      const from = local - this.docTok[d]!;
      const ids = this.docs[d]!.ids;
      const n = Math.min(t1 - t0, ids.length - from);
      out.set(ids.subarray(from, from + n), offset);
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
