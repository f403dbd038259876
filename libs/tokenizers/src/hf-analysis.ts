import { DomainError } from '@ctxlab/contracts';
import { byteLevelTables, llama3IsCutPair, qwen2IsCutPair } from './bpe';
import { LLAMA3_PATTERN } from './llama3';

/**
 * What createHfTokenizer reads off a tokenizer.json besides running it: how token ids map to
 * bytes, which code point pairs are cuts (Tokenizer.isCutPair), and whether the reference puts a
 * '▁' in front of every text run (SentencePiece "prepend"). Anything not analysed here gets the
 * safe answer: no cuts.
 */

/** Qwen2's pre-tokenizer regex, verbatim: Llama-3's with single-digit numbers. */
export const QWEN2_PATTERN = String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;

export class HfTokenizerError extends DomainError<'HF_TOKENIZER'> {
  constructor(
    message: string,
    /** The file at fault (tokenizer.json, tokenizer_config.json), with its directory when known. */
    readonly file: string,
    /** The JSON field at fault (DomainError's `field`: the file's field, not an API input's). */
    field: string,
  ) {
    // A tokenizer named in a request that cannot be loaded is the request's mistake: a 400, not a 500.
    super('BAD_REQUEST', message, field, { code: 'HF_TOKENIZER', fieldIsInput: false });
    this.name = 'HfTokenizerError';
  }
}

export interface HfAddedToken {
  id: number;
  content: string;
  special: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  single_word?: boolean;
  normalized?: boolean;
}

export interface HfTokenizerJsonFile {
  added_tokens?: HfAddedToken[];
  normalizer?: unknown;
  pre_tokenizer?: unknown;
  decoder?: unknown;
  model: {
    type: string;
    vocab: Record<string, number> | [string, number][];
    byte_fallback?: boolean;
    fuse_unk?: boolean;
    unk_token?: string | null;
    unk_id?: number | null;
  };
}

/** How the reference prefixes a text run with the space marker. */
export interface SectionPrefix {
  /** always: Prepend normalizer; unless-space: Metaspace / ByteLevel add_prefix_space (not before a leading space). */
  when: 'never' | 'always' | 'unless-space';
  /** all: every run between added tokens; first: only a run at the very start of the string. */
  sections: 'all' | 'first';
}

export type CutRule = 'llama3-regex' | 'qwen2-regex' | 'vocab-pairs' | 'none';

