import { MISSING, PieceTable, hashChars } from './piece-table';
import { C_DIGIT, C_LETTER, C_NEWLINE, C_SPACE, LLAMA3_PATTERN, Llama3Scanner, codePointClass } from './pretokenize';
import type { EncodeOptions, IndexedEncoding, SpecialToken } from './types';

/** GPT-2's reversible byte <-> printable-character table, used by byte-level BPE vocabularies. */
export function byteLevelTables(): { byteToChar: string[]; charToByte: Map<string, number> } {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const byteToChar: string[] = new Array(256);
  const charToByte = new Map<string, number>();
  bs.forEach((b, i) => {
    const ch = String.fromCharCode(cs[i]!);
    byteToChar[b] = ch;
    charToByte.set(ch, b);
  });
  return { byteToChar, charToByte };
}

/** Growable Uint32 buffer: encoding a corpus of millions of tokens without number[] overhead. */
export class U32Builder {
  buf: Uint32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.buf = new Uint32Array(capacity);
  }
  push(v: number): void {
    if (this.length === this.buf.length) this.grow(this.length + 1);
    this.buf[this.length++] = v;
  }
  /** Makes room for `n` more values. */
  reserve(n: number): void {
    if (this.length + n > this.buf.length) this.grow(this.length + n);
  }
  pushAll(vs: ArrayLike<number>): void {
    const n = vs.length;
    if (this.length + n > this.buf.length) this.grow(this.length + n);
    for (let i = 0; i < n; i++) this.buf[this.length + i] = vs[i]!;
    this.length += n;
  }
  private grow(min: number): void {
    let cap = this.buf.length * 2;
    while (cap < min) cap *= 2;
    const next = new Uint32Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  toArray(): Uint32Array {
    return this.buf.slice(0, this.length);
  }
  /** The values as number[]: a counted loop into a presized array (Array.from walks an iterator, several times slower). */
  toNumbers(): number[] {
    const n = this.length;
    const buf = this.buf;
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = buf[i]!;
    return out;
  }
}

class I32Builder {
  buf: Int32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.buf = new Int32Array(capacity);
  }
  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Int32Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }
  toArray(): Int32Array {
    return this.buf.slice(0, this.length);
  }
}

/**
 * Cut rules for the Llama-3 / cl100k pre-tokenizer regex
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * The regex has no look-behind, so pieces after a piece boundary depend only on the text after
 * it. A boundary between code points (p, n) is also a piece boundary in every string, with the
 * pieces before it unaffected by what follows (end of text included), when:
 *   1. p is a letter and n is not (only letter runs contain letters, and they end at n);
 *   2. p is a number and n is not (\p{N}{1,3} is the only alternative holding numbers);
 *   3. p is not whitespace and n is whitespace other than \r \n (only `[\r\n]*` could take n);
 *   4. p is \r or \n and n is not whitespace (newline runs stop at n).
 * BPE works inside pieces, so token ids split there too.
 */
export function llama3IsCutPair(prev: number, next: number): boolean {
  const p = codePointClass(prev);
  const n = codePointClass(next);
  if (p === C_LETTER) return n !== C_LETTER;
  if (p === C_DIGIT) return n !== C_DIGIT;
  if (p === C_SPACE) return false;
  if (p === C_NEWLINE) return n !== C_SPACE && n !== C_NEWLINE;
  return n === C_SPACE;
}

/**
 * Cut rules for Qwen2's pre-tokenizer regex, which is Llama-3's with `\p{N}` for `\p{N}{1,3}`.
 * A number is then always a piece of its own (no other alternative holds \p{N}), so the
 * boundary after it is a cut whatever follows, digits included; every other rule of
 * llama3IsCutPair carries over because the remaining alternatives are the same.
 */
export function qwen2IsCutPair(prev: number, next: number): boolean {
  if (codePointClass(prev) === C_DIGIT) return true;
  return llama3IsCutPair(prev, next);
}

const NO_MERGE = 0x7fffffff;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const PAIR_MEMO_BITS = 12;
/** Pieces longer than this (in bytes) go through the heap merge: rare whitespace runs and long Han runs. */
const SMALL_PIECE = 64;
/** Bounds of the piece cache: entries, code units of their keys, and token ids held for pieces of several tokens. */
const CACHE_ENTRIES = 1 << 19;
const CACHE_KEY_UNITS = 1 << 23;
const POOL_LIMIT = 1 << 22;
/** Pieces of more tokens than this (huge whitespace runs) are not cached. */
const POOL_PIECE_LIMIT = 1 << 12;
/** The merge filter: 2^17 words (512 KiB), two bits per merge. */
const FILTER_SHIFT = 15;

