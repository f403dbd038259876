import { getTokenizer } from '@ctxlab/tokenizers';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataprepError } from '../errors';
import type { PreparePlanInput } from '../plan';
import { prepareDataset } from './prepare';
import { FIXTURES, tempDir } from './testing';

const tok = getTokenizer('byte');
let dir = '';
let cleanup: () => Promise<void> = async () => undefined;
let runs = 0;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterAll(() => cleanup());

/** Runs the plan into a fresh directory and returns the error it throws, with what it left in data/. */
async function failure(plan: PreparePlanInput): Promise<{ error: DataprepError; left: string[] }> {
  const outDir = join(dir, `out-${runs++}`);
  try {
    await prepareDataset(plan, { tokenizer: tok, outDir });
  } catch (e) {
    const left = await readdir(join(outDir, 'data')).catch(() => []);
    if (e instanceof DataprepError) return { error: e, left };
    throw e;
  }
  throw new Error('expected prepareDataset to fail');
}

const bad = (file: string) => join(FIXTURES, 'bad', file);
const jsonl = (path: string, extra: object = {}): PreparePlanInput => ({ format: 'easycontext', seqLength: 32, sources: [{ name: 's', kind: 'jsonl', path, ...extra }] });

describe('bad inputs name the file, line and field', () => {
  it('a missing text field', async () => {
    const { error, left } = await failure(jsonl(bad('missing-field.jsonl')));
    expect(error.message).toBe(`${bad('missing-field.jsonl')}:2: field "text" is missing`);
    expect(error).toMatchObject({ code: 'INVALID_SOURCE', file: bad('missing-field.jsonl'), line: 2, field: 'text' });
    expect(left).toEqual([]);
  });

  it('a configured field name', async () => {
    const { error } = await failure(jsonl(join(FIXTURES, 'docs.jsonl'), { field: 'body' }));
    expect(error.message).toBe(`${join(FIXTURES, 'docs.jsonl')}:1: field "body" is missing`);
  });

  it('a line that is not JSON', async () => {
    const { error } = await failure(jsonl(bad('invalid-json.jsonl')));
    expect(error.message).toMatch(new RegExp(`^${bad('invalid-json.jsonl').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: invalid JSON: `));
    expect(error.line).toBe(3);
  });

  it('a chat message without content', async () => {
    const { error } = await failure({ format: 'easycontext', seqLength: 32, sources: [{ name: 'c', kind: 'chat-jsonl', path: bad('chat-missing-content.jsonl') }] });
    expect(error.message).toBe(`${bad('chat-missing-content.jsonl')}:1: field "messages[1].content" is missing`);
    expect(error.field).toBe('messages[1].content');
  });

  it('a chat longllm_qlora cannot load (two user turns in a row)', async () => {
    const { error } = await failure({ format: 'longllm-qlora', seqLength: 64, sources: [{ name: 'c', kind: 'chat-jsonl', path: bad('chat-two-user-turns.jsonl') }] });
    expect(error.message).toContain(`${bad('chat-two-user-turns.jsonl')}:1: messages[1].role is "user"`);
    expect(error.field).toBe('messages[1].role');
  });

  it('ratios that do not sum to 1', async () => {
    const { error } = await failure({
      format: 'easycontext',
      seqLength: 32,
      sources: [
        { name: 'a', kind: 'jsonl', path: join(FIXTURES, 'docs.jsonl'), ratio: 0.5 },
        { name: 'b', kind: 'jsonl', path: join(FIXTURES, 'docs.jsonl'), ratio: 0.4 },
      ],
    });
    expect(error.message).toBe('invalid plan: sources: ratios sum to 0.9 (a 0.5, b 0.4); they must sum to 1');
    expect(error).toMatchObject({ code: 'INVALID_PLAN', field: 'sources' });
  });

  it('a source path that does not exist', async () => {
    const missing = join(dir, 'nowhere.jsonl');
    const { error } = await failure(jsonl(missing));
    expect(error.message).toBe(`${missing}: sources[0].path does not exist`);
    expect(error.field).toBe('sources[0].path');
  });

  it('a text folder without text files', async () => {
    const empty = join(dir, 'empty-folder');
    await mkdir(empty);
    await writeFile(join(empty, 'data.csv'), 'a,b\n');
    const { error } = await failure({ format: 'easycontext', seqLength: 32, sources: [{ name: 't', kind: 'text-folder', path: empty }] });
    expect(error.message).toBe(`${empty}: sources[0].path holds no .txt or .md file`);
  });

  it('an output directory that is not empty', async () => {
    const used = join(dir, 'used');
    await mkdir(used);
    await writeFile(join(used, 'keep.txt'), 'x');
    await expect(prepareDataset(jsonl(join(FIXTURES, 'docs.jsonl')), { tokenizer: tok, outDir: used })).rejects.toThrow(`outDir ${used} is not empty (it holds keep.txt)`);
  });

  it('a source that cannot be repeated because it yields nothing', async () => {
    const blank = join(dir, 'blank.jsonl');
    await writeFile(blank, '{"text": ""}\n');
    const { error } = await failure({
      format: 'easycontext',
      seqLength: 32,
      maxTokens: 1000,
      sources: [
        { name: 'blank', kind: 'jsonl', path: blank, ratio: 0.5 },
        { name: 'docs', kind: 'jsonl', path: join(FIXTURES, 'docs.jsonl'), ratio: 0.5 },
      ],
    });
    expect(error.message).toBe('source "blank" gave no tokens in a whole pass, so it cannot be repeated to its ratio');
    expect(error.field).toBe('sources[0]');
  });
});

describe('output that would be empty', () => {
  it('is refused, naming how many tokens the sources gave', async () => {
    const { error, left } = await failure({ format: 'easycontext', seqLength: 65536, sources: [{ name: 'docs', kind: 'jsonl', path: join(FIXTURES, 'docs.jsonl') }] });
    expect(error.message).toMatch(/^no record was written: the sources gave \d+ tokens \(4 documents kept\), not enough for one record of 65537 tokens$/);
    expect(left).toEqual([]);
  });
});
