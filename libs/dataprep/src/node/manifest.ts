import type { Tokenizer } from '@ctxlab/tokenizers';
import { rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DATASETS_REFERENCE, EASYCONTEXT, FU_ET_AL_REFERENCE, LONGLLM_QLORA, type OutputFormat } from '../formats';
import type { PreparePlan, SourceSpec } from '../plan';
import type { PrepareStats } from '../stats';
import type { ShardInfo } from './shards';

export const MANIFEST_FILE = 'manifest.json';

/** manifest.json: what the output directory holds and how it was made. */
export interface DatasetManifest {
  kind: 'ctxlab.dataset';
  version: 1;
  format: OutputFormat;
  createdAt: string;
  tokenizer: { name: string; vocabSize: number; bos: { id: number; text: string }; eos: { id: number; text: string } };
  seqLength: number;
  /** Tokens per record (EasyContext: seqLength + 1); null where records vary (longllm_qlora). */
  recordTokens: number | null;
  packing: 'pack' | 'chunk' | null;
  lossMask: boolean;
  /** How documents are delimited in the output. */
  separators: string;
  seed: number;
  maxTokens: number | null;
  sources: SourceSpec[];
  shards: ShardInfo[];
  stats: PrepareStats;
  /** The trainer's flags that read this directory. */
  trainerArgs: string[];
  references: string[];
}

export function buildManifest(plan: PreparePlan, tok: Tokenizer, outDir: string, shards: ShardInfo[], stats: PrepareStats): DatasetManifest {
  const easy = plan.format === 'easycontext';
  const special = (t: { id: number; text: string }) => ({ id: t.id, text: t.text });
  return {
    kind: 'ctxlab.dataset',
    version: 1,
    format: plan.format,
    createdAt: new Date().toISOString(),
    tokenizer: { name: tok.name, vocabSize: tok.vocabSize, bos: special(tok.special.bos), eos: special(tok.special.eos) },
    seqLength: plan.seqLength,
    recordTokens: easy ? EASYCONTEXT.recordTokens(plan.seqLength) : null,
    packing: easy ? plan.packing : null,
    lossMask: easy ? plan.lossMask : false,
    separators: easy
      ? `${tok.special.bos.text} before and ${tok.special.eos.text} after every document (chats: their template, then ${tok.special.eos.text})`
      : 'none: the loader adds BOS/EOS to texts and renders chats with its --chat_template',
    seed: plan.seed,
    maxTokens: plan.maxTokens ?? null,
    sources: plan.sources,
    shards,
    stats,
    trainerArgs: easy
      ? ['--dataset', outDir, '--seq-length', String(plan.seqLength)]
      : ['--train_data', ...shards.map((s) => join(outDir, s.path)), '--max_length', String(plan.seqLength)],
    references: [easy ? EASYCONTEXT.reference : LONGLLM_QLORA.reference, FU_ET_AL_REFERENCE, ...(easy ? [DATASETS_REFERENCE] : [])],
  };
}

/** Writes JSON through a temp file and a rename, so a reader never sees half of it. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.tmp`);
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, file);
}
