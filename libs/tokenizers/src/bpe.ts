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
/** Bounds of the piece cache: entries, and token ids held for pieces of several tokens. */
const CACHE_ENTRIES = 1 << 19;
const POOL_LIMIT = 1 << 22;

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

/**
 * Byte-level BPE with Hugging Face `tokenizers` semantics: split into pieces by the pre-tokenizer,
 * then per piece apply the lowest-ranked merge first (leftmost on ties) until none applies.
 *
 * The hot path allocates nothing per piece: UTF-8 bytes are written straight from the UTF-16
 * text into a scratch buffer, merges run on scratch typed arrays, and the piece cache maps a
 * piece to a small integer (its token id, or where its ids sit in a shared Uint32Array pool).
 */
export class ByteLevelBpe {
  private readonly tokenBytesById: Uint8Array[];
  private readonly textToId = new Map<string, number>();
  private readonly byteToId = new Int32Array(256);
  /**
   * Open-addressing table of merges, one 16-byte record per slot, [left, right, rank, result]
   * (left -1 when empty): a probe touches one cache line, not four parallel arrays.
   */
  private readonly mergeTable: Int32Array;
  /** Rank and result of the merge of every pair of single-byte tokens, by (byte1 << 8 | byte2); rank NO_MERGE if none. */
  private readonly bytePairRank = new Int32Array(65536).fill(NO_MERGE);
  private readonly bytePairResult = new Int32Array(65536);
  private readonly mergeMask: number;
  private readonly mergeShift: number;
  private readonly scanner: Llama3Scanner | undefined;
  private readonly pattern: RegExp;
  private readonly ignoreMerges: boolean;
  private readonly specialsByText = new Map<string, SpecialToken>();
  private readonly specialsById = new Map<number, SpecialToken>();
  private readonly encoder = new TextEncoder();
  /** piece -> token id (>= 0), or -(1 + offset) of [count, ...ids] in `pool`. */
  private cache = new Map<string, number>();
  private pool = new Uint32Array(1 << 16);
  private poolLength = 0;
  // Scratch for one piece: its bytes, then its ids, the rank and result of each adjacent pair.
  private bytes = new Uint8Array(256);
  private ids = new Int32Array(256);
  private ranks = new Int32Array(256);
  private results = new Int32Array(256);
  private loneSurrogate = false;
  /** [left, right, rank, result] per entry; left -1 when empty. */
  private readonly pairMemo = new Int32Array(4 << PAIR_MEMO_BITS).fill(-1);

  constructor(cfg: ByteLevelBpeConfig) {
    this.tokenBytesById = cfg.tokenBytes;
    this.scanner = cfg.pattern.source === LLAMA3_PATTERN ? new Llama3Scanner() : undefined;
    this.pattern = new RegExp(cfg.pattern.source, 'gu');
    this.ignoreMerges = cfg.ignoreMerges;
    const decoder = new TextDecoder('utf-8', { fatal: true });
    cfg.tokenBytes.forEach((bytes, id) => {
      if (!bytes) return;
      if (bytes.length === 1) this.byteToId[bytes[0]!] = id;
      try {
        const s = decoder.decode(bytes);
        // Only strings whose UTF-8 round-trips may be looked up by text.
        if (!this.textToId.has(s)) this.textToId.set(s, id);
      } catch {
        /* partial UTF-8 sequence: reachable only through merges */
      }
    });
    let bits = 1;
    while (1 << bits < cfg.merges.length * 1.6) bits++;
    const size = 1 << bits;
    this.mergeMask = size - 1;
    this.mergeShift = 32 - bits;
    const table = (this.mergeTable = new Int32Array(size * 4));
    for (let slot = 0; slot < size; slot++) table[slot * 4] = -1;
    cfg.merges.forEach((m, rank) => {
      let slot = this.slotOf(m.left, m.right);
      while (table[slot * 4] !== -1) {
        if (table[slot * 4] === m.left && table[slot * 4 + 1] === m.right) return; // keep the first (lowest) rank
        slot = (slot + 1) & this.mergeMask;
      }
      table.set([m.left, m.right, rank, m.result], slot * 4);
    });
    for (let a = 0; a < 256; a++) {
      for (let b = 0; b < 256; b++) {
        const slot = this.findMerge(this.byteToId[a]!, this.byteToId[b]!);
        if (slot >= 0) {
          this.bytePairRank[(a << 8) | b] = table[slot + 2]!;
          this.bytePairResult[(a << 8) | b] = table[slot + 3]!;
        }
      }
    }
    for (const s of cfg.specials) {
      this.specialsByText.set(s.text, s);
      this.specialsById.set(s.id, s);
    }
  }

