/** What PieceTable.get returns for a key that is not in the table. */
export const MISSING = -0x80000000;

/** 32-bit hash of the UTF-16 code units text[start, end): FNV-1a over the units, then a final avalanche. */
export function hashChars(text: string, start: number, end: number): number {
  let h = 0x811c9dc5 ^ (end - start);
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Open-addressing map from a run of UTF-16 code units to an int32, looked up by a slice of any
 * string without materialising it: `text.slice` plus a Map costs an allocation and a string hash
 * per piece, which is most of the work for pieces that are seen once (Han text). Keys are copied
 * into one Uint16Array; a probe compares the stored hash and length before any code unit.
 */
export class PieceTable {
  /** [hash, keyStart, keyLength, value] per slot; keyLength 0 marks an empty slot (keys are never empty). */
  private meta: Int32Array;
  private mask: number;
  private keys: Uint16Array;
  private keysLength = 0;
  /** Entries held. */
  size = 0;

  constructor(capacity = 1 << 12) {
    let cap = 16;
    while (cap < capacity) cap *= 2;
    this.meta = new Int32Array(cap * 4);
    this.mask = cap - 1;
    this.keys = new Uint16Array(cap);
  }

  /** A copy that shares nothing with this table. */
  clone(): PieceTable {
    const c = new PieceTable(0);
    c.meta = this.meta.slice();
    c.mask = this.mask;
    c.keys = this.keys.slice();
    c.keysLength = this.keysLength;
    c.size = this.size;
    return c;
  }

  /** Code units held by keys. */
  get keyUnits(): number {
    return this.keysLength;
  }

  /** Index in `meta` of the entry for text[start, end) with hash `h` (from hashChars), or -1. */
  private find(text: string, start: number, end: number, h: number): number {
    const meta = this.meta;
    const keys = this.keys;
    const len = end - start;
    let slot = h & this.mask;
    for (;;) {
      const at = slot << 2;
      const kl = meta[at + 2]!;
      if (kl === 0) return -1;
      if (kl === len && meta[at] === h) {
        let k = meta[at + 1]!;
        let i = start;
        while (i < end && keys[k] === text.charCodeAt(i)) {
          i++;
          k++;
        }
        if (i === end) return at;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /** The value of text[start, end), or MISSING. */
  get(text: string, start: number, end: number, h: number): number {
    const at = this.find(text, start, end, h);
    return at < 0 ? MISSING : this.meta[at + 3]!;
  }

  /** The value of text[start, end) if its key was stored before `keyUnits` was `mark`, else MISSING. */
  getBefore(mark: number, text: string, start: number, end: number, h: number): number {
    const at = this.find(text, start, end, h);
    return at < 0 || this.meta[at + 1]! >= mark ? MISSING : this.meta[at + 3]!;
  }

  /** Adds text[start, end) (not empty, not yet in the table) with hash `h`. */
  set(text: string, start: number, end: number, h: number, value: number): void {
    const len = end - start;
    if ((this.size + 1) * 2 > this.mask + 1) this.rehash((this.mask + 1) * 2);
    if (this.keysLength + len > this.keys.length) {
      let cap = this.keys.length * 2;
      while (cap < this.keysLength + len) cap *= 2;
      const next = new Uint16Array(cap);
      next.set(this.keys.subarray(0, this.keysLength));
      this.keys = next;
    }
    const keys = this.keys;
    const k = this.keysLength;
    for (let i = 0; i < len; i++) keys[k + i] = text.charCodeAt(start + i);
    this.keysLength = k + len;
    this.place(h, k, len, value);
    this.size++;
  }

  private place(h: number, keyStart: number, len: number, value: number): void {
    const meta = this.meta;
    let slot = h & this.mask;
    while (meta[(slot << 2) + 2] !== 0) slot = (slot + 1) & this.mask;
    const at = slot << 2;
    meta[at] = h;
    meta[at + 1] = keyStart;
    meta[at + 2] = len;
    meta[at + 3] = value;
  }

  private rehash(capacity: number, keep = Infinity): void {
    const old = this.meta;
    this.meta = new Int32Array(capacity * 4);
    this.mask = capacity - 1;
    this.size = 0;
    for (let at = 0; at < old.length; at += 4) {
      if (old[at + 2] === 0 || old[at + 1]! >= keep) continue;
      this.place(old[at]!, old[at + 1]!, old[at + 2]!, old[at + 3]!);
      this.size++;
    }
  }

  /** Drops every entry whose key was stored at or after `mark` (a past `keyUnits`). */
  truncate(mark: number): void {
    this.rehash(this.mask + 1, mark);
    this.keysLength = mark;
  }
}
