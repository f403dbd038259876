/** Node-only: reading sources from disk and writing shards. Import from '@ctxlab/dataprep/node'. */
export { prepareDataset, type PrepareOptions, type PrepareProgress, type PrepareResult } from './prepare';
export { buildManifest, MANIFEST_FILE, type DatasetManifest } from './manifest';
export { ShardSeries, type ShardInfo } from './shards';
export { ByteMeter, readDocuments, resolveSource, type ResolvedSource, type SourceDocument } from './sources';