export interface ByteLevelBpeConfig {
  /** token id -> its raw bytes, for ordinary tokens */
  tokenBytes: Uint8Array[];
  /** Ordered merges as pairs of token ids, with the id they produce. */
  merges: { left: number; right: number; result: number }[];
  specials: SpecialToken[];
  /** The pre-tokenizer; Llama-3's (cl100k's) is run by a hand-written scanner instead of the regex. */
  pattern: RegExp;
  /** HF `ignore_merges`: a piece that is itself in the vocabulary is one token. */
  ignoreMerges: boolean;
}

/** The tables of a vocabulary: built once (charIds by the first encoder over them), then only read, by every encoder forked from it. */
interface BpeTables {
  tokenBytesById: Uint8Array[];
  byteToId: Int32Array;
  mergeTable: Int32Array;
  mergeMask: number;
  mergeShift: number;
  bytePairRank: Int32Array;
  bytePairResult: Int32Array;
  mergeFilter: Int32Array;
  trigrams: Int32Array;
  charIds: Int32Array;
  charPool: Uint32Array;
  /** Ordinary tokens (ids up to the highest) plus special tokens. */
  vocabSize: number;
  /** Whether charIds and charPool are filled (by the first encoder over these tables). */
  charIdsReady: boolean;
  /** The vocabulary by text (with ignore_merges; else empty): each encoder's piece cache starts as a copy. */
  vocab: PieceTable;
  patternSource: string;
  ignoreMerges: boolean;
  specialsByText: Map<string, SpecialToken>;
  specialsById: Map<number, SpecialToken>;
}

/**
 * Byte-level BPE with Hugging Face `tokenizers` semantics: split into pieces by the pre-tokenizer,
 * then per piece apply the lowest-ranked merge first (leftmost on ties) until none applies.
 *
 * The hot path allocates nothing per piece: UTF-8 bytes are written straight from the UTF-16
 * text into a scratch buffer, merges run on scratch typed arrays, and the piece cache maps a
 * piece to a small integer (its token id, or where its ids sit in a shared Uint32Array pool).
 */
export class ByteLevelBpe {
  private readonly tables: BpeTables;
  private readonly tokenBytesById: Uint8Array[];
  private readonly byteToId: Int32Array;
  /**
   * Open-addressing table of merges, one 16-byte record per slot, [left, right, rank, result]
   * (left -1 when empty): a probe touches one cache line, not four parallel arrays.
   */
  private readonly mergeTable: Int32Array;
  private readonly mergeMask: number;
  private readonly mergeShift: number;
  /** Rank and result of the merge of every pair of single-byte tokens, by (byte1 << 8 | byte2); rank NO_MERGE if none. */
  private readonly bytePairRank: Int32Array;
  private readonly bytePairResult: Int32Array;
  /**
   * Bloom filter over the merges' (left, right) pairs. Almost every pair a piece forms has no
   * merge (a Han character's bytes next to its neighbour's), and the filter answers those from
   * 512 KiB instead of a probe of the multi-megabyte merge table.
   */
  private readonly mergeFilter: Int32Array;
  /** Bit set of every byte trigram inside some token, by (b0 << 16 | b1 << 8 | b2): where tokens can span (see isCut). */
  private readonly trigrams: Int32Array;
  /**
   * Ids of every BMP character from U+0080 encoded on its own: the token id (>= 0), or
   * -(1 + offset) of [count, ...ids] in `charPool`.
   */
  private readonly charIds: Int32Array;
  private charPool: Uint32Array;
  private readonly scanner: Llama3Scanner | undefined;
  private readonly pattern: RegExp;
  private readonly ignoreMerges: boolean;
  private readonly specialsByText: Map<string, SpecialToken>;
  private readonly specialsById: Map<number, SpecialToken>;
  private readonly encoder = new TextEncoder();
  /**
   * piece -> token id (>= 0), or -(1 + offset) of [count, ...ids] in `pool`. With ignore_merges
   * it starts out holding the vocabulary (keys before `vocabMark`): a piece that is a token is one
   * lookup, as in tiktoken's encoder map. Pieces are added as they are first met in a text.
   */
  private readonly cache: PieceTable;
  private readonly vocabMark: number;
  private readonly vocabEntries: number;
  private pool = new Uint32Array(1 << 16);
  private poolLength = 0;
  // Scratch for one piece: its bytes, then its ids, the rank and result of each adjacent pair.
  private bytes = new Uint8Array(256);
  private ids = new Int32Array(256);
  private ranks = new Int32Array(256);
  private results = new Int32Array(256);
  private loneSurrogate = false;
  /**
   * Whether the piece just encoded is worth a cache entry: not when every character of it came
   * from `charIds` (most Han text), as redoing that costs about what a cache insert does.
   */
  private worthCaching = true;
  /** [left, right, rank, result] per entry; left -1 when empty. */
  private readonly pairMemo = new Int32Array(4 << PAIR_MEMO_BITS).fill(-1);