  private slotOf(a: number, b: number): number {
    return (Math.imul(a ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(b + 0x27d4eb2f, 0x85ebca77)) >>> this.mergeShift;
  }

  /** Index in mergeTable of the record of the merge (a, b), or -1. */
  private findMerge(a: number, b: number): number {
    const table = this.mergeTable;
    let slot = this.slotOf(a, b);
    for (;;) {
      const at = slot << 2;
      const l = table[at]!;
      if (l === a && table[at + 1] === b) return at;
      if (l === -1) return -1;
      slot = (slot + 1) & this.mergeMask;
    }
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
    const piece = text.slice(start, end);
    let v = this.cache.get(piece);
    if (v === undefined) {
      v = this.tokenisePiece(piece, text, start, end);
      if (this.cache.size >= CACHE_ENTRIES) this.resetCache();
      this.cache.set(piece, v);
    }
    if (v >= 0) {
      out.push(v);
      return;
    }
    const at = -1 - v;
    const pool = this.pool;
    const n = pool[at]!;
    if (out.length + n > out.buf.length) out.reserve(n);
    const buf = out.buf;
    let k = out.length;
    for (let i = 1; i <= n; i++) buf[k++] = pool[at + i]!;
    out.length = k;
  }

  private resetCache(): void {
    this.cache = new Map();
    this.poolLength = 0;
  }

  /** The cache value of a piece not in the cache: its id, or its ids stored in the pool. */
  private tokenisePiece(piece: string, text: string, start: number, end: number): number {
    if (this.ignoreMerges) {
      const direct = this.textToId.get(piece);
      if (direct !== undefined) return direct;
    }
    const nBytes = this.utf8(text, start, end);
    if (this.loneSurrogate && this.ignoreMerges) {
      // Lone surrogates are encoded as U+FFFD, as the reference sees them.
      const direct = this.textToId.get(piece.replace(LONE_SURROGATE, '\uFFFD'));
      if (direct !== undefined) return direct;
    }
    const n = nBytes <= SMALL_PIECE ? this.mergeSmall(nBytes) : this.mergeLarge(nBytes);
    const ids = this.ids;
    if (n === 1) return ids[0]!;
    if (this.poolLength + n + 1 > this.pool.length) {
      if (this.pool.length >= POOL_LIMIT) this.resetCache();
      else {
        const next = new Uint32Array(Math.min(POOL_LIMIT, Math.max(this.pool.length * 2, n + 1)));
        next.set(this.pool.subarray(0, this.poolLength));
        this.pool = next;
      }
    }
    const at = this.poolLength;
    const pool = this.pool;
    pool[at] = n;
    for (let i = 0; i < n; i++) pool[at + 1 + i] = ids[i]!;
    this.poolLength = at + 1 + n;
    return -1 - at;
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
   * Quadratic merge loop over the piece's `n` bytes, leaving its ids in `ids[0, count)` and
   * returning the count: fastest for the short pieces that make up almost all text.
   */
  private mergeSmall(n: number): number {
    const bytes = this.bytes;
    const ids = this.ids;
    const ranks = this.ranks;
    const results = this.results;
    const byteToId = this.byteToId;
    const pairRank = this.bytePairRank;
    const pairResult = this.bytePairResult;
    for (let i = 0; i < n; i++) ids[i] = byteToId[bytes[i]!]!;
    for (let i = 0; i < n - 1; i++) {
      const k = (bytes[i]! << 8) | bytes[i + 1]!;
      ranks[i] = pairRank[k]!;
      results[i] = pairResult[k]!;
    }
    let len = n;
    while (len > 1) {
      let best = -1;
      let bestRank = NO_MERGE;
      for (let i = 0; i < len - 1; i++) {
        const r = ranks[i]!;
        if (r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      ids[best] = results[best]!;
      len--;
      for (let i = best + 1; i < len; i++) {
        ids[i] = ids[i + 1]!;
        ranks[i] = ranks[i + 1]!;
        results[i] = results[i + 1]!;
      }
      if (best < len - 1) this.setPair(best, ids[best]!, ids[best + 1]!);
      if (best > 0) this.setPair(best - 1, ids[best - 1]!, ids[best]!);
    }
    return len;
  }

  /** Heap + linked list: O(n log n) for long pieces (whitespace runs, long Han runs). */
  private mergeLarge(n: number): number {
    const ids = this.ids;
    for (let i = 0; i < n; i++) ids[i] = this.byteToId[this.bytes[i]!]!;
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

/** The code point that ends at `end` (exclusive) in `s`. */
function lastCodePointBefore(s: string, end: number): number {
  const last = s.charCodeAt(end - 1);
  if ((last & 0xfc00) === 0xdc00 && end >= 2) {
    const hi = s.charCodeAt(end - 2);
    if ((hi & 0xfc00) === 0xd800) return 0x10000 + ((hi & 0x3ff) << 10) + (last & 0x3ff);
  }
  return last;
}
