import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { loadCorpusFromTexts, type Corpus } from '../corpus';
import { NiahError } from '../errors';

/**
 * Reads every .txt file of a folder (sorted by name, not recursive) as one document each —
 * how users bring their own haystack (e.g. Paul Graham's essays, which ctxlab cannot ship).
 */
export async function loadCorpusFromFolder(dir: string, opts: { name?: string; language?: string } = {}): Promise<Corpus> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((f) => f.toLowerCase().endsWith('.txt')).sort();
  } catch (e) {
    throw new NiahError('UNKNOWN_CORPUS', `cannot read corpus folder ${dir}: ${(e as Error).message}`);
  }
  if (names.length === 0) throw new NiahError('EMPTY_CORPUS', `corpus folder ${dir} has no .txt files`);
  const documents = await Promise.all(names.map(async (f) => ({ name: f, text: await readFile(join(dir, f), 'utf8') })));
  return loadCorpusFromTexts(opts.name ?? basename(dir), documents, { language: opts.language ?? 'en' });
}