/** A short description of what createHfTokenizer made of a tokenizer.json. */
export interface HfTokenizerFamily {
  model: 'BPE' | 'Unigram';
  vocab: 'byte-level' | 'sentencepiece';
  normalizer: string;
  preTokenizer: string;
  cutRule: CutRule;
  sectionPrefix: SectionPrefix;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const typeOf = (v: unknown): string => (isObj(v) && typeof v.type === 'string' ? v.type : 'null');

interface NormalizerInfo {
  supported: boolean;
  nfc: boolean;
  prepend?: string;
  /** Replace(' ', X): the space marker of a SentencePiece vocabulary. */
  spaceTo?: string;
}

function analyseNormalizer(n: unknown): NormalizerInfo {
  const info: NormalizerInfo = { supported: true, nfc: false };
  const visit = (x: unknown) => {
    if (x === null || x === undefined) return;
    const t = typeOf(x);
    const o = x as Obj;
    if (t === 'Sequence' && Array.isArray(o.normalizers)) o.normalizers.forEach(visit);
    else if (t === 'NFC') info.nfc = true;
    else if (t === 'Prepend' && typeof o.prepend === 'string') info.prepend = o.prepend;
    else if (t === 'Replace' && isObj(o.pattern) && o.pattern.String === ' ' && typeof o.content === 'string') info.spaceTo = o.content;
    else info.supported = false;
  };
  visit(n);
  return info;
}

interface PreTokenizerInfo {
  kind: 'none' | 'regex-byte-level' | 'metaspace' | 'unsupported';
  pattern?: string;
  byteLevelPrefixSpace?: boolean;
  replacement?: string;
  prependScheme?: 'always' | 'first' | 'never';
}

function analysePreTokenizer(p: unknown): PreTokenizerInfo {
  if (p === null || p === undefined) return { kind: 'none' };
  const t = typeOf(p);
  const o = p as Obj;
  if (t === 'Metaspace') {
    const scheme = typeof o.prepend_scheme === 'string' ? o.prepend_scheme : o.add_prefix_space === false ? 'never' : 'always';
    if (scheme !== 'always' && scheme !== 'first' && scheme !== 'never') return { kind: 'unsupported' };
    return { kind: 'metaspace', replacement: typeof o.replacement === 'string' ? o.replacement : '▁', prependScheme: scheme };
  }
  if (t === 'Sequence' && Array.isArray(o.pretokenizers) && o.pretokenizers.length === 2) {
    const [split, bl] = o.pretokenizers as unknown[];
    const s = split as Obj;
    const b = bl as Obj;
    if (
      typeOf(split) === 'Split' &&
      isObj(s.pattern) &&
      typeof s.pattern.Regex === 'string' &&
      s.behavior === 'Isolated' &&
      s.invert === false &&
      typeOf(bl) === 'ByteLevel' &&
      b.use_regex === false
    ) {
      return { kind: 'regex-byte-level', pattern: s.pattern.Regex, byteLevelPrefixSpace: b.add_prefix_space === true };
    }
  }
  return { kind: 'unsupported' };
}

let markTable: Uint8Array | undefined;
const RE_MARK = /^\p{M}$/u;
export function isMark(cp: number): boolean {
  if (cp < 0x10000) {
    if (!markTable) {
      markTable = new Uint8Array(0x10000);
      for (let c = 0; c < 0x10000; c++) if (!(c >= 0xd800 && c <= 0xdfff) && RE_MARK.test(String.fromCharCode(c))) markTable[c] = 1;
    }
    return markTable[cp] === 1;
  }
  return RE_MARK.test(String.fromCodePoint(cp));
}

/**
 * A code point NFC leaves alone and never composes with a neighbour: unchanged by NFC, not a
 * mark, not a conjoining Hangul vowel or final consonant (the starters that compose backwards).
 * NFC of a string then splits there: NFC(a + b) = NFC(a) + NFC(b) when both sides are stable.
 */
function nfcStable(cp: number): boolean {
  if (isMark(cp) || (cp >= 0x1161 && cp <= 0x1175) || (cp >= 0x11a8 && cp <= 0x11c2)) return false;
  if (cp < 0x300) return true;
  const s = String.fromCodePoint(cp);
  return s.normalize('NFC') === s;
}

export interface Analysis {
  family: HfTokenizerFamily;
  /** token id -> bytes for every vocabulary token (added tokens excluded). */
  tokenBytes: (Uint8Array | undefined)[];
  isCutPair: (prev: number, next: number) => boolean;
  /** SentencePiece vocabularies: code points that stand in no multi-character token (sentinel candidates). */
  isolated?: (cp: number) => boolean;
  /**
   * SentencePiece vocabularies: UTF-8 length of each token in the normalised text (where a space
   * is the marker), and how many bytes longer the marker is than a space. Token bytes cannot
   * locate positions there: a '▁' typed in the text and a space both decode to a space.
   */
  normalized?: { lengths: Int32Array; markerExtra: number };
}

/** Reads the vocabulary, normalizer and pre-tokenizer of a tokenizer.json (see the file comment). */
export function analyseTokenizerJson(json: HfTokenizerJsonFile, file: string, plainAdded: readonly HfAddedToken[]): Analysis {
  const model = json.model;
  if (model.type !== 'BPE' && model.type !== 'Unigram') {
    throw new HfTokenizerError(`${file}: model.type "${model.type}" is not supported (BPE and Unigram are)`, file, 'model.type');
  }
  const entries: [string, number][] = Array.isArray(model.vocab)
    ? model.vocab.map(([piece], i) => [piece, i] as [string, number])
    : Object.entries(model.vocab);
  const norm = analyseNormalizer(json.normalizer);
  const pre = analysePreTokenizer(json.pre_tokenizer);
  const byteLevel = pre.kind === 'regex-byte-level' || typeOf(json.decoder) === 'ByteLevel';
  const enc = new TextEncoder();
  const tokenBytes: (Uint8Array | undefined)[] = [];
  let normalized: Analysis['normalized'];
  if (byteLevel) {
    const { charToByte } = byteLevelTables();
    for (const [tok, id] of entries) {
      const bytes = new Uint8Array(tok.length);
      for (let i = 0; i < tok.length; i++) {
        const b = charToByte.get(tok[i]!);
        if (b === undefined) throw new HfTokenizerError(`${file}: vocabulary entry ${id} (${JSON.stringify(tok)}) is not byte-level encoded`, file, 'model.vocab');
        bytes[i] = b;
      }
      tokenBytes[id] = bytes;
    }
  } else {
    const marker = pre.replacement ?? norm.spaceTo ?? '▁';
    const byteRe = /^<0x([0-9A-Fa-f]{2})>$/;
    const lengths = new Int32Array(entries.reduce((m, [, id]) => Math.max(m, id + 1), 0));
    for (const [tok, id] of entries) {
      const m = model.byte_fallback ? byteRe.exec(tok) : null;
      tokenBytes[id] = m ? Uint8Array.of(parseInt(m[1]!, 16)) : enc.encode(tok.split(marker).join(' '));
      lengths[id] = m ? 1 : enc.encode(tok).length;
    }
    normalized = { lengths, markerExtra: enc.encode(marker).length - 1 };
  }

  // Pairs inside added tokens recognised in plain text: a cut there would split the token.
  const addedPairs = new Set<number>();
  let addedStrips = false;
  for (const t of plainAdded) {
    const cps = Array.from(t.content, (c) => c.codePointAt(0)!);
    for (let i = 0; i + 1 < cps.length; i++) addedPairs.add(cps[i]! * 0x110000 + cps[i + 1]!);
    if (t.lstrip || t.rstrip || t.single_word) addedStrips = true;
  }

  let cutRule: CutRule = 'none';
  let base: (prev: number, next: number) => boolean = () => false;
  let isolated: ((cp: number) => boolean) | undefined;
  const sectionPrefix: SectionPrefix = { when: 'never', sections: 'all' };

  if (pre.kind === 'regex-byte-level') {
    if (pre.byteLevelPrefixSpace) sectionPrefix.when = 'unless-space';
    const onlyNfc = norm.supported && norm.prepend === undefined && norm.spaceTo === undefined;
    const rule = pre.pattern === LLAMA3_PATTERN ? llama3IsCutPair : pre.pattern === QWEN2_PATTERN ? qwen2IsCutPair : undefined;
    if (rule && onlyNfc && !pre.byteLevelPrefixSpace) {
      cutRule = pre.pattern === LLAMA3_PATTERN ? 'llama3-regex' : 'qwen2-regex';
      base = norm.nfc ? (p, n) => nfcStable(p) && nfcStable(n) && rule(p, n) : rule;
    }
  } else if ((pre.kind === 'none' || pre.kind === 'metaspace') && norm.supported && !norm.nfc) {
    const marker = pre.replacement ?? norm.spaceTo;
    if (norm.prepend !== undefined) {
      sectionPrefix.when = 'always';
    } else if (pre.kind === 'metaspace' && pre.prependScheme !== 'never') {
      sectionPrefix.when = 'unless-space';
      sectionPrefix.sections = pre.prependScheme === 'first' ? 'first' : 'all';
    }
    const prependOk = norm.prepend === undefined || norm.prepend === marker;
    if (marker !== undefined && [...marker].length === 1 && prependOk) {
      const markerCp = marker.codePointAt(0)!;
      const pairs = new Set<number>();
      const inLong = new Set<number>();
      const single = new Set<number>();
      for (const [tok] of entries) {
        const cps = Array.from(tok, (c) => c.codePointAt(0)!);
        if (cps.length === 1) single.add(cps[0]!);
        else for (const c of cps) inLong.add(c);
        for (let i = 0; i + 1 < cps.length; i++) pairs.add(cps[i]! * 0x110000 + cps[i + 1]!);
      }
      const normCp = (cp: number) => (cp === 0x20 ? markerCp : cp);
      // Without byte fallback, unknown characters become <unk>, and fuse_unk joins neighbouring
      // ones across any boundary: only characters the vocabulary knows may stand at a cut.
      const unknownFuses = !model.byte_fallback && model.fuse_unk !== false;
      cutRule = 'vocab-pairs';
      base = (p, n) => {
        if (isMark(n)) return false;
        const a = normCp(p);
        const b = normCp(n);
        if (unknownFuses && (!single.has(a) || !single.has(b))) return false;
        return !pairs.has(a * 0x110000 + b);
      };
      isolated = (cp) => cp !== 0x20 && cp !== markerCp && !inLong.has(cp) && !isMark(cp);
    }
  }

  const isCutPair =
    cutRule === 'none'
      ? base
      : (prev: number, next: number) => {
          if (addedPairs.size && addedPairs.has(prev * 0x110000 + next)) return false;
          if (addedStrips && (/\s/u.test(String.fromCodePoint(prev)) || /\s/u.test(String.fromCodePoint(next)))) return false;
          return base(prev, next);
        };

  return {
    family: {
      model: model.type,
      vocab: byteLevel ? 'byte-level' : 'sentencepiece',
      normalizer: describe(json.normalizer, 'normalizers'),
      preTokenizer: describe(json.pre_tokenizer, 'pretokenizers'),
      cutRule,
      sectionPrefix,
    },
    tokenBytes,
    isCutPair,
    isolated,
    normalized,
  };
}

function describe(x: unknown, listKey: string): string {
  if (x === null || x === undefined) return 'none';
  const t = typeOf(x);
  const list = (x as Obj)[listKey];
  return t === 'Sequence' && Array.isArray(list) ? `Sequence(${list.map((y) => typeOf(y)).join(', ')})` : t;
}