  /** Reads a vocabulary; given an encoder instead, shares its tables (see fork). */
  constructor(cfg: ByteLevelBpeConfig | ByteLevelBpe) {
    const t = cfg instanceof ByteLevelBpe ? cfg.tables : buildTables(cfg);
    this.tables = t;
    this.tokenBytesById = t.tokenBytesById;
    this.byteToId = t.byteToId;
    this.mergeTable = t.mergeTable;
    this.mergeMask = t.mergeMask;
    this.mergeShift = t.mergeShift;
    this.bytePairRank = t.bytePairRank;
    this.bytePairResult = t.bytePairResult;
    this.mergeFilter = t.mergeFilter;
    this.trigrams = t.trigrams;
    this.charIds = t.charIds;
    this.charPool = t.charPool;
    this.scanner = t.patternSource === LLAMA3_PATTERN ? new Llama3Scanner() : undefined;
    this.pattern = new RegExp(t.patternSource, 'gu');
    this.ignoreMerges = t.ignoreMerges;
    this.specialsByText = t.specialsByText;
    this.specialsById = t.specialsById;
    this.cache = t.vocab.clone();
    this.vocabMark = t.vocab.keyUnits;
    this.vocabEntries = t.vocab.size;
    if (!t.charIdsReady) this.fillCharIds();
  }

  /**
   * A new encoder over the same vocabulary: the tables are shared (they are never written after
   * they are built), the piece cache and every other piece of state start empty.
   */
  fork(): ByteLevelBpe {
    return new ByteLevelBpe(this);
  }

  /** Fills `charIds` and `charPool` of newly built tables, with this encoder's own merge loop. */
  private fillCharIds(): void {
    const charPool = new U32Builder(1 << 12);
    for (let cp = 0x80; cp < 0x10000; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const bytes = this.bytes;
      let n: number;
      if (cp < 0x800) {
        bytes[0] = 0xc0 | (cp >> 6);
        bytes[1] = 0x80 | (cp & 0x3f);
        n = this.mergeSmall(0, 2, 0);
      } else {
        bytes[0] = 0xe0 | (cp >> 12);
        bytes[1] = 0x80 | ((cp >> 6) & 0x3f);
        bytes[2] = 0x80 | (cp & 0x3f);
        n = this.mergeSmall(0, 3, 0);
      }
      if (n === 1) this.charIds[cp] = this.ids[0]!;
      else {
        this.charIds[cp] = -1 - charPool.length;
        charPool.push(n);
        for (let i = 0; i < n; i++) charPool.push(this.ids[i]!);
      }
    }
    this.charPool = this.tables.charPool = charPool.toArray();
    this.tables.charIdsReady = true;
    this.pairMemo.fill(-1); // nothing remembered from building the table
  }

  /** Index in mergeTable of the record of the merge (a, b), or -1. */
  private findMerge(a: number, b: number): number {
    const h = pairHash(a, b);
    const g = filterHash(h);
    const bits = (1 << (g & 31)) | (1 << ((g >>> 5) & 31));
    if ((this.mergeFilter[g >>> FILTER_SHIFT]! & bits) !== bits) return -1;
    const table = this.mergeTable;
    let slot = h >>> this.mergeShift;
    for (;;) {
      const at = slot << 2;
      const l = table[at]!;
      if (l === a && table[at + 1] === b) return at;
      if (l === -1) return -1;
      slot = (slot + 1) & this.mergeMask;
    }
  }

