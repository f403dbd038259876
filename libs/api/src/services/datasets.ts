import { type CorpusImportInput } from '@ctxlab/contracts';
import type { Repositories } from '@ctxlab/db';
import { corpusTokenCountYielding, loadCorpusFromTexts } from '@ctxlab/niah';
import { getTokenizer } from '@ctxlab/tokenizers';

/**
 * Imports a user's corpus as a haystack dataset: its digest (sha256 over the normalised
 * documents) and its token counts with every tokenizer the engine knows are recorded with it.
 */
export async function importCorpus(repos: Repositories, input: CorpusImportInput) {
  const corpus = loadCorpusFromTexts(input.name, input.documents, { language: input.language });
  // Document by document, yielding in between: the portal keeps answering while a large upload is counted.
  const tokenCounts: Record<string, number> = {};
  for (const t of ['llama3', 'byte']) tokenCounts[t] = await corpusTokenCountYielding(corpus, getTokenizer(t));
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
