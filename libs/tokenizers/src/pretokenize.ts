/** The pre-tokenizer regex of Meta's Llama-3 tokenizer.json (cl100k's too), verbatim. */
export const LLAMA3_PATTERN = String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;

// Code point classes for the Llama-3 / cl100k pre-tokenizer.
export const C_OTHER = 0;
export const C_LETTER = 1;
export const C_DIGIT = 2;
export const C_SPACE = 3; // \s except \r and \n
export const C_NEWLINE = 4; // \r or \n

const RE_L = /^\p{L}$/u;
const RE_N = /^\p{N}$/u;
const RE_S = /^\s$/u;

function classifySlow(cp: number): number {
  if (cp === 0x0a || cp === 0x0d) return C_NEWLINE;
  const ch = String.fromCodePoint(cp);
  if (RE_L.test(ch)) return C_LETTER;
  if (RE_N.test(ch)) return C_DIGIT;
  if (RE_S.test(ch)) return C_SPACE;
  return C_OTHER;
}

let bmp: Uint8Array | undefined;

/**
 * The class of every UTF-16 code unit, built once with the regex engine's own Unicode tables so
 * the scanner below agrees with the regex. Surrogates are C_OTHER here: the scanner looks pairs up
 * in `astralClass`, and a lone surrogate is neither a letter, a number nor whitespace.
 */
export function bmpClasses(): Uint8Array {
  if (!bmp) {
    bmp = new Uint8Array(0x10000);
    for (let c = 0; c < 0x10000; c++) bmp[c] = c >= 0xd800 && c <= 0xdfff ? C_OTHER : classifySlow(c);
  }
  return bmp;
}

const astral = new Map<number, number>();

export function astralClass(cp: number): number {
  let k = astral.get(cp);
  if (k === undefined) {
    k = classifySlow(cp);
    astral.set(cp, k);
  }
  return k;
}

export function codePointClass(cp: number): number {
  return cp < 0x10000 ? bmpClasses()[cp]! : astralClass(cp);
}

/**
 * Hand-written scanner for the Llama-3 (and cl100k) pre-tokenizer regex
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * with JavaScript's `u` semantics for \s, \p{L} and \p{N} (the class table comes from the regex
 * engine itself). It returns where the piece starting at `i` ends, exactly as the regex's next
 * match would; a per-code-unit table and a few branches instead of a backtracking engine is what
 * makes pre-tokenisation cheap.
 */
export class Llama3Scanner {
  private readonly cls = bmpClasses();

  /** Class of the code point at `i` (a surrogate pair is one code point, a lone surrogate C_OTHER). */
  classAt(text: string, i: number, end: number): number {
    const c = text.charCodeAt(i);
    if ((c & 0xfc00) === 0xd800 && i + 1 < end) {
      const d = text.charCodeAt(i + 1);
      if ((d & 0xfc00) === 0xdc00) return astralClass(0x10000 + ((c & 0x3ff) << 10) + (d & 0x3ff));
    }
    return this.cls[c]!;
  }

  /** Width in code units of the code point at `i`. */
  private width(text: string, i: number, end: number): number {
    if ((text.charCodeAt(i) & 0xfc00) === 0xd800 && i + 1 < end && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) return 2;
    return 1;
  }

  /** End of the run of letters starting at `i`. */
  private letters(text: string, i: number, end: number): number {
    const cls = this.cls;
    while (i < end) {
      const c = text.charCodeAt(i);
      if ((c & 0xf800) !== 0xd800) {
        if (cls[c] !== C_LETTER) return i;
        i++;
      } else if (this.classAt(text, i, end) === C_LETTER) i += 2;
      else return i;
    }
    return i;
  }

  /** Length of a contraction ('s 't 're 've 'm 'll 'd, any case) at `i`, which holds an apostrophe; 0 if none. */
  private contraction(text: string, i: number, end: number): number {
    if (i + 1 >= end) return 0;
    const a = text.charCodeAt(i + 1) | 0x20;
    // U+017F LATIN SMALL LETTER LONG S folds to s under Unicode case-insensitive matching.
    if (a === 0x73 || a === 0x74 || a === 0x6d || a === 0x64 || text.charCodeAt(i + 1) === 0x17f) return 2; // s t m d
    if (i + 2 >= end) return 0;
    const b = text.charCodeAt(i + 2) | 0x20;
    if ((a === 0x72 || a === 0x76) && b === 0x65) return 3; // re ve
    if (a === 0x6c && b === 0x6c) return 3; // ll
    return 0;
  }

  /** End of the piece that starts at `i` (< end). */
  pieceEnd(text: string, i: number, end: number): number {
    const cls = this.cls;
    const c = text.charCodeAt(i);
    const k = (c & 0xf800) === 0xd800 ? this.classAt(text, i, end) : cls[c]!;
    if (k === C_LETTER) return this.letters(text, i + this.width(text, i, end), end);
    if (k === C_DIGIT) {
      let j = i;
      for (let n = 0; n < 3 && j < end; n++) {
        const w = this.width(text, j, end);
        if (this.classAt(text, j, end) !== C_DIGIT) break;
        j += w;
      }
      return j;
    }
    if (k === C_OTHER) {
      if (c === 0x27) {
        const n = this.contraction(text, i, end);
        if (n > 0) return i + n;
      }
      const w = this.width(text, i, end);
      // [^\r\n\p{L}\p{N}]?\p{L}+
      if (i + w < end && this.classAt(text, i + w, end) === C_LETTER) return this.letters(text, i + w, end);
      return this.punctuation(text, i, end);
    }
    if (k === C_SPACE) {
      if (i + 1 < end) {
        const k2 = this.classAt(text, i + 1, end);
        if (k2 === C_LETTER) return this.letters(text, i + 1, end); // one space-like char, then letters
        if (k2 === C_OTHER && c === 0x20) return this.punctuation(text, i + 1, end); // " ?[^\s\p{L}\p{N}]+[\r\n]*"
      }
    }
    // Whitespace (k is C_SPACE or C_NEWLINE): find the run and the last newline in it.
    let j = i;
    let lastNewline = -1;
    while (j < end) {
      const cj = text.charCodeAt(j);
      const kj = cls[cj]!; // whitespace is all in the BMP
      if (kj === C_NEWLINE) lastNewline = j;
      else if (kj !== C_SPACE) break;
      j++;
    }
    // \s*[\r\n]+ ends after the last newline of the run.
    if (lastNewline >= 0) return lastNewline + 1;
    // \s+(?!\S): the run, less its last char when a non-space follows; \s+ otherwise.
    if (j < end && j - i >= 2) return j - 1;
    return j;
  }

  /** [^\s\p{L}\p{N}]+[\r\n]* from `i`, which holds a C_OTHER code point. */
  private punctuation(text: string, i: number, end: number): number {
    const cls = this.cls;
    let j = i;
    while (j < end) {
      const c = text.charCodeAt(j);
      if ((c & 0xf800) !== 0xd800) {
        if (cls[c] !== C_OTHER) break;
        j++;
      } else {
        if (this.classAt(text, j, end) !== C_OTHER) break;
        j += this.width(text, j, end);
      }
    }
    while (j < end) {
      const c = text.charCodeAt(j);
      if (c !== 0x0a && c !== 0x0d) break;
      j++;
    }
    return j;
  }
}
