import { getTokenizer } from '@ctxlab/tokenizers';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeChatWithMask } from '../tokenize';
import { prepareDataset, type PrepareProgress } from './prepare';
import { FIXTURES, readRecords, splitDocuments, tempDir, type EasyContextRecord } from './testing';

const tok = getTokenizer('llama3');
const BOS = tok.special.bos.id;
const EOS = tok.special.eos.id;

const TEXT_FILES = ['alpha.txt', 'beta.md', 'nested/gamma.txt'];
const sources = [
  { name: 'notes', kind: 'text-folder', path: join(FIXTURES, 'text') },
  { name: 'docs', kind: 'jsonl', path: join(FIXTURES, 'docs.jsonl') },
  { name: 'chats', kind: 'chat-jsonl', path: join(FIXTURES, 'chat.jsonl') },
] as const;

async function fixtureDocuments() {
  const texts = await Promise.all(TEXT_FILES.map((f) => readFile(join(FIXTURES, 'text', f), 'utf8')));
  const lines = (await readFile(join(FIXTURES, 'docs.jsonl'), 'utf8')).split('\n').filter((l) => l.trim());
  const docs = lines.map((l) => (JSON.parse(l) as { text: string }).text);
  const chatLines = (await readFile(join(FIXTURES, 'chat.jsonl'), 'utf8')).split('\n').filter((l) => l.trim());
  const chats = chatLines.map((l) => (JSON.parse(l) as { messages: { role: string; content: string }[] }).messages);
  return { texts: [...texts, ...docs], chats };
}

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups) await c();
  cleanups = [];
});
async function outDir(): Promise<string> {
  const t = await tempDir();
  cleanups.push(t.cleanup);
  return join(t.dir, 'out');
}

