/**
 * Prepares a training dataset on the worker: stages its sources (an imported corpus's documents
 * from PostgreSQL as text files, file:// paths as they are, s3:// objects downloaded), runs
 * libs/dataprep into a scratch directory, publishes the shards at the output URI (moved into
 * place, or uploaded with the manifest last), and only then registers the dataset with its
 * lineage. A failure anywhere leaves no registered dataset and no output.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Repositories } from '@ctxlab/db';
import type { Artifacts } from '@ctxlab/dispatch';
import type { PreparePlanInput } from '@ctxlab/dataprep';
import { prepareDataset, type PrepareResult } from '@ctxlab/dataprep/node';
import { getTokenizer } from '@ctxlab/tokenizers';
import { clearStaging, ensureTokenizer, stageIn, stageOut, unpublish } from '../artifact-staging';
import { leased, type JobLease } from '../lease';
import { canStart, canTransition } from '../statuses';
import type { DatasetPreparePayload, PrepareJobSource, PrepareJobSpec } from './payload';

export interface DatasetPrepareDeps {
  repos: Repositories;
  workerName: string;
  leaseMs: number;
  artifacts: Artifacts;
  /** Scratch space: each job works in <workRoot>/prepare-<jobId>, removed when it ends. */
  workRoot: string;
  onCancel: (jobId: string, fn: () => void) => () => void;
}

/** A source's name in the plan and manifest (the dataprep lib's rule: letters, digits, "_", "." and "-"). */
const planName = (s: PrepareJobSource, i: number) => `${i}-${s.name}`.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64);

/** The documents of an imported corpus written out as numbered text files, in order. */
async function corpusFiles(repos: Repositories, datasetId: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const docs = await repos.datasets.documents(datasetId);
  const width = String(docs.length).length;
  for (const [i, d] of docs.entries()) await writeFile(join(dir, `${String(i).padStart(width, '0')}.txt`), d.text);
}

const fmtInt = (n: number) => n.toLocaleString('en-US');

/** The sources' language when they share one, else ISO 639's "mul" (multiple languages). */
function languageOf(sources: readonly PrepareJobSource[]): string {
  const langs = new Set(sources.map((s) => s.language ?? 'en'));
  return langs.size === 1 ? [...langs][0]! : 'mul';
}

export function datasetPrepareProcessor(deps: DatasetPrepareDeps) {
  return leased(deps.repos, deps.workerName, deps.leaseMs, (p: DatasetPreparePayload) => p.jobId, (p, lease) => runPrepare(deps, p.jobId, lease));
}

