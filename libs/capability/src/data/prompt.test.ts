import { getTokenizer } from '@ctxlab/tokenizers';
import { describe, expect, it } from 'vitest';
import { decodeSkippingSpecials, framePrompt, truncateMiddle } from './prompt';

const llama3 = getTokenizer('llama3');
const byte = getTokenizer('byte');

describe('truncateMiddle', () => {
  it('keeps the first and last floor(maxLength/2) ids, BOS counted when added', () => {
    const text = 'abcdefghij';
    const cut = truncateMiddle(byte, text, 7, { addBos: true, joinDecoded: false });
    expect(cut).toEqual({ text: 'abhij', fullTokens: 11, truncated: true, keptIds: [byte.special.bos.id, 97, 98, 104, 105, 106] });
    expect(truncateMiddle(byte, text, 7, { addBos: false, joinDecoded: true }).text).toBe('abchij');
    expect(truncateMiddle(byte, text, 11, { addBos: true, joinDecoded: false })).toMatchObject({ text, truncated: false, fullTokens: 11 });
  });

  it('decodes halves apart (LongBench) or together (InfiniteBench): they differ only where a character is cut', () => {
    // "é" is two bytes: a cut between them leaves U+FFFD on each side when decoded apart.
    const text = 'aé' + 'x'.repeat(6) + 'éb';
    const apart = truncateMiddle(byte, text, 6, { addBos: false, joinDecoded: false });
    const together = truncateMiddle(byte, text, 6, { addBos: false, joinDecoded: true });
    expect(apart.keptIds).toEqual([0x61, 0xc3, 0xa9, 0xc3, 0xa9, 0x62]);
    expect(apart.text).toBe('aééb');
    expect(together.text).toBe('aééb');
    const split = truncateMiddle(byte, 'aé' + 'x'.repeat(6) + 'éb', 4, { addBos: false, joinDecoded: false });
    expect(split.text).toBe('a\uFFFD\uFFFDb');
    expect(truncateMiddle(byte, 'aé' + 'x'.repeat(6) + 'éb', 4, { addBos: false, joinDecoded: true }).text).toBe('aéb');
  });

  it('drops the specials the tokenizer added when decoding', () => {
    expect(decodeSkippingSpecials(llama3, [llama3.special.bos.id, ...llama3.encode('Hello world')])).toBe('Hello world');
    expect(decodeSkippingSpecials(byte, [byte.special.bos.id, 104, 105, byte.special.eos.id])).toBe('hi');
  });
});

describe('framePrompt', () => {
  it('is BOS + text without chat, the chat template with it', () => {
    const messages = [{ role: 'user', content: 'Question: why?\nAnswer:' }];
    expect([...framePrompt(llama3, messages, false).promptIds]).toEqual([llama3.special.bos.id, ...llama3.encode(messages[0]!.content)]);
    const chat = framePrompt(llama3, messages, true);
    expect(chat.text).toBe('<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nQuestion: why?\nAnswer:<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n');
    expect([...chat.promptIds]).toEqual(llama3.encodeChat(messages));
  });
});
