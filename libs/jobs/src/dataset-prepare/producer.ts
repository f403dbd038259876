import { badRequest, datasetPrepareInput, type DatasetPrepareInput, type PrepareSource, type PrepareSourceKind } from '@ctxlab/contracts';
import type { DatasetRecord } from '@ctxlab/db';
import { parseUri } from '@ctxlab/dispatch';
import { attemptJobId, enqueue } from '@ctxlab/queue';
import type { Redis } from 'ioredis';
import type { JobsDeps } from '../deps';
import { fingerprint, queueError } from '../eval-runs';
import { datasetPrepareJob, type DatasetPreparePayload, type PrepareJobSource, type PrepareJobSpec } from './payload';

/** Puts a preparation on its queue (idempotent by job and attempt; fails fast when Redis is down). */
export function enqueueDatasetPrepare(connection: Redis, payload: DatasetPreparePayload, opts: { attempt?: number; prefix?: string | undefined } = {}) {
  return enqueue(connection, datasetPrepareJob, payload, { jobId: attemptJobId(payload.jobId, opts.attempt), prefix: opts.prefix });
}

/** How a source reads when the request does not say: a corpus in PostgreSQL or a folder as text files, a .jsonl as JSON Lines of texts. */
function sourceKind(d: DatasetRecord, given: PrepareSourceKind | undefined): PrepareSourceKind {
  if (given) return given;
  if (!d.uri) return 'text-folder';
  return /\.jsonl$/i.test(d.uri) ? 'jsonl' : 'text-folder';
}

async function resolveSource(deps: JobsDeps, s: PrepareSource, i: number): Promise<PrepareJobSource> {
  const field = `data.sources.${i}.dataset`;
  const d = (await deps.repos.datasets.getByName(s.dataset)) ?? (await deps.repos.datasets.get(s.dataset).catch(() => null));
  if (!d) throw badRequest(`${field}: no dataset is named ${s.dataset}; register or import it first (ctxlab datasets import, or datasets.create with its uri)`, field);
  if (d.kind === 'benchmark') throw badRequest(`${field}: ${d.name} is a benchmark; training data comes from corpora and training mixes`, field);
  if (d.uri) {
    const p = parseUri(d.uri, field);
    if (p.scheme === 'hf') throw badRequest(`${field}: ${d.name} is on the Hugging Face Hub (${d.uri}); download it and register the files by file:// or s3:// URI`, field);
  } else if (d.documents === 0) {
    throw badRequest(`${field}: ${d.name} has neither imported documents nor a uri saying where its files are`, field);
  }
  const kind = sourceKind(d, s.kind);
  if (!d.uri && kind !== 'text-folder') throw badRequest(`${field}: ${d.name} is an imported corpus (its documents are texts): it reads as text-folder, not ${kind}`, `data.sources.${i}.kind`);
  return { datasetId: d.id, name: d.name, language: d.language, kind, field: s.field, uri: d.uri, ratio: s.ratio, lengthUpsample: s.lengthUpsample };
}

/**
 * Queues the preparation of a training dataset: a data recipe (given, or a recipe stage's) over
 * registered source datasets, tokenised, mixed and packed by the worker (libs/dataprep), then
 * registered with its lineage. Everything that can be refused is refused here: unknown sources, a
 * stage without a data recipe, a name already taken.
 */
export async function startDatasetPrepare(deps: JobsDeps & { defaultOutput: (name: string) => string }, raw: DatasetPrepareInput & { requestKey?: string | undefined }, requestedBy: string) {
  const input = datasetPrepareInput.parse(raw);
  const { repos } = deps;
  if (await repos.datasets.getByName(input.name)) throw badRequest(`name: a dataset named ${input.name} already exists; pick another name for the prepared one`, 'name');
  let data = input.data;
  let seqLength = input.seqLength;
  let recipe: PrepareJobSpec['recipe'];
  if (input.recipeId !== undefined && input.stage !== undefined) {
    const r = await repos.recipes.get(input.recipeId).catch(() => null);
    if (!r) throw badRequest(`recipeId: recipe ${input.recipeId} does not exist`, 'recipeId');
    const stage = r.spec.stages[input.stage - 1];
    if (!stage) throw badRequest(`stage: recipe ${r.name} has ${r.spec.stages.length} stage${r.spec.stages.length === 1 ? '' : 's'}; there is no stage ${input.stage}`, 'stage');
    if (!data) {
      if (!stage.data) throw badRequest(`stage: stage ${input.stage} (${stage.name}) of recipe ${r.name} has no data recipe; add one to the stage or give the data here`, 'stage');
      data = stage.data;
    }
    if (seqLength !== undefined && seqLength !== stage.seqLength) throw badRequest(`seqLength: stage ${input.stage} of recipe ${r.name} trains at ${stage.seqLength} tokens, not ${seqLength}`, 'seqLength');
    seqLength = stage.seqLength;
    recipe = { recipeId: r.id, name: r.name, version: r.version, stage: input.stage };
  }
  if (!data || seqLength === undefined) throw badRequest('data: give the data recipe and the sequence length, or a recipe stage', 'data');
  if (data.format === 'longllm-qlora' && (data.packing !== 'pack' || data.lossMask)) throw badRequest('data.format: longllm_qlora tokenises its own JSON records: packing and the loss mask are EasyContext options', 'data.format');
  const sources = await Promise.all(data.sources.map((s, i) => resolveSource(deps, s, i)));
  const output = input.output ?? deps.defaultOutput(input.name);
  const o = parseUri(output, 'output');
  if (o.scheme === 'hf') throw badRequest('output: prepared data is written to file:// or s3:// locations, not to the Hub', 'output');
  const { sources: _drop, ...options } = data;
  const spec: PrepareJobSpec = {
    name: input.name, description: input.description, tokenizer: input.tokenizer, seqLength, data: options, sources, output, maxShardBytes: input.maxShardBytes, recipe, requestedBy,
  };
  const { job, created } = await repos.jobs.create({ kind: 'dataset-prepare', idempotencyKey: `dataset-prepare:${fingerprint({ ...spec, requestedBy: undefined })}:${raw.requestKey ?? 'auto'}`, maxAttempts: 1, spec });
  if (!created) return { job, created };
  try {
    await enqueueDatasetPrepare(deps.producer(), { jobId: job.id }, { prefix: deps.queuePrefix });
  } catch (e) {
    await repos.jobs.discard(job.id);
    queueError(e);
  }
  return { job, created };
}
