import { describe, expect, it } from 'vitest';
import { getTokenizer, UnknownTokenizerError } from './registry';

describe('byte tokenizer', () => {
  const tok = getTokenizer('byte');

  it('maps UTF-8 bytes to ids 0–255 and reserves 256–258 for BOS/EOS/PAD', () => {
    expect(tok.encode('Hi')).toEqual([72, 105]);
    expect(tok.encode('é')).toEqual([0xc3, 0xa9]);
    expect(tok.encode('Hi', { addBos: true })).toEqual([256, 72, 105]);
    expect(tok.special.bos.id).toBe(256);
    expect(tok.special.eos.id).toBe(257);
    expect(tok.special.pad?.id).toBe(258);
    expect(tok.vocabSize).toBe(259);
    expect(tok.count('王莽')).toBe(6);
    expect(tok.decode([256, ...tok.encode('王莽 ok'), 257])).toBe('<s>王莽 ok</s>');
  });

  it('keeps special strings as bytes unless allowed', () => {
    expect(tok.encode('a</s>')).toHaveLength(5);
    expect(tok.encode('a</s>', { allowedSpecial: 'all' })).toEqual([97, 257]);
  });

  it('has a plain-text chat template', () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: ' Hi \n' },
    ];
    expect(tok.applyChatTemplate(messages)).toBe('<s>### System:\nBe brief.\n\n### User:\nHi\n\n### Assistant:\n');
    const ids = tok.encodeChat(messages);
    expect(ids[0]).toBe(256);
    expect(tok.decode(ids)).toBe(tok.applyChatTemplate(messages));
    expect(tok.applyChatTemplate([{ role: 'assistant', content: 'x' }], { addGenerationPrompt: false })).toBe('<s>### Assistant:\nx</s>\n\n');
  });

  it('reports cuts at byte offsets of code point boundaries', () => {
    const text = '王莽在刘秀的手下工作。'.repeat(10) + ' abc 😀 def '.repeat(10);
    const { ids, cutChars, cutTokens } = tok.encodeIndexed(text);
    expect(ids.length).toBe(new TextEncoder().encode(text).length);
    expect(cutChars.length).toBeGreaterThan(5);
    for (let k = 0; k < cutChars.length; k++) expect(tok.count(text.slice(0, cutChars[k]))).toBe(cutTokens[k]);
  });

  it('rejects unknown tokenizer names with a typed error', () => {
    expect(() => getTokenizer('gpt2')).toThrow(UnknownTokenizerError);
  });
});