  /** Ordinary tokens (ids up to the highest) plus special tokens. */
  get vocabSize(): number {
    return this.tables.vocabSize;
  }

  isSpecial(id: number): boolean {
    return this.specialsById.has(id);
  }

  specialByText(text: string): SpecialToken | undefined {
    return this.specialsByText.get(text);
  }

  tokenBytes(id: number): Uint8Array {
    const b = this.tokenBytesById[id];
    if (b) return b;
    const s = this.specialsById.get(id);
    if (s) return this.encoder.encode(s.text);
    throw new RangeError(`token id ${id} is not in the vocabulary`);
  }

  /** Appends the ids of text[start, end), one pre-tokenizer piece, to `out`. */
  private encodePiece(text: string, start: number, end: number, out: U32Builder): void {
    const h = hashChars(text, start, end);
    let v = this.cache.get(text, start, end, h);
    if (v === MISSING) {
      const count = this.tokenisePiece(text, start, end);
      if (!this.worthCaching || count > POOL_PIECE_LIMIT) {
        out.reserve(count);
        const buf = out.buf;
        const ids = this.ids;
        let k = out.length;
        for (let i = 0; i < count; i++) buf[k++] = ids[i]!;
        out.length = k;
        return;
      }
      v = this.remember(text, start, end, h, count);
    }
    if (v >= 0) {
      out.push(v);
      return;
    }
    const at = -1 - v;
    const pool = this.pool;
    const n = pool[at]!;
    out.reserve(n);
    const buf = out.buf;
    let k = out.length;
    for (let i = 1; i <= n; i++) buf[k++] = pool[at + i]!;
    out.length = k;
  }

  /** Caches the piece text[start, end) (hash `h`) whose `count` ids are in `ids`; returns its cache value. */
  private remember(text: string, start: number, end: number, h: number, count: number): number {
    const cache = this.cache;
    // Make room first, so that the value stored below survives.
    if (cache.size - this.vocabEntries >= CACHE_ENTRIES || cache.keyUnits - this.vocabMark >= CACHE_KEY_UNITS || this.poolLength + count + 1 > POOL_LIMIT) {
      this.resetCache();
    }
    const ids = this.ids;
    let v = ids[0]!;
    if (count > 1) {
      if (this.poolLength + count + 1 > this.pool.length) {
        const next = new Uint32Array(Math.min(POOL_LIMIT, Math.max(this.pool.length * 2, this.poolLength + count + 1)));
        next.set(this.pool.subarray(0, this.poolLength));
        this.pool = next;
      }
      const at = this.poolLength;
      const pool = this.pool;
      pool[at] = count;
      for (let i = 0; i < count; i++) pool[at + 1 + i] = ids[i]!;
      this.poolLength = at + 1 + count;
      v = -1 - at;
    }
    cache.set(text, start, end, h, v);
    return v;
  }

  /** Forgets the pieces met so far; the vocabulary stays. */
  private resetCache(): void {
    this.cache.truncate(this.vocabMark);
    this.poolLength = 0;
  }

  /** BPE of a piece not in the cache: leaves its ids in `ids[0, count)` and returns the count. */
  private tokenisePiece(text: string, start: number, end: number): number {
    const nBytes = this.utf8(text, start, end);
    if (this.loneSurrogate && this.ignoreMerges) {
      // Lone surrogates are encoded as U+FFFD, as the reference sees them.
      const s = text.slice(start, end).replace(LONE_SURROGATE, '\uFFFD');
      const direct = this.cache.getBefore(this.vocabMark, s, 0, s.length, hashChars(s, 0, s.length));
      if (direct !== MISSING) {
        this.ids[0] = direct;
        this.worthCaching = true;
        return 1;
      }
    }
    // Pure ASCII (most of English) goes straight to the merge loop; other text is first cut where no token can span.
    this.worthCaching = nBytes === end - start;
    return this.worthCaching ? this.mergeRange(0, nBytes, 0) : this.mergeCuts(nBytes);
  }

