/** Node-only helpers (file system): import from '@ctxlab/niah/node'. */
export { loadCorpusFromFolder } from './folder';
export { DEFAULT_CORPORA, type DefaultCorpusName, loadDefaultCorpus } from './default-corpora';
export { loadNiahContext, niahCellsForSpec } from './context';
export { readResultsFile, resultsFileSink } from './results-file';
