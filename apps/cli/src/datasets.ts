/**
 * `ctxlab datasets register|prepare|lineage|download`: training data by URI, prepared into the
 * shards a trainer loads (a job with a progress bar), where a dataset came from and went, and
 * download links.
 */
import type { createClient } from '@ctxlab/api/client';
import type { DatasetPrepareInput, PrepareSource } from '@ctxlab/contracts';
import { startedOrWatched } from './evals';
import { table } from './table';

type Api = ReturnType<typeof createClient>;
type Values = Record<string, string | boolean | string[] | undefined>;

export const datasetsUsage = `datasets register NAME --uri file:///…|s3://… [--source TEXT] [--language en]   a corpus by where its files are (a folder of .txt/.md, a .jsonl)
  datasets prepare NAME (--recipe RECIPE --stage N | --sources DATASET[=RATIO][:KIND],… --seq-length N) [--format easycontext|longllm-qlora]
                   [--packing pack|chunk] [--loss-mask] [--keep-short P [--long-threshold TOKENS]] [--max-tokens N] [--tokenizer llama3] [--output URI] [--wait]
                   tokenise, up-sample long documents, mix and pack into training shards (KIND: text-folder, jsonl, chat-jsonl)
  datasets lineage NAME        its sources (with their shares), what was made from it, the models trained on it
  datasets download NAME [--file PATH]   a short-lived link (S3) or the server path (file://) to its files`;

