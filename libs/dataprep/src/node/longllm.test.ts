import { getTokenizer, type ChatMessage } from '@ctxlab/tokenizers';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareDataset } from './prepare';
import { FIXTURES, readRecords, tempDir } from './testing';

const tok = getTokenizer('llama3');
let dir = '';
let cleanup: () => Promise<void> = async () => undefined;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterAll(() => cleanup());

describe('prepareDataset, longllm_qlora format', () => {
  it('writes texts as {"text"} pieces that re-tokenise within --max_length, and chats as {"conversations"}', async () => {
    const seqLength = 48;
    const outDir = join(dir, 'out');
    const result = await prepareDataset(
      {
        format: 'longllm-qlora',
        seqLength,
        sources: [
          { name: 'notes', kind: 'text-folder', path: join(FIXTURES, 'text') },
          { name: 'docs', kind: 'jsonl', path: join(FIXTURES, 'docs.jsonl') },
          { name: 'chats', kind: 'chat-jsonl', path: join(FIXTURES, 'chat.jsonl') },
        ],
      },
      { tokenizer: tok, outDir },
    );
    // Texts and chats never share a file (the loader picks the task by column).
    expect(result.shards.map((s) => s.path)).toEqual(['data/text-00000-of-00001.jsonl', 'data/conversations-00000-of-00001.jsonl']);
    const [textShard, chatShard] = result.shards;

    const texts = await readRecords<{ text: string }>(outDir, [textShard!]);
    const sourceTexts = [
      ...(await Promise.all(['alpha.txt', 'beta.md', 'nested/gamma.txt'].map((f) => readFile(join(FIXTURES, 'text', f), 'utf8')))),
      ...(await readFile(join(FIXTURES, 'docs.jsonl'), 'utf8'))
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => (JSON.parse(l) as { text: string }).text),
    ];
    // Pieces in order rebuild the documents; each fits with the BOS and EOS the loader adds, and
    // the pieces' tokens are exactly the documents' tokens.
    expect(texts.map((t) => t.text).join('')).toBe(sourceTexts.join(''));
    for (const t of texts) expect(tok.encode(t.text).length).toBeLessThanOrEqual(seqLength - 2);
    expect(texts.flatMap((t) => tok.encode(t.text))).toEqual(sourceTexts.flatMap((t) => tok.encode(t)));
    expect(texts.length).toBeGreaterThan(sourceTexts.length);

    // Chats: a leading system message dropped (as the loader does), the rest verbatim; chats longer
    // than seqLength skipped (as the loader does).
    const chats = await readRecords<{ conversations: ChatMessage[] }>(outDir, [chatShard!]);
    const inputs = (await readFile(join(FIXTURES, 'chat.jsonl'), 'utf8'))
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => (JSON.parse(l) as { messages: ChatMessage[] }).messages.filter((m, i) => !(i === 0 && m.role === 'system')));
    const fitting = inputs.filter((m) => tok.encodeChat(m, { addGenerationPrompt: false }).length <= seqLength);
    expect(fitting.length).toBeLessThan(inputs.length);
    expect(chats.map((c) => c.conversations)).toEqual(fitting);
    expect(result.stats.perSource.chats!.documentsKept).toBe(fitting.length);
    expect(result.manifest.trainerArgs).toEqual(['--train_data', join(outDir, textShard!.path), join(outDir, chatShard!.path), '--max_length', String(seqLength)]);
  });
});
