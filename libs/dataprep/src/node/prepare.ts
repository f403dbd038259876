import type { Tokenizer } from '@ctxlab/tokenizers';
import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DataprepError } from '../errors';
import { EASYCONTEXT } from '../formats';
import { LengthSampler, Mixer } from '../mix';
import { parsePlan, type PreparePlan, type PreparePlanInput } from '../plan';
import { emptySourceStats, type PrepareStats, type SourceStats } from '../stats';
import { easyContextRun } from './easycontext';
import { longllmRun } from './longllm';
import { buildManifest, MANIFEST_FILE, writeJsonAtomic, type DatasetManifest } from './manifest';
import type { FormatRun } from './run';
import type { ShardInfo } from './shards';
import { ByteMeter, readDocuments, resolveSource, type ResolvedSource, type SourceDocument } from './sources';

export interface PrepareProgress {
  /** Bytes read from the sources so far (a source read again counts again). */
  bytesRead: number;
  /** Bytes of all source files, once. */
  bytesTotal: number;
  /** Tokens and records written so far. */
  tokens: number;
  sequences: number;
}

export interface PrepareOptions {
  tokenizer: Tokenizer;
  /** A new or empty directory. */
  outDir: string;
  /** Called at most every 100 ms while records are written, and once at the end. */
  onProgress?: (p: PrepareProgress) => void;
  signal?: AbortSignal;
}

export interface PrepareResult {
  outDir: string;
  manifestPath: string;
  manifest: DatasetManifest;
  shards: ShardInfo[];
  stats: PrepareStats;
}

const PROGRESS_MS = 100;

async function prepareOutDir(outDir: string): Promise<void> {
  let entries: string[] = [];
  try {
    entries = await readdir(outDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new DataprepError('INVALID_OUTPUT', `outDir ${outDir} cannot be read: ${(e as Error).message}`, { file: outDir });
  }
  if (entries.length > 0) throw new DataprepError('INVALID_OUTPUT', `outDir ${outDir} is not empty (it holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}): prepare into a new or empty directory`, { file: outDir });
  await mkdir(join(outDir, 'data'), { recursive: true });
}

/**
 * Reads the plan's sources in the mixer's order, feeds each document to the format's run and
 * returns why it stopped. One document is in flight at a time, and a streamed text is held only
 * in segments, so memory does not grow with the corpus.
 */
async function drive(plan: PreparePlan, sources: ResolvedSource[], run: FormatRun, stats: SourceStats[], meter: ByteMeter, signal?: AbortSignal): Promise<PrepareStats['stoppedBy']> {
  const ratios = plan.sources[0]!.ratio === undefined ? null : plan.sources.map((s) => s.ratio!);
  const repeat = ratios !== null && plan.maxTokens !== undefined;
  const mixer = new Mixer(ratios, sources.length);
  const open: (AsyncIterator<SourceDocument> | null)[] = sources.map(() => null);
  const samplers: (LengthSampler | null)[] = sources.map(() => null);
  const epochTokens = sources.map(() => 0);
  try {
    for (;;) {
      signal?.throwIfAborted();
      if (plan.maxTokens !== undefined && mixer.total >= plan.maxTokens) return 'max-tokens';
      const s = mixer.next();
      if (s < 0) return 'sources-read';
      const spec = plan.sources[s]!;
      if (!open[s]) {
        const st = stats[s]!;
        st.epochs++;
        open[s] = readDocuments(sources[s]!, meter);
        samplers[s] = new LengthSampler(spec.lengthUpsample, plan.seed, spec.name, st.epochs);
        epochTokens[s] = 0;
      }
      const next = await open[s]!.next();
      if (next.done) {
        open[s] = null;
        if (!repeat) {
          if (ratios) return { exhausted: spec.name };
          mixer.retire(s);
        } else if (epochTokens[s] === 0) {
          throw new DataprepError('UNPREPARABLE', `source "${spec.name}" gave no tokens in a whole pass, so it cannot be repeated to its ratio`, { field: `sources[${s}]` });
        }
        continue;
      }
      const added = await run.document(s, next.value, samplers[s]!);
      epochTokens[s]! += added;
      mixer.add(s, added);
    }
  } finally {
    // Sources left part-read (output stopped early, or an error) close their files.
    for (const it of open) await it?.return?.();
  }
}

/**
 * Prepares training data for one recipe stage: reads the plan's sources, tokenises, up-samples
 * long documents, mixes sources by ratio, writes shards in the target trainer's format and a
 * manifest.json describing them. On failure or abort the temp files are removed and nothing
 * loadable is left behind.
 */
export async function prepareDataset(planInput: PreparePlanInput, opts: PrepareOptions): Promise<PrepareResult> {
  const plan = parsePlan(planInput);
  const sources = await Promise.all(plan.sources.map((s, i) => resolveSource(s, i)));
  const outDir = resolve(opts.outDir);
  await prepareOutDir(outDir);

  const meter = new ByteMeter();
  const bytesTotal = sources.reduce((a, s) => a + s.bytes, 0);
  const stats = plan.sources.map(() => emptySourceStats());
  let lastProgress = 0;
  const progress = (force: boolean) => {
    if (!opts.onProgress) return;
    const now = performance.now();
    if (!force && now - lastProgress < PROGRESS_MS) return;
    lastProgress = now;
    opts.onProgress({ bytesRead: meter.bytesRead, bytesTotal, tokens: run.tokens, sequences: run.sequences });
  };
  const ctx = { tok: opts.tokenizer, outDir, seqLength: plan.seqLength, maxShardBytes: plan.maxShardBytes, stats, onRecord: () => progress(false) };
  const run = plan.format === 'easycontext' ? easyContextRun(ctx, plan) : longllmRun(ctx);

  let shards: ShardInfo[];
  let stoppedBy: PrepareStats['stoppedBy'];
  try {
    stoppedBy = await drive(plan, sources, run, stats, meter, opts.signal);
    shards = await run.finish();
    if (run.sequences === 0) {
      const read = stats.reduce((a, s) => a + s.tokensIn, 0);
      const what = plan.format === 'easycontext' ? `one record of ${EASYCONTEXT.recordTokens(plan.seqLength)} tokens` : 'one record';
      throw new DataprepError('UNPREPARABLE', `no record was written: the sources gave ${read} tokens (${stats.reduce((a, s) => a + s.documentsKept, 0)} documents kept), not enough for ${what}`, { field: 'sources' });
    }
  } catch (e) {
    await run.abort();
    throw e;
  }
  progress(true);
  const summary: PrepareStats = {
    tokens: run.tokens,
    sequences: run.sequences,
    documents: stats.reduce((a, s) => a + s.documents, 0),
    tokensDropped: stats.reduce((a, s) => a + s.tokensDropped, 0),
    stoppedBy,
    perSource: Object.fromEntries(plan.sources.map((s, i) => [s.name, stats[i]!])),
  };
  const manifest = buildManifest(plan, opts.tokenizer, outDir, shards, summary);
  const manifestPath = join(outDir, MANIFEST_FILE);
  await writeJsonAtomic(manifestPath, manifest);
  return { outDir, manifestPath, manifest, shards, stats: summary };
}