const fmt = (n: number) => n.toLocaleString('en-US');
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const num = (v: unknown, flag: string) => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${flag} must be a number, got ${String(v)}`);
  return n;
};

async function datasetByName(api: Api, name: string) {
  const d = (await api.datasets.list.query({ search: name, limit: 50 })).items.find((x) => x.name === name);
  if (!d) throw new Error(`no dataset named ${name}`);
  return d;
}

/** One entry of --sources: NAME[=RATIO][:KIND], e.g. slimpajama=0.7 or ultrachat=0.3:chat-jsonl. */
export function parseSourceFlag(s: string, upsample?: PrepareSource['lengthUpsample']): PrepareSource {
  const m = /^([^=:]+)(?:=([0-9.]+))?(?::(text-folder|jsonl|chat-jsonl))?$/.exec(s.trim());
  if (!m) throw new Error(`--sources ${s}: expected DATASET[=RATIO][:KIND], KIND one of text-folder, jsonl, chat-jsonl`);
  return { dataset: m[1]!, ...(m[2] ? { ratio: Number(m[2]) } : {}), ...(m[3] ? { kind: m[3] as PrepareSource['kind'] } : {}), ...(upsample ? { lengthUpsample: upsample } : {}) };
}

export async function datasetsCommand(api: Api, sub: string | undefined, arg: string | undefined, values: Values): Promise<{ data: unknown; text: string } | null> {
  if (sub === 'register' && arg) {
    const uri = str(values.uri);
    if (!uri) throw new Error('usage: ctxlab datasets register NAME --uri file:///…|s3://… [--source TEXT]');
    const d = await api.datasets.create.mutate({ name: arg, kind: 'training-mix', source: str(values.source) ?? uri, uri, language: str(values.language) ?? 'en', tags: ['source'] });
    return { data: d, text: `registered ${d.name} at ${d.uri}` };
  }
  if (sub === 'prepare' && arg) {
    const keepShort = num(values['keep-short'], 'keep-short');
    const upsample = keepShort === undefined ? undefined : { thresholdTokens: num(values['long-threshold'], 'long-threshold') ?? 4096, keepShort };
    const sources = (str(values.sources) ?? '').split(',').filter((x) => x.trim()).map((s) => parseSourceFlag(s, upsample));
    const recipeName = str(values.recipe);
    let recipeId: string | undefined;
    if (recipeName) {
      const rec = (await api.recipes.list.query({ search: recipeName, limit: 20 })).items.find((r) => r.name === recipeName);
      if (!rec) throw new Error(`no recipe named ${recipeName}`);
      recipeId = rec.id;
    }
    const format = str(values.format) as 'easycontext' | 'longllm-qlora' | undefined;
    const data = sources.length
      ? {
          sources, ...(format ? { format } : {}), ...(values.packing ? { packing: values.packing as 'pack' | 'chunk' } : {}), ...(values['loss-mask'] ? { lossMask: true } : {}),
          ...(values['max-tokens'] ? { maxTokens: num(values['max-tokens'], 'max-tokens') } : {}), ...(values.seed ? { seed: num(values.seed, 'seed') } : {}),
        }
      : undefined;
    const input: DatasetPrepareInput = {
      name: arg,
      tokenizer: str(values.tokenizer) ?? 'llama3',
      ...(recipeId ? { recipeId, stage: num(values.stage, 'stage') } : {}),
      ...(values['seq-length'] ? { seqLength: num(values['seq-length'], 'seq-length') } : {}),
      ...(data ? { data } : {}),
      ...(str(values.output) ? { output: str(values.output) } : {}),
    } as DatasetPrepareInput;
    const r = await api.datasets.prepare.mutate(input);
    const head = `${r.created ? 'queued' : 'already queued'}: preparing ${arg} (job ${r.job.id}) → ${(r.job.spec as { output: string }).output}`;
    const res = await startedOrWatched(api, values.wait, r, head);
    if (!values.wait) return res;
    const d = (await api.datasets.list.query({ search: arg, limit: 5 })).items.find((x) => x.name === arg);
    if (!d?.prepared) return res;
    return { data: { job: res.data, dataset: d }, text: `${res.text}\n${preparedText(d.prepared)}` };
  }
  if (sub === 'lineage' && arg) {
    const d = await datasetByName(api, arg);
    const l = await api.datasets.lineage.query({ id: d.id });
    const lines = [
      `${d.name} (${d.kind})${d.uri ? ` at ${d.uri}` : ''}`,
      ...(l.sources.length ? ['made from:', table(['dataset', 'kind', 'share'], l.sources.map((s) => [s.name, s.kind, s.ratio === null ? '—' : `${(s.ratio * 100).toFixed(1)}%`]))] : ['made from: nothing registered']),
      ...(l.derived.length ? ['prepared into:', table(['dataset', 'kind', 'share'], l.derived.map((s) => [s.name, s.kind, s.ratio === null ? '—' : `${(s.ratio * 100).toFixed(1)}%`]))] : []),
      ...(l.models.length ? ['models trained on it:', table(['model', 'job'], l.models.map((m) => [m.name, m.jobId ?? '—']))] : ['models trained on it: none yet']),
      ...(d.prepared ? [preparedText(d.prepared)] : []),
    ];
    return { data: { dataset: d, lineage: l }, text: lines.join('\n') };
  }
  if (sub === 'download' && arg) {
    const d = await datasetByName(api, arg);
    const link = await api.datasets.download.query({ id: d.id, ...(str(values.file) ? { file: str(values.file) } : {}) });
    const where = link.url ? `${link.url}\n(expires ${link.expiresAt})` : `on the server's disk: ${link.path}`;
    return { data: link, text: `${link.uri}\n${where}\n${link.files.length} file(s), sha256 ${link.sha256}` };
  }
  return null;
}

/** A prepared dataset's figures: tokens, sequences, shards and per source what went in and out. */
function preparedText(p: Record<string, unknown>): string {
  const per = (p.perSource ?? {}) as Record<string, { documents: number; documentsKept: number; tokensIn: number; tokensOut: number; ratio: number | null }>;
  const shards = (p.shards ?? []) as unknown[];
  return [
    `${p.format as string} · ${p.tokenizer as string} · ${fmt(p.seqLength as number)} tokens a sequence · ${fmt(p.sequences as number)} sequences · ${fmt(p.tokens as number)} tokens · ${shards.length} shard(s)`,
    table(
      ['source', 'documents', 'kept', 'tokens in', 'tokens out', 'share asked', 'share out'],
      Object.entries(per).map(([name, s]) => [name, fmt(s.documents), fmt(s.documentsKept), fmt(s.tokensIn), fmt(s.tokensOut), s.ratio === null ? '—' : `${(s.ratio * 100).toFixed(1)}%`, `${((s.tokensOut / Math.max(1, p.tokens as number)) * 100).toFixed(1)}%`]),
    ),
  ].join('\n');
}