describe('prepareDataset, EasyContext format, Llama-3', () => {
  it('packs BOS + document + EOS in source order into records of seqLength + 1, token for token', async () => {
    const out = await outDir();
    const seqLength = 63;
    const result = await prepareDataset({ format: 'easycontext', seqLength, sources: [...sources], lossMask: true }, { tokenizer: tok, outDir: out });
    const records = await readRecords<EasyContextRecord>(out, result.shards);

    // Every record has exactly seqLength + 1 ids (and a mask of the same length).
    expect(records.length).toBe(result.stats.sequences);
    for (const r of records) {
      expect(r.input_ids).toHaveLength(seqLength + 1);
      expect(r.loss_mask).toHaveLength(seqLength + 1);
    }

    // The expected stream, built independently from the source files, in plan order.
    const { texts, chats } = await fixtureDocuments();
    const expectedIds: number[] = [];
    const expectedMask: number[] = [];
    for (const t of texts) {
      const ids = [BOS, ...tok.encode(t), EOS];
      expectedIds.push(...ids);
      expectedMask.push(...ids.map(() => 1));
    }
    for (const c of chats) {
      const ids = tok.encodeChat(c, { addGenerationPrompt: false });
      const { mask } = encodeChatWithMask(tok, c);
      expectedIds.push(...ids, EOS);
      expectedMask.push(...mask, 0);
    }
    const flat = records.flatMap((r) => r.input_ids);
    const flatMask = records.flatMap((r) => r.loss_mask!);
    expect(flat).toEqual(expectedIds.slice(0, flat.length));
    expect(flatMask).toEqual(expectedMask.slice(0, flat.length));
    // Only the partial last record is dropped.
    expect(expectedIds.length - flat.length).toBeGreaterThanOrEqual(0);
    expect(expectedIds.length - flat.length).toBeLessThan(seqLength + 1);
    expect(result.stats.tokensDropped).toBe(expectedIds.length - flat.length);
    expect(result.stats.tokens).toBe(flat.length);

    // Decoding the documents between BOS … EOS gives the sources back, in order.
    const decoded = splitDocuments(flat, BOS, EOS).map((ids) => tok.decode(ids));
    expect(decoded.slice(0, texts.length)).toEqual(texts);
  });

  it('masks exactly the assistant replies and the token closing each of their turns', async () => {
    const out = await outDir();
    const result = await prepareDataset({ format: 'easycontext', seqLength: 31, sources: [sources[2]], lossMask: true }, { tokenizer: tok, outDir: out });
    const records = await readRecords<EasyContextRecord>(out, result.shards);
    const ids = records.flatMap((r) => r.input_ids);
    const mask = records.flatMap((r) => r.loss_mask!);
    const { chats } = await fixtureDocuments();
    // The masked tokens of the whole stream decode to the (trimmed) replies, each followed by <|eot_id|>.
    const masked = tok.decode(ids.filter((_, i) => mask[i] === 1));
    const replies = chats.flatMap((c) => c.filter((m) => m.role === 'assistant').map((m) => `${m.content.trim()}<|eot_id|>`)).join('');
    expect(replies.startsWith(masked)).toBe(true);
    expect(masked.length).toBeGreaterThan(replies.length / 2);
    // And nothing of the user or system turns, nor headers, is masked.
    expect(masked).not.toContain('assistant');
    expect(masked).not.toContain('capital');
  });

  it('writes load_dataset-ready shards with their sha256, size and counts, and a manifest', async () => {
    const out = await outDir();
    const filler = Array.from({ length: 400 }, (_, i) => JSON.stringify({ text: `Line ${i}: ${'the harbour wall holds against the winter sea. '.repeat(8)}` })).join('\n');
    const t = await tempDir();
    cleanups.push(t.cleanup);
    await writeFile(join(t.dir, 'big.jsonl'), filler);
    const result = await prepareDataset(
      { format: 'easycontext', seqLength: 255, maxShardBytes: 65536, sources: [{ name: 'big', kind: 'jsonl', path: join(t.dir, 'big.jsonl') }] },
      { tokenizer: tok, outDir: out },
    );
    expect(result.shards.length).toBeGreaterThan(2);
    const n = String(result.shards.length).padStart(5, '0');
    expect(result.shards.map((s) => s.path)).toEqual(result.shards.map((_, i) => `data/train-${String(i).padStart(5, '0')}-of-${n}.jsonl`));
    for (const s of result.shards) {
      const bytes = await readFile(join(out, s.path));
      expect(s.bytes).toBe(bytes.length);
      expect(s.bytes).toBeLessThanOrEqual(65536);
      expect(s.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      const lines = bytes.toString('utf8').split('\n').filter(Boolean);
      expect(s.sequences).toBe(lines.length);
      expect(s.tokens).toBe(lines.length * 256);
    }
    // Nothing else in data/ (no temp files), and the manifest on disk is the one returned.
    expect((await readdir(join(out, 'data'))).sort()).toEqual(result.shards.map((s) => s.path.slice('data/'.length)).sort());
    expect((await readdir(out)).sort()).toEqual(['data', 'manifest.json']);
    const manifest = JSON.parse(await readFile(result.manifestPath, 'utf8')) as typeof result.manifest;
    expect(manifest).toEqual(JSON.parse(JSON.stringify(result.manifest)));
    expect(manifest).toMatchObject({ format: 'easycontext', seqLength: 255, recordTokens: 256, packing: 'pack', tokenizer: { name: tok.name, bos: { id: BOS }, eos: { id: EOS } } });
    expect(manifest.trainerArgs).toEqual(['--dataset', out, '--seq-length', '255']);
    expect(manifest.stats.perSource.big!.tokensOut).toBe(manifest.stats.tokens);
  });

  it('chunk mode cuts each document alone and drops remainders and short documents', async () => {
    const out = await outDir();
    const seqLength = 16;
    const result = await prepareDataset({ format: 'easycontext', seqLength, packing: 'chunk', sources: [sources[0], sources[1]] }, { tokenizer: tok, outDir: out });
    const records = await readRecords<EasyContextRecord>(out, result.shards);
    const { texts } = await fixtureDocuments();
    const expected: number[][] = [];
    for (const t of texts) {
      const ids = [BOS, ...tok.encode(t), EOS];
      for (let i = 0; i + seqLength + 1 <= ids.length; i += seqLength + 1) expected.push(ids.slice(i, i + seqLength + 1));
    }
    expect(records.map((r) => r.input_ids)).toEqual(expected);
    expect(result.stats.tokensDropped).toBe(texts.reduce((a, t) => a + ((tok.encode(t).length + 2) % (seqLength + 1)), 0));
  });

  it('streams a text file larger than one segment and tokenises it exactly as a whole', async () => {
    const t = await tempDir();
    cleanups.push(t.cleanup);
    const paragraph = 'Tide tables, 2024: high water 06:42 (4.1 m), low water 12:58 (0.9 m); naïve café 東京 🚀.\n';
    const text = Array.from({ length: 30_000 }, (_, i) => `${i} ${paragraph}`).join('');
    expect(text.length).toBeGreaterThan(2 * (1 << 20));
    await writeFile(join(t.dir, 'long.txt'), text);
    const out = await outDir();
    const result = await prepareDataset({ format: 'easycontext', seqLength: 4095, sources: [{ name: 'long', kind: 'text-folder', path: t.dir }] }, { tokenizer: tok, outDir: out });
    const flat = (await readRecords<EasyContextRecord>(out, result.shards)).flatMap((r) => r.input_ids);
    const whole = [BOS, ...tok.encode(text), EOS];
    expect(flat).toEqual(whole.slice(0, flat.length));
    expect(whole.length - flat.length).toBeLessThan(4096);
  });

  it('reports progress up to every byte of the sources', async () => {
    const out = await outDir();
    const seen: PrepareProgress[] = [];
    const result = await prepareDataset({ format: 'easycontext', seqLength: 31, sources: [...sources] }, { tokenizer: tok, outDir: out, onProgress: (p) => seen.push(p) });
    const sizes = await Promise.all([...TEXT_FILES.map((f) => join(FIXTURES, 'text', f)), join(FIXTURES, 'docs.jsonl'), join(FIXTURES, 'chat.jsonl')].map(async (f) => (await stat(f)).size));
    const total = sizes.reduce((a, b) => a + b, 0);
    const last = seen[seen.length - 1]!;
    expect(last).toEqual({ bytesRead: total, bytesTotal: total, tokens: result.stats.tokens, sequences: result.stats.sequences });
  });

  it('stops on abort and leaves no shard behind', async () => {
    const out = await outDir();
    const controller = new AbortController();
    controller.abort();
    await expect(prepareDataset({ format: 'easycontext', seqLength: 31, sources: [...sources] }, { tokenizer: tok, outDir: out, signal: controller.signal })).rejects.toThrow(/abort/i);
    expect(await readdir(join(out, 'data'))).toEqual([]);
  });
});