  /** UTF-8 of text[start, end) into `bytes` (lone surrogates as U+FFFD); returns the byte count. */
  private utf8(text: string, start: number, end: number): number {
    if ((end - start) * 3 > this.bytes.length) this.growScratch((end - start) * 3);
    const bytes = this.bytes;
    let n = 0;
    this.loneSurrogate = false;
    for (let i = start; i < end; i++) {
      let c = text.charCodeAt(i);
      if (c < 0x80) bytes[n++] = c;
      else if (c < 0x800) {
        bytes[n++] = 0xc0 | (c >> 6);
        bytes[n++] = 0x80 | (c & 0x3f);
      } else if ((c & 0xf800) !== 0xd800) {
        bytes[n++] = 0xe0 | (c >> 12);
        bytes[n++] = 0x80 | ((c >> 6) & 0x3f);
        bytes[n++] = 0x80 | (c & 0x3f);
      } else {
        const d = i + 1 < end ? text.charCodeAt(i + 1) : 0;
        if (c < 0xdc00 && (d & 0xfc00) === 0xdc00) {
          c = 0x10000 + ((c & 0x3ff) << 10) + (d & 0x3ff);
          i++;
          bytes[n++] = 0xf0 | (c >> 18);
          bytes[n++] = 0x80 | ((c >> 12) & 0x3f);
          bytes[n++] = 0x80 | ((c >> 6) & 0x3f);
          bytes[n++] = 0x80 | (c & 0x3f);
        } else {
          this.loneSurrogate = true;
          bytes[n++] = 0xef;
          bytes[n++] = 0xbf;
          bytes[n++] = 0xbd;
        }
      }
    }
    return n;
  }

  private growScratch(min: number): void {
    let cap = this.bytes.length;
    while (cap < min) cap *= 2;
    this.bytes = new Uint8Array(cap);
    this.ids = new Int32Array(cap);
    this.ranks = new Int32Array(cap);
    this.results = new Int32Array(cap);
  }

