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

// Code point classes for the pre-tokenizer's cut rules.
const C_OTHER = 0;
const C_LETTER = 1;
const C_DIGIT = 2;
const C_SPACE = 3; // \s except \r and \n
const C_NEWLINE = 4; // \r or \n

const RE_L = /^\p{L}$/u;
const RE_N = /^\p{N}$/u;
const RE_S = /^\s$/u;
let bmpClasses: Uint8Array | undefined;

function classifySlow(cp: number): number {
  if (cp === 0x0a || cp === 0x0d) return C_NEWLINE;
  const ch = String.fromCodePoint(cp);
  if (RE_L.test(ch)) return C_LETTER;
  if (RE_N.test(ch)) return C_DIGIT;
  if (RE_S.test(ch)) return C_SPACE;
  return C_OTHER;
}

export function codePointClass(cp: number): number {
  if (cp < 0x10000) {
    if (!bmpClasses) {
      bmpClasses = new Uint8Array(0x10000);
      for (let c = 0; c < 0x10000; c++) bmpClasses[c] = c >= 0xd800 && c <= 0xdfff ? C_OTHER : classifySlow(c);
    }
    return bmpClasses[cp]!;
  }
  return classifySlow(cp);
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

function lastCodePoint(s: string): number {
  const last = s.charCodeAt(s.length - 1);
  if ((last & 0xfc00) === 0xdc00 && s.length >= 2) return s.codePointAt(s.length - 2)!;
  return last;
}

const EMPTY = new Uint32Array(0);

export interface ByteLevelBpeConfig {
  /** token id -> its raw bytes, for ordinary tokens */
  tokenBytes: Uint8Array[];
  /** Ordered merges as pairs of token ids, with the id they produce. */
  merges: { left: number; right: number; result: number }[];
  specials: SpecialToken[];
  pattern: RegExp;
  /** HF `ignore_merges`: a piece that is itself in the vocabulary is one token. */
  ignoreMerges: boolean;
}

/**
 * Byte-level BPE with Hugging Face `tokenizers` semantics: split into pieces by the regex, then
 * per piece apply the lowest-ranked merge first (leftmost on ties) until none applies.
 */
export class ByteLevelBpe {
  private readonly tokenBytesById: Uint8Array[];
  private readonly textToId = new Map<string, number>();
  private readonly byteToId = new Uint32Array(256);
  private readonly mergeLeft: Int32Array;
  private readonly mergeRight: Int32Array;
  private readonly mergeRank: Int32Array;
  private readonly mergeResult: Int32Array;
  private readonly mergeMask: number;
  private readonly mergeShift: number;
  private readonly pattern: RegExp;
  private readonly ignoreMerges: boolean;
  private readonly specialsByText = new Map<string, SpecialToken>();
  private readonly specialsById = new Map<number, SpecialToken>();
  private cache = new Map<string, number | Uint32Array>();
  private readonly encoder = new TextEncoder();

  constructor(cfg: ByteLevelBpeConfig) {
    this.tokenBytesById = cfg.tokenBytes;
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
    while (1 << bits < cfg.merges.length * 3) bits++;
    const size = 1 << bits;
    this.mergeMask = size - 1;
    this.mergeShift = 32 - bits;
    this.mergeLeft = new Int32Array(size).fill(-1);
    this.mergeRight = new Int32Array(size);
    this.mergeRank = new Int32Array(size);
    this.mergeResult = new Int32Array(size);
    cfg.merges.forEach((m, rank) => {
      let slot = this.slotOf(m.left, m.right);
      while (this.mergeLeft[slot] !== -1) {
        if (this.mergeLeft[slot] === m.left && this.mergeRight[slot] === m.right) return; // keep the first (lowest) rank
        slot = (slot + 1) & this.mergeMask;
      }
      this.mergeLeft[slot] = m.left;
      this.mergeRight[slot] = m.right;
      this.mergeRank[slot] = rank;
      this.mergeResult[slot] = m.result;
    });
    for (const s of cfg.specials) {
      this.specialsByText.set(s.text, s);
      this.specialsById.set(s.id, s);
    }
  }

  private slotOf(a: number, b: number): number {
    return (Math.imul(a ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(b + 0x27d4eb2f, 0x85ebca77)) >>> this.mergeShift;
  }

  /** Slot of the merge (a, b), or -1. */
  private findMerge(a: number, b: number): number {
    let slot = this.slotOf(a, b);
    for (;;) {
      const l = this.mergeLeft[slot]!;
      if (l === -1) return -1;
      if (l === a && this.mergeRight[slot] === b) return slot;
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


  private pieceIds(piece: string): number | Uint32Array {
    const cached = this.cache.get(piece);
    if (cached !== undefined) return cached;
    let result: number | Uint32Array;
    const direct = this.ignoreMerges ? this.textToId.get(piece) : undefined;
    if (direct !== undefined) result = direct;
    else {
      const ids = this.merge(this.encoder.encode(piece));
      result = ids.length === 1 ? ids[0]! : ids;
    }
    if (this.cache.size > 400_000) this.cache = new Map();
    this.cache.set(piece, result);
    return result;
  }

  private merge(bytes: Uint8Array): Uint32Array {
    const n = bytes.length;
    if (n === 0) return EMPTY;
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) ids[i] = this.byteToId[bytes[i]!]!;
    if (n === 1) return Uint32Array.from(ids);
    return n <= 48 ? this.mergeSmall(ids) : this.mergeLarge(ids);
  }

  /** Quadratic merge loop: fastest for the short pieces that make up almost all text. */
  private mergeSmall(ids: Int32Array): Uint32Array {
    let len = ids.length;
    const slots = new Int32Array(len);
    for (let i = 0; i < len - 1; i++) slots[i] = this.findMerge(ids[i]!, ids[i + 1]!);
    slots[len - 1] = -1;
    while (len > 1) {
      let best = -1;
      let bestRank = 0x7fffffff;
      for (let i = 0; i < len - 1; i++) {
        const s = slots[i]!;
        if (s >= 0) {
          const r = this.mergeRank[s]!;
          if (r < bestRank) {
            bestRank = r;
            best = i;
          }
        }
      }
      if (best < 0) break;
      ids[best] = this.mergeResult[slots[best]!]!;
      ids.copyWithin(best + 1, best + 2, len);
      slots.copyWithin(best + 1, best + 2, len);
      len--;
      slots[len - 1] = -1;
      slots[best] = best < len - 1 ? this.findMerge(ids[best]!, ids[best + 1]!) : -1;
      if (best > 0) slots[best - 1] = this.findMerge(ids[best - 1]!, ids[best]!);
    }
    return Uint32Array.from(ids.subarray(0, len));
  }

  /** Heap + linked list: O(n log n) for long pieces (whitespace runs, long CJK runs). */
  private mergeLarge(ids: Int32Array): Uint32Array {
    const n = ids.length;
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    const alive = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    // Heap of (rank, position, leftId, rightId); stale entries are skipped on pop.
    const hRank: number[] = [];
    const hPos: number[] = [];
    const hL: number[] = [];
    const hR: number[] = [];
    const less = (i: number, j: number) => hRank[i]! < hRank[j]! || (hRank[i] === hRank[j] && hPos[i]! < hPos[j]!);
    const swap = (i: number, j: number) => {
      [hRank[i], hRank[j]] = [hRank[j]!, hRank[i]!];
      [hPos[i], hPos[j]] = [hPos[j]!, hPos[i]!];
      [hL[i], hL[j]] = [hL[j]!, hL[i]!];
      [hR[i], hR[j]] = [hR[j]!, hR[i]!];
    };
    const push = (pos: number) => {
      const nx = next[pos]!;
      if (nx < 0) return;
      const slot = this.findMerge(ids[pos]!, ids[nx]!);
      if (slot < 0) return;
      hRank.push(this.mergeRank[slot]!);
      hPos.push(pos);
      hL.push(ids[pos]!);
      hR.push(ids[nx]!);
      let i = hRank.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!less(i, p)) break;
        swap(i, p);
        i = p;
      }
    };
    const pop = () => {
      const last = hRank.length - 1;
      swap(0, last);
      const top = { rank: hRank.pop()!, pos: hPos.pop()!, l: hL.pop()!, r: hR.pop()! };
      let i = 0;
      for (;;) {
        const a = 2 * i + 1;
        const b = a + 1;
        let m = i;
        if (a < hRank.length && less(a, m)) m = a;
        if (b < hRank.length && less(b, m)) m = b;
        if (m === i) break;
        swap(i, m);
        i = m;
      }
      return top;
    };
    for (let i = 0; i < n - 1; i++) push(i);
    while (hRank.length > 0) {
      const t = pop();
      if (!alive[t.pos]) continue;
      const nx = next[t.pos]!;
      if (nx < 0 || ids[t.pos] !== t.l || ids[nx] !== t.r) continue;
      const slot = this.findMerge(t.l, t.r);
      ids[t.pos] = this.mergeResult[slot]!;
      alive[nx] = 0;
      const nn = next[nx]!;
      next[t.pos] = nn;
      if (nn >= 0) prev[nn] = t.pos;
      push(t.pos);
      if (prev[t.pos]! >= 0) push(prev[t.pos]!);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]!) out.push(ids[i]!);
    return Uint32Array.from(out);
  }

  /** Encodes text containing no special tokens; records cut positions when asked. */
  private encodeOrdinary(text: string, out: U32Builder, cutChars?: I32Builder, cutTokens?: I32Builder, charBase = 0): void {
    const re = this.pattern;
    re.lastIndex = 0;
    let prevLast = -1;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      const piece = m[0];
      if (cutChars && prevLast >= 0 && llama3IsCutPair(prevLast, piece.codePointAt(0)!)) {
        cutChars.push(charBase + m.index);
        cutTokens!.push(out.length);
      }
      const r = this.pieceIds(piece);
      if (typeof r === 'number') out.push(r);
      else out.pushAll(r);
      if (cutChars) prevLast = lastCodePoint(piece);
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
