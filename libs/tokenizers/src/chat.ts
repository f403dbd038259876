import type { ChatMessage, ChatTemplateOptions, EncodeOptions, IndexedEncoding, SpecialTokens, TemplatePart, Tokenizer } from './types';

/**
 * What every tokenizer here shares: the chat template is a layout of parts (chatLayout), and
 * applyChatTemplate and encodeChat are both read off that layout, so the two can never disagree.
 * Template specials are encoded as specials; the text between two of them (template text and
 * normalised contents) is encoded as one plain string, never recognising specials in it.
 */
export abstract class ChatTokenizer implements Tokenizer {
  abstract readonly name: string;
  abstract readonly vocabSize: number;
  abstract readonly special: SpecialTokens;
  abstract encode(text: string, opts?: EncodeOptions): number[];
  abstract count(text: string, opts?: EncodeOptions): number;
  abstract tokenBytes(id: number): Uint8Array;
  abstract chatLayout(roles: readonly string[], opts?: ChatTemplateOptions): TemplatePart[];
  abstract normalizeContent(content: string): string;
  abstract encodeIndexed(text: string): IndexedEncoding;
  abstract isCutPair(prev: number, next: number): boolean;

  /** The tokens' bytes joined and read as UTF-8 (no decoder rules: decode(encode(text)) is text). */
  decode(ids: ArrayLike<number>): string {
    let total = 0;
    for (let i = 0; i < ids.length; i++) total += this.tokenBytes(ids[i]!).length;
    const out = new Uint8Array(total);
    let o = 0;
    for (let i = 0; i < ids.length; i++) {
      const b = this.tokenBytes(ids[i]!);
      out.set(b, o);
      o += b.length;
    }
    return new TextDecoder('utf-8').decode(out);
  }

  applyChatTemplate(messages: readonly ChatMessage[], opts: ChatTemplateOptions = {}): string {
    return this.chatLayout(
      messages.map((m) => m.role),
      opts,
    )
      .map((p) => (p.kind === 'special' ? p.token.text : p.kind === 'text' ? p.text : this.normalizeContent(messages[p.message]!.content)))
      .join('');
  }

  encodeChat(messages: readonly ChatMessage[], opts: ChatTemplateOptions = {}): number[] {
    const out: number[] = [];
    let pending = '';
    const flush = () => {
      if (pending) for (const id of this.encode(pending)) out.push(id);
      pending = '';
    };
    for (const p of this.chatLayout(
      messages.map((m) => m.role),
      opts,
    )) {
      if (p.kind === 'special') {
        flush();
        out.push(p.token.id);
      } else pending += p.kind === 'text' ? p.text : this.normalizeContent(messages[p.message]!.content);
    }
    flush();
    return out;
  }
}
