import { getTokenizer, type ChatMessage } from '@ctxlab/tokenizers';
import { describe, expect, it } from 'vitest';
import { cutSafeSegments, encodeChatWithMask } from './tokenize';

const llama3 = getTokenizer('llama3');

async function* chunks(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

describe('cutSafeSegments', () => {
  it('cuts a streamed text where the pieces tokenise exactly as the whole', async () => {
    const text = 'Mixed text: 12345678 numbers, "quotes", naïve café, 東京タワー, emoji 🚀🌊, spaces   and\n\n\nnewlines\r\nend. '.repeat(200);
    for (const size of [7, 64, 1000]) {
      const segments: string[] = [];
      for await (const s of cutSafeSegments(chunks(text, size), llama3, {}, 50)) segments.push(s);
      expect(segments.join('')).toBe(text);
      expect(segments.length).toBeGreaterThan(10);
      expect(segments.flatMap((s) => llama3.encode(s))).toEqual(llama3.encode(text));
    }
  });
});

describe('encodeChatWithMask', () => {
  const chats: ChatMessage[][] = [
    [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Capital of Peru?' },
      { role: 'assistant', content: ' Lima. ' },
    ],
    [
      { role: 'user', content: 'Say two things.' },
      { role: 'assistant', content: 'One.' },
      { role: 'user', content: 'And?' },
      { role: 'assistant', content: '' },
      { role: 'user', content: 'Again' },
      { role: 'assistant', content: 'Two — 🎉' },
    ],
  ];

  it.each(['llama3', 'byte', 'qwen2.5'])('%s: ids are encodeChat’s, and the mask covers exactly the replies and their turn ends', (name) => {
    const tok = getTokenizer(name);
    for (const chat of chats) {
      const { ids, mask } = encodeChatWithMask(tok, chat);
      expect(ids).toEqual(tok.encodeChat(chat, { addGenerationPrompt: false }));
      expect(mask).toHaveLength(ids.length);
      const masked = tok.decode(ids.filter((_, i) => mask[i] === 1));
      const replies = chat.filter((m) => m.role === 'assistant').map((m) => tok.normalizeContent(m.content));
      // Each reply's text, then the special that ends its turn.
      let rest = masked;
      for (const r of replies) {
        expect(rest.startsWith(r)).toBe(true);
        rest = rest.slice(r.length);
        const end = rest.match(/^(<\|eot_id\|>|<\|im_end\|>|<\/s>)/)?.[0];
        expect(end).toBeDefined();
        rest = rest.slice(end!.length);
      }
      expect(rest).toBe('');
    }
  });
});