async function runPrepare(deps: DatasetPrepareDeps, jobId: string, lease: JobLease | null) {
  const { repos, artifacts } = deps;
  const job = await repos.jobs.find(jobId);
  if (!job) return { skipped: `job ${jobId} does not exist` };
  if (!canStart(job.status)) return { skipped: `job ${jobId} is ${job.status}` };
  const spec = job.spec as unknown as PrepareJobSpec;
  const holder = lease?.holder;
  const work = join(deps.workRoot, `prepare-${jobId}`);
  const ctl = new AbortController();
  const unsubscribe = deps.onCancel(jobId, () => ctl.abort(new Error('cancelled by a person')));
  const unlost = lease?.onLost(() => ctl.abort(new Error('the job was taken over by another worker'))) ?? (() => undefined);
  await repos.jobs.transition(jobId, 'running', `started by ${deps.workerName}: ${spec.sources.length} source${spec.sources.length === 1 ? '' : 's'} → ${spec.output}`, canTransition, {}, undefined, holder);
  let published = false;
  try {
    await clearStaging(work);
    const sources = [];
    for (const [i, s] of spec.sources.entries()) {
      let path: string;
      if (s.uri === null) {
        path = join(work, 'sources', planName(s, i));
        await corpusFiles(repos, s.datasetId, path);
      } else {
        // Sources are people's data: an S3 folder uploaded by any tool is read as it is.
        path = (await stageIn(artifacts, s.uri, join(work, 'sources'), { foreign: true })).path;
      }
      sources.push({
        kind: s.kind, name: planName(s, i), path,
        ...(s.field ? { field: s.field } : {}), ...(s.ratio !== undefined ? { ratio: s.ratio } : {}), ...(s.lengthUpsample ? { lengthUpsample: s.lengthUpsample } : {}),
      });
    }
    const d = spec.data;
    const common = { seqLength: spec.seqLength, sources, seed: d.seed, ...(d.maxTokens ? { maxTokens: d.maxTokens } : {}), ...(spec.maxShardBytes ? { maxShardBytes: spec.maxShardBytes } : {}) };
    const plan = (d.format === 'easycontext' ? { format: 'easycontext', ...common, packing: d.packing, lossMask: d.lossMask } : { format: 'longllm-qlora', ...common }) as PreparePlanInput;
    await ensureTokenizer(artifacts, spec.tokenizer);
    const tokenizer = getTokenizer(spec.tokenizer);
    await repos.jobs.note(jobId, 'staged', `sources ready: ${sources.map((s) => `${s.name} (${s.kind})`).join(', ')}; tokenizer ${spec.tokenizer}`);
    const outDir = join(work, 'out');
    let last = 0;
    const result: PrepareResult = await prepareDataset(plan, {
      tokenizer, outDir, signal: ctl.signal,
      onProgress: (pr) => {
        const now = Date.now();
        if (now - last < 1000 && pr.bytesRead < pr.bytesTotal) return;
        last = now;
        void repos.jobs.setProgress(jobId, { done: pr.bytesRead, total: pr.bytesTotal, unit: 'bytes', tokens: pr.tokens, sequences: pr.sequences }).catch(() => undefined);
      },
    });
    if (lease && !lease.held()) return { leftTo: lease.lostTo ?? null };
    const info = await stageOut(artifacts, outDir, spec.output);
    published = true;
    const { stats } = result;
    const bytes = result.shards.reduce((a, s) => a + s.bytes, 0);
    const prepared = {
      format: d.format, tokenizer: spec.tokenizer, seqLength: spec.seqLength, packing: d.packing, lossMask: d.lossMask, seed: d.seed, maxTokens: d.maxTokens ?? null,
      tokens: stats.tokens, sequences: stats.sequences, documents: stats.documents, tokensDropped: stats.tokensDropped, stoppedBy: stats.stoppedBy,
      perSource: Object.fromEntries(spec.sources.map((s, i) => [s.name, { datasetId: s.datasetId, kind: s.kind, ratio: s.ratio ?? null, ...stats.perSource[planName(s, i)] }])),
      shards: result.shards.map((s) => ({ ...s })),
      ...(spec.recipe ? { recipe: spec.recipe } : {}),
    };
    const dataset = await repos.datasets.createPrepared(
      {
        name: spec.name, kind: 'training-mix', description: spec.description ?? `Prepared for ${spec.recipe ? `${spec.recipe.name} v${spec.recipe.version} stage ${spec.recipe.stage}` : `training at ${fmtInt(spec.seqLength)} tokens`} (${d.format})`,
        source: `prepared by job ${jobId} from ${spec.sources.map((s) => s.name).join(', ')}`, language: languageOf(spec.sources), documents: stats.documents, bytes, tokenCounts: { [spec.tokenizer]: stats.tokens },
        digest: `sha256:${info.sha256}`, uri: spec.output, tags: ['prepared', d.format], prepared, jobId,
      },
      spec.sources.map((s) => ({ parentId: s.datasetId, ratio: s.ratio ?? null })),
    );
    const summary = { datasetId: dataset.id, uri: spec.output, digest: dataset.digest, tokens: stats.tokens, sequences: stats.sequences, shards: result.shards.length, bytes };
    await repos.jobs.transition(jobId, 'succeeded', `prepared ${dataset.name}: ${fmtInt(stats.sequences)} sequences, ${fmtInt(stats.tokens)} tokens in ${result.shards.length} shard${result.shards.length === 1 ? '' : 's'} at ${spec.output}`, canTransition, { result: summary }, undefined, holder);
    return summary;
  } catch (e) {
    if (published) await unpublish(artifacts, spec.output);
    if (lease?.lostTo !== undefined) return { leftTo: lease?.lostTo ?? null };
    const current = await repos.jobs.get(jobId);
    if (ctl.signal.aborted || current.status === 'cancelled') return { cancelled: true };
    const reason = (e as Error).message;
    if (current.status === 'running') await repos.jobs.transition(jobId, 'failed', reason, canTransition, { error: reason }, undefined, holder).catch(() => undefined);
    return { failed: reason };
  } finally {
    unsubscribe();
    unlost();
    await clearStaging(work);
  }
}
