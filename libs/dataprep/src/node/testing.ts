import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ShardInfo } from './shards';

/** The committed fixtures (src/fixtures). */
export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** A fresh temp directory per test, removed by the returned cleanup. */
export async function tempDir(prefix = 'dataprep-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Every JSON Lines record of the shards, in shard order, parsed. */
export async function readRecords<T>(outDir: string, shards: readonly ShardInfo[]): Promise<T[]> {
  const out: T[] = [];
  for (const s of shards) {
    const text = await readFile(join(outDir, s.path), 'utf8');
    for (const line of text.split('\n')) if (line) out.push(JSON.parse(line) as T);
  }
  return out;
}

export interface EasyContextRecord {
  input_ids: number[];
  loss_mask?: number[];
}

/** Splits a token stream at BOS … EOS pairs into the documents between them (ids without separators). */
export function splitDocuments(ids: readonly number[], bos: number, eos: number): number[][] {
  const docs: number[][] = [];
  let current: number[] | null = null;
  for (const id of ids) {
    if (id === bos && current === null) current = [];
    else if (id === eos && current !== null) {
      docs.push(current);
      current = null;
    } else current?.push(id);
  }
  return docs;
}
