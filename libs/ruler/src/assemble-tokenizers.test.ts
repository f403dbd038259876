import { loadDefaultCorpus } from '@ctxlab/niah/node';
import { getTokenizer } from '@ctxlab/tokenizers';
import { describe, expect, it } from 'vitest';
import { loadWordLists } from './node';
import { generateRulerSample } from './sample';
import { RULER_TASKS, type RulerTaskName } from './tasks/config';

/**
 * RULER prompts of exact length with the generic Hugging Face tokenizers: Llama-2
 * (SentencePiece) and Qwen2.5 (byte-level BPE). verify: true re-tokenises each templated prompt
 * from scratch and compares the ids.
 */
const words = loadWordLists();
const corpus = loadDefaultCorpus('sotu-en');

describe('exact RULER prompt lengths with llama2 and qwen2.5', () => {
  it.each([
    ['llama2', 'niah_single_1'],
    ['qwen2.5', 'niah_single_1'],
    ['llama2', 'niah_multikey_1'],
    ['qwen2.5', 'niah_multikey_1'],
  ] as const)('%s, %s: with and without the chat template', (name, task: RulerTaskName) => {
    const tokenizer = getTokenizer(name);
    for (const length of [4096, 6000]) {
      for (const chatTemplate of [true, false]) {
        const s = generateRulerSample({ task, length, seed: 7, index: length, tokenizer, words, corpus, chatTemplate, verify: true });
        expect(s.inputTokens + s.maxNewTokens).toBe(length);
        expect(s.promptIds.length).toBe(s.inputTokens);
        expect(s.maxNewTokens).toBe(RULER_TASKS[task].tokensToGenerate);
        // A plain prompt starts as the tokenizer encodes a whole text: Llama-2's first word carries its "▁".
        if (!chatTemplate) expect([...s.promptIds.slice(0, 4)]).toEqual(tokenizer.encode(s.messages[0]!.content, { addBos: true }).slice(0, 4));
      }
    }
  });
});