  /** Rank and result of the merge of (a, b) into ranks[i] and results[i]. */
  private setPair(i: number, a: number, b: number): void {
    // A small direct-mapped memo in front of the merge table: text repeats pairs, and the memo
    // stays in the CPU's near caches where the full table does not.
    const memo = this.pairMemo;
    const m = ((Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77)) >>> (32 - PAIR_MEMO_BITS)) << 2;
    if (memo[m] === a && memo[m + 1] === b) {
      this.ranks[i] = memo[m + 2]!;
      this.results[i] = memo[m + 3]!;
      return;
    }
    const at = this.findMerge(a, b);
    const rank = at < 0 ? NO_MERGE : this.mergeTable[at + 2]!;
    const result = at < 0 ? 0 : this.mergeTable[at + 3]!;
    memo[m] = a;
    memo[m + 1] = b;
    memo[m + 2] = rank;
    memo[m + 3] = result;
    this.ranks[i] = rank;
    this.results[i] = result;
  }

  /**
   * True when no token can span the boundary before byte `b` of the piece's `n` bytes (0 < b < n).
   * Every token BPE forms is a vocabulary entry occupying bytes[i, j) of the piece; one spanning
   * b (i < b < j) is either the two bytes around b, which only a merge of those bytes makes, or
   * holds one of the two byte trigrams around b. When neither can occur, no merge ever crosses b
   * and the piece's ids are those of its two sides encoded on their own, in any merge order.
   */
  private isCut(b: number, n: number): boolean {
    const bytes = this.bytes;
    const z = bytes[b - 1]!;
    const x = bytes[b]!;
    if (this.bytePairRank[(z << 8) | x] !== NO_MERGE) return false;
    const tri = this.trigrams;
    if (b >= 2) {
      const k = (bytes[b - 2]! << 16) | (z << 8) | x;
      if (tri[k >>> 5]! & (1 << (k & 31))) return false;
    }
    if (b + 1 < n) {
      const k = (z << 16) | (x << 8) | bytes[b + 1]!;
      if (tri[k >>> 5]! & (1 << (k & 31))) return false;
    }
    return true;
  }

  /**
   * Merges a piece of `n` bytes that holds non-ASCII characters: cut at character boundaries no
   * token can span (see isCut), each part merged on its own. In Han text most characters stand
   * between two such cuts, and a lone character's ids come from a table built with the vocabulary.
   * Leaves the ids in `ids[0, count)` and returns the count.
   */
  private mergeCuts(n: number): number {
    const bytes = this.bytes;
    let o = 0;
    let s = 0;
    for (let b = 1; b <= n; b++) {
      if (b < n && ((bytes[b]! & 0xc0) === 0x80 || !this.isCut(b, n))) continue;
      const lead = bytes[s]!;
      const len = b - s;
      if ((len === 3 && (lead & 0xf0) === 0xe0) || (len === 2 && (lead & 0xe0) === 0xc0)) {
        const cp = len === 3 ? ((lead & 0x0f) << 12) | ((bytes[s + 1]! & 0x3f) << 6) | (bytes[s + 2]! & 0x3f) : ((lead & 0x1f) << 6) | (bytes[s + 1]! & 0x3f);
        const v = this.charIds[cp]!;
        if (v >= 0) this.ids[o++] = v;
        else {
          const at = -1 - v;
          const k = this.charPool[at]!;
          for (let i = 1; i <= k; i++) this.ids[o++] = this.charPool[at + i]!;
        }
      } else {
        o += this.mergeRange(s, b, o);
        if (b - s > 3) this.worthCaching = true;
      }
      s = b;
    }
    return o;
  }

  /** BPE of bytes[s, e) into ids[o, o + count); returns the count. Needs o <= s. */
  private mergeRange(s: number, e: number, o: number): number {
    return e - s <= SMALL_PIECE ? this.mergeSmall(s, e, o) : this.mergeLarge(s, e, o);
  }

  /**
   * Quadratic merge loop over bytes[s, e), working in ids/ranks/results from `o` and leaving
   * the ids in `ids[o, o + count)`; returns the count. Fastest for the short pieces that make
   * up almost all text.
   */
  private mergeSmall(s: number, e: number, o: number): number {
    const bytes = this.bytes;
    const ids = this.ids;
    const ranks = this.ranks;
    const results = this.results;
    const byteToId = this.byteToId;
    const pairRank = this.bytePairRank;
    const pairResult = this.bytePairResult;
    const n = e - s;
    for (let i = 0; i < n; i++) ids[o + i] = byteToId[bytes[s + i]!]!;
    for (let i = 0; i < n - 1; i++) {
      const k = (bytes[s + i]! << 8) | bytes[s + i + 1]!;
      ranks[o + i] = pairRank[k]!;
      results[o + i] = pairResult[k]!;
    }
    let last = o + n - 1; // index of the last id
    while (last > o) {
      let best = -1;
      let bestRank = NO_MERGE;
      for (let i = o; i < last; i++) {
        const r = ranks[i]!;
        if (r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      ids[best] = results[best]!;
      last--;
      for (let i = best + 1; i <= last; i++) {
        ids[i] = ids[i + 1]!;
        ranks[i] = ranks[i + 1]!;
        results[i] = results[i + 1]!;
      }
      if (best < last) this.setPair(best, ids[best]!, ids[best + 1]!);
      if (best > o) this.setPair(best - 1, ids[best - 1]!, ids[best]!);
    }
    return last - o + 1;
  }

  /** Heap + linked list over bytes[s, e) into ids[o, ...): O(n log n) for long runs (whitespace, long Han runs). */
  private mergeLarge(s: number, e: number, o: number): number {
    const n = e - s;
    const ids = this.ids.subarray(o, o + n);
    for (let i = 0; i < n; i++) ids[i] = this.byteToId[this.bytes[s + i]!]!;
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    const alive = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    // Heap of (rank, position, leftId, rightId); stale entries are skipped on pop.
    const cap = 4 * n;
    const hRank = new Int32Array(cap);
    const hPos = new Int32Array(cap);
    const hL = new Int32Array(cap);
    const hR = new Int32Array(cap);
    let size = 0;
    const less = (i: number, j: number) => hRank[i]! < hRank[j]! || (hRank[i] === hRank[j] && hPos[i]! < hPos[j]!);
    const swap = (i: number, j: number) => {
      let t = hRank[i]!;
      hRank[i] = hRank[j]!;
      hRank[j] = t;
      t = hPos[i]!;
      hPos[i] = hPos[j]!;
      hPos[j] = t;
      t = hL[i]!;
      hL[i] = hL[j]!;
      hL[j] = t;
      t = hR[i]!;
      hR[i] = hR[j]!;
      hR[j] = t;
    };
    const push = (pos: number) => {
      const nx = next[pos]!;
      if (nx < 0) return;
      const slot = this.findMerge(ids[pos]!, ids[nx]!);
      if (slot < 0) return;
      hRank[size] = this.mergeTable[slot + 2]!;
      hPos[size] = pos;
      hL[size] = ids[pos]!;
      hR[size] = ids[nx]!;
      let i = size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!less(i, p)) break;
        swap(i, p);
        i = p;
      }
    };
    const popTop = () => {
      swap(0, --size);
      let i = 0;
      for (;;) {
        const a = 2 * i + 1;
        const b = a + 1;
        let m = i;
        if (a < size && less(a, m)) m = a;
        if (b < size && less(b, m)) m = b;
        if (m === i) break;
        swap(i, m);
        i = m;
      }
    };
    // At most n - 1 initial entries plus two per merge (n - 1 merges): 3n fits in cap.
    for (let i = 0; i < n - 1; i++) push(i);
    while (size > 0) {
      popTop();
      const pos = hPos[size]!;
      const l = hL[size]!;
      const r = hR[size]!;
      if (!alive[pos]) continue;
      const nx = next[pos]!;
      if (nx < 0 || ids[pos] !== l || ids[nx] !== r) continue;
      ids[pos] = this.mergeTable[this.findMerge(l, r) + 3]!;
      alive[nx] = 0;
      const nn = next[nx]!;
      next[pos] = nn;
      if (nn >= 0) prev[nn] = pos;
      push(pos);
      if (prev[pos]! >= 0) push(prev[pos]!);
    }
    let count = 0;
    for (let i = 0; i >= 0; i = next[i]!) ids[count++] = ids[i]!;
    return count;
  }

  /** Encodes text containing no special tokens; records cut positions when asked. */
  private encodeOrdinary(text: string, out: U32Builder, cutChars?: I32Builder, cutTokens?: I32Builder): void {
    const end = text.length;
    const scanner = this.scanner;
    if (scanner) {
      let prevLast = -1;
      for (let i = 0; i < end; ) {
        const j = scanner.pieceEnd(text, i, end);
        if (cutChars) {
          if (prevLast >= 0 && llama3IsCutPair(prevLast, text.codePointAt(i)!)) {
            cutChars.push(i);
            cutTokens!.push(out.length);
          }
          prevLast = lastCodePointBefore(text, j);
        }
        this.encodePiece(text, i, j, out);
        i = j;
      }
      return;
    }
    const re = this.pattern;
    re.lastIndex = 0;
    let prevLast = -1;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      const j = m.index + m[0].length;
      if (cutChars) {
        if (prevLast >= 0 && llama3IsCutPair(prevLast, text.codePointAt(m.index)!)) {
          cutChars.push(m.index);
          cutTokens!.push(out.length);
        }
        prevLast = lastCodePointBefore(text, j);
      }
      this.encodePiece(text, m.index, j, out);
    }
  }

  private splitSpecials(text: string, allowed: 'all' | ReadonlySet<string> | undefined): (string | SpecialToken)[] {
    if (!allowed || (allowed !== 'all' && allowed.size === 0)) return [text];
    const names = allowed === 'all' ? [...this.specialsByText.keys()] : [...allowed].filter((s) => this.specialsByText.has(s));
    if (names.length === 0) return [text];
    const re = new RegExp(names.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
    const parts: (string | SpecialToken)[] = [];
    let last = 0;
    for (const m of text.matchAll(re)) {
      if (m.index > last) parts.push(text.slice(last, m.index));
      parts.push(this.specialsByText.get(m[0])!);
      last = m.index + m[0].length;
    }
    if (last < text.length) parts.push(text.slice(last));
    return parts;
  }

  encodeTo(text: string, out: U32Builder, opts: EncodeOptions = {}): void {
    for (const part of this.splitSpecials(text, opts.allowedSpecial)) {
      if (typeof part === 'string') this.encodeOrdinary(part, out);
      else out.push(part.id);
    }
  }

  encodeIndexed(text: string): IndexedEncoding {
    const out = new U32Builder(Math.max(16, text.length >> 2));
    const cutChars = new I32Builder(Math.max(16, text.length >> 3));
    const cutTokens = new I32Builder(Math.max(16, text.length >> 3));
    this.encodeOrdinary(text, out, cutChars, cutTokens);
    return { ids: out.toArray(), cutChars: cutChars.toArray(), cutTokens: cutTokens.toArray() };
  }
}

