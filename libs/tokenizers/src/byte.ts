import { ChatTokenizer } from './chat';
import { pythonStrip, utf8Bytes } from './text';
import type { ChatTemplateOptions, EncodeOptions, IndexedEncoding, SpecialToken, SpecialTokens, TemplatePart } from './types';

export const BYTE_BOS: SpecialToken = { id: 256, text: '<s>' };
export const BYTE_EOS: SpecialToken = { id: 257, text: '</s>' };
export const BYTE_PAD: SpecialToken = { id: 258, text: '<pad>' };
const SPECIALS = [BYTE_BOS, BYTE_EOS, BYTE_PAD];

/** Spacing of the recorded cut positions: every code point boundary is a cut, a sparse list suffices. */
const CUT_STRIDE = 16;

/**
 * The lab model's tokenizer: ids 0–255 are the UTF-8 bytes, 256 BOS, 257 EOS, 258 PAD.
 * Chat template (plain text, so any byte-level model can learn it):
 *   <s>### System:\n{content}\n\n### User:\n{content}\n\n### Assistant:\n{content}</s>\n\n ... ### Assistant:\n
 * Contents are stripped like Jinja's `trim`; assistant turns end with EOS.
 */
export class ByteTokenizer extends ChatTokenizer {
  readonly name = 'byte';
  readonly vocabSize = 259;
  readonly special: SpecialTokens = { bos: BYTE_BOS, eos: BYTE_EOS, eot: BYTE_EOS, pad: BYTE_PAD };

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const out: number[] = opts.addBos ? [BYTE_BOS.id] : [];
    const allowed = opts.allowedSpecial;
    if (!allowed || (allowed !== 'all' && allowed.size === 0)) {
      for (const b of utf8Bytes(text)) out.push(b);
      return out;
    }
    const names = SPECIALS.filter((s) => allowed === 'all' || allowed.has(s.text));
    let i = 0;
    let plainFrom = 0;
    const flush = (end: number) => {
      for (const b of utf8Bytes(text.slice(plainFrom, end))) out.push(b);
    };
    while (i < text.length) {
      const hit = text[i] === '<' ? names.find((s) => text.startsWith(s.text, i)) : undefined;
      if (hit) {
        flush(i);
        out.push(hit.id);
        i += hit.text.length;
        plainFrom = i;
      } else i++;
    }
    flush(text.length);
    return out;
  }

  count(text: string, opts: EncodeOptions = {}): number {
    return this.encode(text, opts).length;
  }

  override decode(ids: ArrayLike<number>): string {
    const bytes: number[] = [];
    let out = '';
    const dec = new TextDecoder('utf-8');
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id < 256) bytes.push(id);
      else {
        out += dec.decode(new Uint8Array(bytes.splice(0)));
        out += this.tokenText(id);
      }
    }
    return out + dec.decode(new Uint8Array(bytes));
  }

  private tokenText(id: number): string {
    const s = SPECIALS.find((t) => t.id === id);
    if (!s) throw new RangeError(`token id ${id} is not in the byte vocabulary`);
    return s.text;
  }

  tokenBytes(id: number): Uint8Array {
    return id < 256 ? Uint8Array.of(id) : utf8Bytes(this.tokenText(id));
  }

  normalizeContent(content: string): string {
    return pythonStrip(content);
  }

  chatLayout(roles: readonly string[], opts: ChatTemplateOptions = {}): TemplatePart[] {
    const title = (r: string) => r.charAt(0).toUpperCase() + r.slice(1);
    const parts: TemplatePart[] = [{ kind: 'special', token: BYTE_BOS }];
    roles.forEach((role, i) => {
      parts.push({ kind: 'text', text: `### ${title(role)}:\n` }, { kind: 'content', message: i });
      if (role === 'assistant') parts.push({ kind: 'special', token: BYTE_EOS });
      parts.push({ kind: 'text', text: '\n\n' });
    });
    if (opts.addGenerationPrompt ?? true) parts.push({ kind: 'text', text: '### Assistant:\n' });
    return parts;
  }

  encodeIndexed(text: string): IndexedEncoding {
    const ids = utf8Bytes(text);
    const n = Math.floor(text.length / CUT_STRIDE);
    const cutChars = new Int32Array(n);
    const cutTokens = new Int32Array(n);
    let k = 0;
    let bytePos = 0;
    let nextCut = CUT_STRIDE;
    for (let i = 0; i < text.length; i++) {
      if (i === nextCut) {
        if ((text.charCodeAt(i) & 0xfc00) === 0xdc00) nextCut++; // never inside a surrogate pair
        else {
          cutChars[k] = i;
          cutTokens[k] = bytePos;
          k++;
          nextCut += CUT_STRIDE;
        }
      }
      const c = text.charCodeAt(i);
      if (c < 0x80) bytePos += 1;
      else if (c < 0x800) bytePos += 2;
      else if ((c & 0xfc00) === 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        bytePos += 4;
        i++;
        if (i === nextCut) nextCut++;
      } else bytePos += 3; // BMP, or a lone surrogate (encoded as U+FFFD)
    }
    return { ids: Uint32Array.from(ids), cutChars: cutChars.slice(0, k), cutTokens: cutTokens.slice(0, k) };
  }

  isCutPair(): boolean {
    return true;
  }
}

let byte: ByteTokenizer | undefined;
export function byteTokenizer(): ByteTokenizer {
  return (byte ??= new ByteTokenizer());
}
