import type { ChatMessage } from '@ctxlab/tokenizers';

const SLOT = 8;
const enc = new TextEncoder();
const ascii = (s: string) => enc.encode(s);

/**
 * Writes JSON Lines records of token ids straight into bytes: the decimal text of every id below
 * `vocabSize` is computed once, so a 65K-token record costs a byte copy per token, not a string.
 */
export class IdsLineEncoder {
  private readonly digits: Uint8Array;
  private readonly lengths: Uint8Array;
  constructor(private readonly vocabSize: number) {
    this.digits = new Uint8Array(vocabSize * SLOT);
    this.lengths = new Uint8Array(vocabSize);
    for (let id = 0; id < vocabSize; id++) {
      const d = ascii(String(id));
      this.digits.set(d, id * SLOT);
      this.lengths[id] = d.length;
    }
  }

  /** `{"input_ids":[…]}` (plus `,"loss_mask":[…]` when a mask is given) and a newline. */
  easyContextLine(ids: Uint32Array, mask: Uint8Array | null): Uint8Array {
    const head = ascii('{"input_ids":[');
    const middle = ascii('],"loss_mask":[');
    const out = new Uint8Array(head.length + ids.length * 11 + (mask ? middle.length + mask.length * 2 : 0) + 4);
    out.set(head, 0);
    let o = head.length;
    for (let i = 0; i < ids.length; i++) {
      if (i > 0) out[o++] = 0x2c;
      o = this.putId(out, o, ids[i]!);
    }
    if (mask) {
      out.set(middle, o);
      o += middle.length;
      for (let i = 0; i < mask.length; i++) {
        if (i > 0) out[o++] = 0x2c;
        out[o++] = mask[i] ? 0x31 : 0x30;
      }
    }
    out[o++] = 0x5d; // ]
    out[o++] = 0x7d; // }
    out[o++] = 0x0a; // \n
    return out.subarray(0, o);
  }

  private putId(out: Uint8Array, o: number, id: number): number {
    if (id < this.vocabSize) {
      const n = this.lengths[id]!;
      const at = id * SLOT;
      for (let k = 0; k < n; k++) out[o + k] = this.digits[at + k]!;
      return o + n;
    }
    // An id outside the vocabulary cannot come from the tokenizer; written faithfully all the same.
    const d = ascii(String(id));
    out.set(d, o);
    return o + d.length;
  }
}

/** longllm_qlora language-modelling record: `{"text": …}`. */
export function textLine(text: string): string {
  return `${JSON.stringify({ text })}\n`;
}

/** longllm_qlora instruction-tuning record: `{"conversations": [{role, content}, …]}`. */
export function conversationsLine(messages: readonly ChatMessage[]): string {
  return `${JSON.stringify({ conversations: messages.map((m) => ({ role: m.role, content: m.content })) })}\n`;
}
