export interface ChatMessage {
  role: string;
  content: string;
}

export interface EncodeOptions {
  /** Prepend the BOS id. Default false. */
  addBos?: boolean;
  /**
   * Special-token strings recognised in `text`. Default: none — a user's text that happens to
   * contain "<|eot_id|>" is encoded as plain text, never as the control token.
   */
  allowedSpecial?: 'all' | ReadonlySet<string>;
  /**
   * Encode `text` as the start of a string, the way the reference encodes a whole string
   * (Hugging Face `encode(text, add_special_tokens=False)`). Only SentencePiece models that
   * prefix each text run with '▁' (Llama-2) differ: they get that prefix. Default false: `text`
   * is encoded as it tokenises inside a longer text, so encodings concatenate at cuts (see
   * IndexedEncoding). Implied by addBos.
   */
  textStart?: boolean;
}

export interface SpecialToken {
  id: number;
  text: string;
}

export interface SpecialTokens {
  bos: SpecialToken;
  eos: SpecialToken;
  /** End of a chat turn (Llama-3: <|eot_id|>; the byte model reuses EOS). */
  eot: SpecialToken;
  pad?: SpecialToken;
}

export interface ChatTemplateOptions {
  /** Append the assistant header so the model answers next. Default true. */
  addGenerationPrompt?: boolean;
}

/**
 * A chat template flattened into parts, with each message's content left as a slot. Prompt
 * builders that assemble huge contents without materialising them use this; applyChatTemplate
 * and encodeChat are both defined through it so the three can never disagree.
 */
export type TemplatePart =
  | { kind: 'special'; token: SpecialToken }
  | { kind: 'text'; text: string }
  | { kind: 'content'; message: number };

/**
 * Token ids of a text plus positions where the text may be cut without changing tokenisation:
 * for every cut c, tokens(text) = tokens(text[..c]) ++ tokens(text[c..]), and the same holds in
 * ANY string where the two code points around c stand next to each other (see isCutPair).
 * `cutChars` are UTF-16 offsets, `cutTokens` the index of the first token after the cut.
 * The list may be a subset of all such positions.
 */
export interface IndexedEncoding {
  ids: Uint32Array;
  cutChars: Int32Array;
  cutTokens: Int32Array;
}

export interface Tokenizer {
  readonly name: string;
  readonly vocabSize: number;
  readonly special: SpecialTokens;
  encode(text: string, opts?: EncodeOptions): number[];
  decode(ids: ArrayLike<number>): string;
  count(text: string, opts?: EncodeOptions): number;
  /** UTF-8 bytes that token `id` decodes to (specials: their text). */
  tokenBytes(id: number): Uint8Array;
  applyChatTemplate(messages: readonly ChatMessage[], opts?: ChatTemplateOptions): string;
  /** Ids of applyChatTemplate(messages): template specials as specials, content as plain text. */
  encodeChat(messages: readonly ChatMessage[], opts?: ChatTemplateOptions): number[];
  chatLayout(roles: readonly string[], opts?: ChatTemplateOptions): TemplatePart[];
  /** What the template does to a message's content before inserting it (Llama-3: Jinja `trim`). */
  normalizeContent(content: string): string;
  encodeIndexed(text: string): IndexedEncoding;
  /** True when any string with code point `prev` immediately followed by `next` tokenises as two independent halves there. */
  isCutPair(prev: number, next: number): boolean;
}