/** The vocabulary tables of `cfg`, all but `charIds`/`charPool`, which the first encoder over them fills. */
function buildTables(cfg: ByteLevelBpeConfig): BpeTables {
  const byteToId = new Int32Array(256);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  // Room for the vocabulary at a quarter load, so the pieces of a long text rarely force a rehash.
  const vocab = new PieceTable(cfg.ignoreMerges ? cfg.tokenBytes.length * 4 : 1 << 12);
  const trigrams = new Int32Array(1 << 19);
  cfg.tokenBytes.forEach((bytes, id) => {
    if (!bytes) return;
    if (bytes.length === 1) byteToId[bytes[0]!] = id;
    for (let i = 0; i + 2 < bytes.length; i++) {
      const k = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
      trigrams[k >>> 5]! |= 1 << (k & 31);
    }
    if (!cfg.ignoreMerges || bytes.length === 0) return;
    let s: string;
    try {
      s = decoder.decode(bytes);
    } catch {
      return; // partial UTF-8 sequence: reachable only through merges
    }
    // Only strings whose UTF-8 round-trips may be looked up by text; the lowest id wins.
    const h = hashChars(s, 0, s.length);
    if (vocab.get(s, 0, s.length, h) === MISSING) vocab.set(s, 0, s.length, h, id);
  });
  let bits = 1;
  while (1 << bits < cfg.merges.length * 1.6) bits++;
  const size = 1 << bits;
  const mergeMask = size - 1;
  const mergeShift = 32 - bits;
  const table = new Int32Array(size * 4);
  const filter = new Int32Array(1 << (32 - FILTER_SHIFT));
  for (let slot = 0; slot < size; slot++) table[slot * 4] = -1;
  cfg.merges.forEach((m, rank) => {
    const h = pairHash(m.left, m.right);
    let slot = h >>> mergeShift;
    while (table[slot * 4] !== -1) {
      if (table[slot * 4] === m.left && table[slot * 4 + 1] === m.right) return; // keep the first (lowest) rank
      slot = (slot + 1) & mergeMask;
    }
    table.set([m.left, m.right, rank, m.result], slot * 4);
    const g = filterHash(h);
    filter[g >>> FILTER_SHIFT]! |= (1 << (g & 31)) | (1 << ((g >>> 5) & 31));
  });
  const bytePairRank = new Int32Array(65536).fill(NO_MERGE);
  const bytePairResult = new Int32Array(65536);
  for (let a = 0; a < 256; a++) {
    for (let b = 0; b < 256; b++) {
      let slot = pairHash(byteToId[a]!, byteToId[b]!) >>> mergeShift;
      for (;;) {
        const at = slot << 2;
        if (table[at] === -1) break;
        if (table[at] === byteToId[a] && table[at + 1] === byteToId[b]) {
          bytePairRank[(a << 8) | b] = table[at + 2]!;
          bytePairResult[(a << 8) | b] = table[at + 3]!;
          break;
        }
        slot = (slot + 1) & mergeMask;
      }
    }
  }
  return {
    tokenBytesById: cfg.tokenBytes,
    byteToId,
    mergeTable: table,
    mergeMask,
    mergeShift,
    bytePairRank,
    bytePairResult,
    mergeFilter: filter,
    trigrams,
    charIds: new Int32Array(0x10000),
    charPool: new Uint32Array(0),
    vocabSize: cfg.tokenBytes.length + cfg.specials.length,
    charIdsReady: false,
    vocab,
    patternSource: cfg.pattern.source,
    ignoreMerges: cfg.ignoreMerges,
    specialsByText: new Map(cfg.specials.map((s) => [s.text, s])),
    specialsById: new Map(cfg.specials.map((s) => [s.id, s])),
  };
}

function pairHash(a: number, b: number): number {
  return Math.imul(a ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(b + 0x27d4eb2f, 0x85ebca77);
}

/** A second mix of pairHash for the merge filter, so its bits are independent of the table slot. */
function filterHash(h: number): number {
  return Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
}

/** The code point that ends at `end` (exclusive) in `s`. */
function lastCodePointBefore(s: string, end: number): number {
  const last = s.charCodeAt(end - 1);
  if ((last & 0xfc00) === 0xdc00 && end >= 2) {
    const hi = s.charCodeAt(end - 2);
    if ((hi & 0xfc00) === 0xd800) return 0x10000 + ((hi & 0x3ff) << 10) + (last & 0x3ff);
  }
  return last;
}
