import type { Tokenizer } from '@ctxlab/tokenizers';
import type { LengthSampler } from '../mix';
import type { SourceStats } from '../stats';
import type { ShardInfo } from './shards';
import type { SourceDocument } from './sources';

/** What prepareDataset needs from an output format. */
export interface FormatRun {
  /** Writes one document (or skips it) and returns the tokens it added to the output. */
  document(source: number, doc: SourceDocument, sampler: LengthSampler): Promise<number>;
  /** Flushes what is left and names the shards. */
  finish(): Promise<ShardInfo[]>;
  /** Removes every temp file after a failure or an abort. */
  abort(): Promise<void>;
  /** Records and tokens written so far. */
  readonly sequences: number;
  readonly tokens: number;
}

export interface RunContext {
  tok: Tokenizer;
  outDir: string;
  seqLength: number;
  maxShardBytes: number;
  /** Per source, in plan order; the run fills documents, tokens in/out/dropped. */
  stats: SourceStats[];
  /** Called after every record written. */
  onRecord(): void;
}
