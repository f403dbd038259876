import type { Tokenizer } from '@ctxlab/tokenizers';

/**
 * Held-out windows for perplexity: `count` windows of `length` tokens, one after another from the
 * start of `text` — BOS, then the next length − 1 tokens of the text's own tokenization (the
 * layout the local check scores: BOS + L − 1 tokens; a token-id prompt gets no BOS from vLLM, so
 * the window carries it). Fewer windows when the text runs out: the caller decides whether that is
 * enough. Only as much of the text is tokenized as the windows need (see encodePrefix).
 */
export function perplexityWindows(text: string, tokenizer: Tokenizer, length: number, count: number, opts: { bos?: boolean } = {}): Uint32Array[] {
  if (!Number.isInteger(length) || length < 2) throw new RangeError(`a perplexity window needs at least 2 tokens, got ${length}`);
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`window count must be a non-negative integer, got ${count}`);
  const bos = opts.bos ?? true;
  const body = bos ? length - 1 : length;
  const ids = encodePrefix(text, tokenizer, body * count);
  const out: Uint32Array[] = [];
  for (let i = 0; i < count && (i + 1) * body <= ids.length; i++) {
    const w = new Uint32Array(length);
    if (bos) w[0] = tokenizer.special.bos.id;
    w.set(ids.slice(i * body, (i + 1) * body), bos ? 1 : 0);
    out.push(w);
  }
  return out;
}

/** How far past the wanted prefix a clean cut is looked for before the whole text is encoded instead. */
const CUT_SEARCH_CHARS = 4096;

/**
 * The first `need` tokens of `tokenizer.encode(text)` (all of them when there are fewer), without
 * encoding a long corpus whole: a prefix is encoded that ends where the tokenizer splits cleanly
 * (`isCutPair`: the text on either side tokenizes independently there, so the prefix's tokens are
 * exactly the first tokens of the whole text's), doubled until it holds enough.
 */
export function encodePrefix(text: string, tokenizer: Tokenizer, need: number): number[] {
  let chars = Math.max(1024, need * 8);
  for (;;) {
    if (chars >= text.length) return tokenizer.encode(text).slice(0, need);
    const cut = cleanCutFrom(text, tokenizer, chars);
    if (cut < 0) return tokenizer.encode(text).slice(0, need);
    const ids = tokenizer.encode(text.slice(0, cut));
    if (ids.length >= need) return ids.slice(0, need);
    chars = cut * 2;
  }
}

/** The first position ≥ from (and < text.length) where the tokenizer cuts cleanly between the code points either side; -1 if none is near. */
function cleanCutFrom(text: string, tokenizer: Tokenizer, from: number): number {
  const end = Math.min(text.length, from + CUT_SEARCH_CHARS);
  for (let i = Math.max(1, from); i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) continue; // inside a surrogate pair
    const before = text.charCodeAt(i - 1);
    const prev = before >= 0xdc00 && before <= 0xdfff && i >= 2 ? text.codePointAt(i - 2)! : before;
    if (tokenizer.isCutPair(prev, text.codePointAt(i)!)) return i;
  }
  return -1;
}
