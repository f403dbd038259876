import { lastAtOrBelow } from '@ctxlab/niah';
import type { ChatMessage, IndexedEncoding } from '@ctxlab/tokenizers';
import { DataprepError, type ErrorPlace } from './errors';

/**
 * The conversation longllm_qlora's loader accepts (src/chat.py: role_map knows "user" and
 * "assistant" only, and two turns of one role in a row raise). Its data.py drops a first message
 * that is not the user's; we drop a leading system message the same way, and refuse the rest
 * here, with the place, rather than in the middle of a training run.
 */
export function longllmConversation(messages: readonly ChatMessage[], place: ErrorPlace, field: string): ChatMessage[] {
  const out = messages[0]?.role === 'system' ? messages.slice(1) : messages.slice();
  const offset = messages.length - out.length;
  out.forEach((m, i) => {
    const expected = i % 2 === 0 ? 'user' : 'assistant';
    if (m.role !== expected) {
      throw new DataprepError('INVALID_SOURCE', `${field}[${i + offset}].role is "${m.role}": longllm_qlora takes turns user, assistant, user, … (a leading system message is dropped)`, {
        ...place,
        field: `${field}[${i + offset}].role`,
      });
    }
  });
  if (out.length === 0) throw new DataprepError('INVALID_SOURCE', `${field} has no user or assistant message`, { ...place, field });
  return out;
}

/** Index of the last cut whose token index is in (lo, hi], or -1. `cutTokens` ascends. */
function lastCutIn(cutTokens: Int32Array, lo: number, hi: number): number {
  const k = lastAtOrBelow(cutTokens, cutTokens.length, hi);
  return k >= 0 && cutTokens[k]! > lo ? k : -1;
}

/**
 * Cuts a document's text into pieces of at most `budget` tokens, each cut where the tokenizer
 * allows one, so each piece re-tokenises to exactly its share of the document's tokens.
 * Segments must themselves be cut-safe (see cutSafeSegments).
 */
export class TextPiecer {
  private text = '';
  private tokens = 0;
  constructor(
    private readonly budget: number,
    private readonly emit: (text: string, tokens: number) => Promise<void>,
    private readonly place: ErrorPlace,
  ) {}

  async add(segment: string, enc: IndexedEncoding): Promise<void> {
    const n = enc.ids.length;
    let pos = 0;
    let chars = 0;
    while (this.tokens + (n - pos) > this.budget) {
      const k = lastCutIn(enc.cutTokens, pos, pos + this.budget - this.tokens);
      if (k < 0) {
        if (this.tokens === 0) throw new DataprepError('UNPREPARABLE', `no place to cut the text within ${this.budget} tokens`, this.place);
        await this.flush();
        continue;
      }
      this.text += segment.slice(chars, enc.cutChars[k]);
      this.tokens += enc.cutTokens[k]! - pos;
      pos = enc.cutTokens[k]!;
      chars = enc.cutChars[k]!;
      await this.flush();
    }
    this.text += segment.slice(chars);
    this.tokens += n - pos;
  }

  async flush(): Promise<void> {
    if (this.tokens === 0) return;
    const [text, tokens] = [this.text, this.tokens];
    this.text = '';
    this.tokens = 0;
    await this.emit(text, tokens);
  }
}
