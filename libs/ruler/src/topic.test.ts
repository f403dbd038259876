import { loadCorpusFromTexts } from '@ctxlab/niah';
import { getTokenizer } from '@ctxlab/tokenizers';
import { describe, expect, it } from 'vitest';
import { generateTopicRetrievalSample, scoreTopic } from './topic';

const paragraph = (topic: string, n: number) =>
  Array.from({ length: n }, (_v, i) => `Point ${i + 1} about ${topic}: it matters for reasons worth a careful look, and people disagree about it.`).join(' ');
const corpus = loadCorpusFromTexts(
  'topics',
  ['The psychology of happiness', 'Urban beekeeping', 'The history of the bicycle', 'Tidal energy', 'Learning to juggle'].map((name) => ({ name, text: paragraph(name, 60) })),
);

describe('topic retrieval', () => {
  it('builds a record of N topics at an exact length and asks for the first (or k-th)', () => {
    for (const tokenizer of [getTokenizer('llama3'), getTokenizer('byte')]) {
      for (const chatTemplate of [true, false]) {
        const s = generateTopicRetrievalSample({ length: 1500, topics: 4, seed: 1, index: 0, tokenizer, chatTemplate, corpus, verify: true });
        expect(s.inputTokens).toBe(1500);
        expect(s.topics).toHaveLength(4);
        expect(s.answer).toBe(s.topics[0]);
        const text = s.messages[0]!.content;
        const order = s.topics.map((t) => text.indexOf(`USER: I would like to discuss the topic of ${t}.`));
        expect(order.every((p, i) => p > 0 && (i === 0 || p > order[i - 1]!))).toBe(true);
        expect(text).toContain('What is the first topic(s) we discussed?');
      }
    }
    const third = generateTopicRetrievalSample({ length: 1200, topics: 3, ask: 3, seed: 1, index: 0, tokenizer: getTokenizer('llama3'), corpus });
    expect(third.answer).toBe(third.topics[2]);
    expect(third.messages[0]!.content).toContain('What is the third topic(s) we discussed?');
  });

  it('says when the request cannot be met', () => {
    const tokenizer = getTokenizer('llama3');
    expect(() => generateTopicRetrievalSample({ length: 1500, topics: 9, seed: 1, index: 0, tokenizer, corpus })).toThrow(/fewer than the 9 topics/);
    expect(() => generateTopicRetrievalSample({ length: 60_000, topics: 2, seed: 1, index: 0, tokenizer, corpus })).toThrow(/too short/);
    expect(() => generateTopicRetrievalSample({ length: 1500, topics: 2, ask: 3, seed: 1, index: 0, tokenizer, corpus })).toThrow(/ask must be/);
  });

  it('scores an exact topic match, ignoring case, punctuation and spacing', () => {
    expect(scoreTopic('The first topic was "urban  beekeeping".', 'Urban beekeeping')).toBe(100);
    expect(scoreTopic('Beekeeping in cities', 'Urban beekeeping')).toBe(0);
    expect(scoreTopic('tidal energy systems', 'Tidal energy')).toBe(100);
    expect(scoreTopic('subtidal energy', 'Tidal energy')).toBe(0);
  });
});
