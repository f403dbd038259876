import { utf8Length, type ChatMessage, type Tokenizer } from '@ctxlab/tokenizers';
import { DataprepError, type ErrorPlace } from './errors';

/** Characters gathered before a text is cut for tokenising. */
export const SEGMENT_CHARS = 1 << 20;
/** A text with no safe cut in this many characters is refused rather than held in memory. */
export const MAX_UNCUT_CHARS = 64 << 20;

const isLowSurrogate = (c: number) => (c & 0xfc00) === 0xdc00;
const isHighSurrogate = (c: number) => (c & 0xfc00) === 0xd800;

function codePointBefore(s: string, i: number): number {
  const c = s.charCodeAt(i - 1);
  if (isLowSurrogate(c) && i >= 2 && isHighSurrogate(s.charCodeAt(i - 2))) return s.codePointAt(i - 2)!;
  return c;
}

/** The last position in s[from..] where the tokenizer says the text may be cut, or -1. */
function lastCut(s: string, from: number, tok: Tokenizer): number {
  for (let i = s.length - 1; i > Math.max(from, 0); i--) {
    if (isLowSurrogate(s.charCodeAt(i)) && isHighSurrogate(s.charCodeAt(i - 1))) continue;
    if (tok.isCutPair(codePointBefore(s, i), s.codePointAt(i)!)) return i;
  }
  return -1;
}

/**
 * A streamed text as segments that tokenise independently: tokens(a + b) = tokens(a) ++ tokens(b)
 * for consecutive segments, because every cut is where `tok.isCutPair` allows one. So a document
 * of any size is tokenised with about `segmentChars` characters in memory.
 */
export async function* cutSafeSegments(chunks: AsyncIterable<string>, tok: Tokenizer, place: ErrorPlace, segmentChars = SEGMENT_CHARS): AsyncGenerator<string> {
  let pending = '';
  let scanned = 0;
  for await (const chunk of chunks) {
    pending += chunk;
    while (pending.length >= segmentChars) {
      const cut = lastCut(pending, scanned, tok);
      if (cut < 0) {
        if (pending.length > MAX_UNCUT_CHARS) throw new DataprepError('UNPREPARABLE', `no place to cut the text safely for the tokenizer in ${pending.length} characters`, place);
        scanned = pending.length - 1;
        break;
      }
      yield pending.slice(0, cut);
      pending = pending.slice(cut);
      scanned = 0;
    }
  }
  if (pending) yield pending;
}

export interface TokenizedChat {
  ids: number[];
  /** 1 for the assistant's content tokens and the special token closing its turn; 0 elsewhere. */
  mask: Uint8Array;
}

/**
 * The chat as `tok.encodeChat(messages, { addGenerationPrompt: false })` encodes it, with a loss
 * mask. The text between two specials is encoded in one piece exactly as encodeChat does; a
 * token is the assistant's when any of its bytes lies in an assistant message's content.
 */
export function encodeChatWithMask(tok: Tokenizer, messages: readonly ChatMessage[]): TokenizedChat {
  const ids: number[] = [];
  const mask: number[] = [];
  let run = '';
  let runBytes = 0;
  let spans: [number, number][] = [];
  const flush = () => {
    if (!run) return;
    let at = 0;
    let s = 0;
    for (const id of tok.encode(run)) {
      const end = at + tok.tokenBytes(id).length;
      while (s < spans.length && spans[s]![1] <= at) s++;
      const span = spans[s];
      ids.push(id);
      mask.push(span && span[0] < end ? 1 : 0);
      at = end;
    }
    run = '';
    runBytes = 0;
    spans = [];
  };
  let afterAssistant = false;
  for (const part of tok.chatLayout(
    messages.map((m) => m.role),
    { addGenerationPrompt: false },
  )) {
    if (part.kind === 'special') {
      flush();
      ids.push(part.token.id);
      mask.push(afterAssistant ? 1 : 0);
      afterAssistant = false;
      continue;
    }
    const message = part.kind === 'content' ? messages[part.message]! : undefined;
    const text = message ? tok.normalizeContent(message.content) : part.kind === 'text' ? part.text : '';
    const bytes = utf8Length(text);
    afterAssistant = message?.role === 'assistant';
    if (afterAssistant && bytes > 0) spans.push([runBytes, runBytes + bytes]);
    run += text;
    runBytes += bytes;
  }
  flush();
  return { ids, mask: Uint8Array.from(mask) };
}
