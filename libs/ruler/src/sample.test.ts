import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadDefaultCorpus } from '@ctxlab/niah/node';
import { getTokenizer } from '@ctxlab/tokenizers';
import { describe, expect, it } from 'vitest';
import { loadWordLists } from './node';
import { parseHotpotQA, parseSquad } from './qa-data';
import { generateRulerSample, type RulerSampleOptions } from './sample';
import { NOISE_LINE } from './tasks/common';
import { RULER_TASK_NAMES, RULER_TASKS, type RulerTaskName } from './tasks/config';
import { zipfCounts } from './tasks/fwe';
import { RULER_DEPTHS } from './tasks/niah';

const fixture = (name: string) => JSON.parse(readFileSync(resolve(import.meta.dirname, 'testing/fixtures', name), 'utf8')) as unknown;
const llama3 = getTokenizer('llama3');
const byte = getTokenizer('byte');
const words = loadWordLists();
const corpus = loadDefaultCorpus('sotu-en');
const squad = parseSquad(fixture('squad-v2.json'));
const hotpot = parseHotpotQA(fixture('hotpotqa.json'));

const sample = (task: RulerTaskName, o: Partial<RulerSampleOptions> = {}) =>
  generateRulerSample({ task, length: 4096, seed: 7, index: 0, tokenizer: llama3, words, corpus, qaDataset: task === 'qa_1' ? squad : hotpot, verify: true, ...o });

/** The haystack part of a prompt: between the template's text before and after {context}. */
const body = (content: string, start: string, end: string) => content.slice(content.lastIndexOf(start) + start.length, content.lastIndexOf(end));

describe('exact prompt lengths', () => {
  // verify re-tokenises each whole templated prompt from scratch and compares the ids.
  it.each(RULER_TASK_NAMES)('%s: Llama-3, with and without the chat template', (task) => {
    for (const length of [4096, 5000]) {
      for (const chatTemplate of [true, false]) {
        const s = sample(task, { length, chatTemplate, index: length });
        expect(s.inputTokens + s.maxNewTokens).toBe(length);
        expect(s.promptIds.length).toBe(s.inputTokens);
        expect(s.maxNewTokens).toBe(RULER_TASKS[task].tokensToGenerate);
      }
    }
  });

  it.each(RULER_TASK_NAMES)('%s: byte tokenizer (lab model), with and without the chat template', (task) => {
    for (const chatTemplate of [true, false]) {
      const p = sample(task, { tokenizer: byte, length: 2048, lengthCounts: 'prompt', chatTemplate });
      expect(p.inputTokens).toBe(2048);
      // vt's 500-token example and cwe's 40-word example alone exceed 1,500 bytes.
      if (task !== 'vt' && task !== 'cwe') expect(sample(task, { tokenizer: byte, length: 1500, chatTemplate }).inputTokens).toBe(1500 - RULER_TASKS[task].tokensToGenerate);
    }
  });

  it("fwe: exact even when the list's last word merged with the text after it", () => {
    // These samples end their word list with '...', and "...\n" is one Llama-3 token: a filler
    // splits it, so the filler's own count is off by one until the gap is corrected.
    for (const index of [5, 9, 13]) expect(sample('fwe', { seed: 7, index, verify: false }).inputTokens).toBe(4046);
  });

  it('essay tasks: exact even when the end sits at a paragraph break worth two tokens', () => {
    // With seed 42 the corpus end lands where "\n\nThe" adds two tokens at once: only a later start closes the gap.
    expect(sample('niah_multikey_1', { seed: 42 }).inputTokens).toBe(3968);
  });

  it('says when a length cannot hold the task', () => {
    expect(() => sample('vt', { tokenizer: byte, length: 1024 })).toThrow(/cannot hold/);
    expect(() => sample('niah_single_1', { length: 100 })).toThrow(/leaves no room|cannot hold/);
    expect(() => sample('niah_single_2', { corpus: undefined })).toThrow(/needs a corpus/);
    expect(() => sample('qa_1', { qaDataset: hotpot })).toThrow(/reads squad/);
  });
});

describe('determinism', () => {
  it('the same seed and index give the same prompt; another index or seed another', () => {
    for (const task of ['niah_multikey_2', 'cwe', 'niah_single_2'] as const) {
      const a = sample(task);
      const b = sample(task);
      expect(Buffer.from(b.promptIds.buffer).equals(Buffer.from(a.promptIds.buffer))).toBe(true);
      expect(b.answers).toEqual(a.answers);
      expect(sample(task, { index: 1 }).answers).not.toEqual(a.answers);
      expect(sample(task, { seed: 8 }).answers).not.toEqual(a.answers);
    }
    expect(sample('vt').id).toBe('vt-L4096-S0');
  });
});

