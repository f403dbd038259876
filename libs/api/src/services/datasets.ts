import { type CorpusImportInput } from '@ctxlab/contracts';
import type { Repositories } from '@ctxlab/db';
import { corpusTokenCount, loadCorpusFromTexts } from '@ctxlab/niah';
import { getTokenizer } from '@ctxlab/tokenizers';

/**
 * Imports a user's corpus as a haystack dataset: its digest (sha256 over the normalised
 * documents) and its token counts with every tokenizer the engine knows are recorded with it.
 */
export async function importCorpus(repos: Repositories, input: CorpusImportInput) {
  const corpus = loadCorpusFromTexts(input.name, input.documents, { language: input.language });
  const tokenCounts = Object.fromEntries(['llama3', 'byte'].map((t) => [t, corpusTokenCount(corpus, getTokenizer(t))]));
  const bytes = input.documents.reduce((n, d) => n + Buffer.byteLength(d.text, 'utf8'), 0);
  return repos.datasets.importCorpus(
    {
      name: input.name,
      kind: 'haystack',
      description: input.description,
      source: input.source,
      license: input.license,
      language: input.language,
      documents: input.documents.length,
      bytes,
      tokenCounts,
      digest: `sha256:${corpus.digest()}`,
      tags: ['imported'],
    },
    input.documents,
  );
}