describe('sample structure (RULER scripts/data/synthetic/*.py)', () => {
  it('niah templates: singular when one value is asked, plural otherwise, as RULER rewrites them', () => {
    // RULER's strings for the same fields, printed by its own code (constants.py + niah.py's replace chain).
    const single = sample('niah_single_1');
    const key = single.meta.queries as string[];
    expect(single.messages[0]!.content.startsWith('A special magic number is hidden within the following text. Make sure to memorize it. I will quiz you about the number afterwards.\n')).toBe(true);
    expect(single.messages[0]!.content.endsWith(`\nWhat is the special magic number for ${key[0]} mentioned in the provided text?`)).toBe(true);
    expect(single.answerPrefix).toBe(` The special magic number for ${key[0]} mentioned in the provided text is`);
    const multi = sample('niah_multiquery');
    const qs = multi.meta.queries as string[];
    expect(qs).toHaveLength(4);
    expect(multi.answerPrefix).toBe(` The special magic numbers for ${qs[0]}, ${qs[1]}, ${qs[2]}, and ${qs[3]} mentioned in the provided text are`);
    expect(multi.answers).toHaveLength(4);
    expect(sample('niah_multivalue').answers).toHaveLength(4);
    // In completion mode the prompt ends with the answer prefix.
    expect(llama3.decode(single.promptIds).endsWith(`<|start_header_id|>assistant<|end_header_id|>\n\n${single.answerPrefix}`)).toBe(true);
  });

  it('niah_single_1: noise lines with the needle on a line of its own', () => {
    const s = sample('niah_single_1');
    const lines = body(s.messages[0]!.content, 'afterwards.\n', '\nWhat is').split('\n');
    const needles = lines.filter((l) => l.startsWith('One of the special magic numbers for'));
    expect(needles).toEqual([`One of the special magic numbers for ${(s.meta.keys as string[])[0]} is: ${s.answers[0]}.`]);
    expect(s.answers[0]).toMatch(/^\d{7}$/);
    const noise = lines.filter((l) => !needles.includes(l));
    // All noise lines are RULER's, but the last, which may be cut short to make the length exact.
    expect(noise.slice(0, -1).every((l) => l === NOISE_LINE)).toBe(true);
    expect(NOISE_LINE.startsWith(noise.at(-1)!)).toBe(true);
  });

  it('niah_multikey_3: a haystack made of other needles, UUID keys and values', () => {
    const s = sample('niah_multikey_3');
    const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';
    const lines = body(s.messages[0]!.content, 'afterwards.\n', '\nWhat is').split('\n');
    const full = new RegExp(`^One of the special magic uuids for (${uuid}) is: (${uuid})\\.$`);
    const matched = lines.filter((l) => full.test(l));
    expect(matched.length).toBeGreaterThan(40);
    expect(lines.length - matched.length).toBeLessThanOrEqual(3); // the cut filler lines
    const asked = (s.meta.queries as string[])[0]!;
    expect(asked).toMatch(new RegExp(`^${uuid}$`));
    expect(lines.filter((l) => l.includes(asked))).toEqual([`One of the special magic uuids for ${asked} is: ${s.answers[0]}.`]);
  });

  it('niah_multikey_1 (essay): four needles with different word keys inside the corpus text', () => {
    const s = sample('niah_multikey_1');
    const keys = s.meta.keys as string[];
    expect(keys).toHaveLength(4);
    for (const k of keys) expect(k).toMatch(/^[a-z]+-[a-z]+$/);
    const text = s.messages[0]!.content;
    for (const n of s.meta.needles as string[]) expect(text.split(n)).toHaveLength(2);
    expect(text).toContain('Fellow-Citizens of the Senate and House of Representatives');
  });

  it('vt: one chain of five variables (four hops) in the noise, after a 3-letter example', () => {
    const s = sample('vt');
    const content = s.messages[0]!.content;
    const parts = content.split('Memorize and track the chain(s) of variable assignment hidden in the following text.\n\n');
    expect(parts).toHaveLength(3); // the example and the question
    const [, example, main] = parts as [string, string, string];
    expect(example).toMatch(/ they are: {2}[A-Z]{3} [A-Z]{3} [A-Z]{3} [A-Z]{3} [A-Z]{3}\n\n$/);
    const chain = main.split('\n').filter((l) => l.startsWith('VAR '));
    expect(chain).toHaveLength(5);
    const vars = s.answers;
    expect(vars).toHaveLength(5);
    for (const v of vars) expect(v).toMatch(/^[A-Z]{5}$/);
    expect(chain[0]).toMatch(new RegExp(`^VAR ${vars[0]} = \\d{5}$`));
    for (let j = 1; j < 5; j++) expect(chain[j]).toBe(`VAR ${vars[j]} = VAR ${vars[j - 1]} `);
    const value = chain[0]!.split('= ')[1]!;
    expect(s.answerPrefix).toBe(` Answer: According to the chain(s) of variable assignment in the text above, 5 variables are assigned the value ${value}, they are: `);
  });

  const frequencies = (list: string) => {
    const f = new Map<string, number>();
    for (const m of list.matchAll(/\d+\. ([a-z]+)/g)) f.set(m[1]!, (f.get(m[1]!) ?? 0) + 1);
    return f;
  };

  it('cwe: ten common words 30 times, the others 3 times (fillers once), after one example', () => {
    const s = sample('cwe');
    const content = s.messages[0]!.content;
    const lists = content.split('Memorize the ones that appear most often.\n');
    expect(lists).toHaveLength(3);
    const f = frequencies(lists[2]!.split('\nQuestion:')[0]!);
    expect(s.answers).toHaveLength(10);
    for (const w of s.answers) expect(f.get(w)).toBe(30);
    const others = [...f.entries()].filter(([w]) => !s.answers.includes(w)).map(([, c]) => c);
    expect(others.filter((c) => c === 3).length).toBe((s.meta.words as number) - 10);
    expect(others.every((c) => c === 3 || c === 1)).toBe(true);
    // The example: 10 words × 10 and 30 × 3, then its answer.
    const ex = frequencies(lists[1]!.split('\nQuestion:')[0]!);
    expect([...ex.values()].sort((a, b) => b - a)).toEqual([...Array(10).fill(10), ...Array(30).fill(3)]);
    // Below 4,096 RULER uses 6 and 1.
    const short = sample('cwe', { length: 3000 });
    const fs = frequencies(short.messages[0]!.content.split('Memorize the ones that appear most often.\n')[2]!);
    for (const w of short.answers) expect(fs.get(w)).toBe(6);
  });

  it("fwe: RULER's Zipf counts; the answer is ranks 2–4, '...' is rank 1", () => {
    // RULER: num_words · k^-2 / ζ(2), truncated — printed by numpy/scipy for 2,019 words and 80 ranks.
    expect(zipfCounts(2019, 80, 2).slice(0, 26)).toEqual([1227, 306, 136, 76, 49, 34, 25, 19, 15, 12, 10, 8, 7, 6, 5, 4, 4, 3, 3, 3, 2, 2, 2, 2, 1, 1]);
    expect(zipfCounts(2019, 80, 2).slice(35).every((c) => c === 0)).toBe(true);
    const s = sample('fwe');
    const text = body(s.messages[0]!.content, 'three most frequently appeared coded words. ', '\nQuestion:');
    const f = new Map<string, number>();
    for (const w of text.split(' ')) f.set(w, (f.get(w) ?? 0) + 1);
    const ranked = [...f.entries()].sort((a, b) => b[1] - a[1]).map(([w]) => w);
    expect(ranked[0]).toBe('...');
    expect(ranked.slice(1, 4)).toEqual(s.answers);
    expect(s.meta.vocabSize).toBe(Math.floor((4096 - 50) / 50));
  });

  it('qa_1 / qa_2: numbered documents with the gold ones among them', () => {
    const s = sample('qa_1', { index: 2 });
    expect(s.answers).toEqual(['Augustin Fresnel']);
    const docs = [...s.messages[0]!.content.matchAll(/Document (\d+):\n/g)].map((m) => Number(m[1]));
    expect(docs).toEqual(docs.map((_d, i) => i + 1));
    expect(s.messages[0]!.content).toContain('Fresnel lens, invented by Augustin Fresnel');
    expect(s.messages[0]!.content.endsWith('\n\nQuestion: Who invented the Fresnel lens?')).toBe(true);
    expect(s.answerPrefix).toBe(' Answer:');
    const h = sample('qa_2');
    expect(h.answers).toEqual(['Harbor Street Press']);
    expect(h.metric).toBe('string_match_part');
  });

  it('NIAH tasks report the first needle’s depth: an essay depth of RULER’s, or the needle line’s place in the haystack', () => {
    const essay = sample('niah_single_2', { index: 3 });
    expect(RULER_DEPTHS.map((d) => d / 100)).toContain(essay.meta.depth);
    const noise = sample('niah_single_1', { index: 3 });
    const lines = noise.messages[0]!.content.split('\n');
    const first = lines.findIndex((l) => l.startsWith('One of the special magic numbers'));
    const haystack = lines.filter((l) => l === NOISE_LINE || l.startsWith('One of the special magic numbers'));
    expect(noise.meta.depth).toBeCloseTo((first - lines.indexOf(haystack[0]!)) / (haystack.length - 1), 2);
    expect(sample('vt').meta.depth).toBeUndefined();
  });

  it("RULER's essay depths: round(linspace(0, 100, 40))", () => {
    expect(RULER_DEPTHS).toEqual([0, 3, 5, 8, 10, 13, 15, 18, 21, 23, 26, 28, 31, 33, 36, 38, 41, 44, 46, 49, 51, 54, 56, 59, 62, 64, 67, 69, 72, 74, 77, 79, 82, 85, 87, 90, 92, 95, 97, 100]);
  });
});
