/**
 * `ctxlab niah run` and `ctxlab niah plan`: the NIAH engine against any OpenAI-compatible server,
 * from a terminal. Results go to DIR as they complete (results.jsonl, one line per cell), so an
 * interrupted run resumes from DIR: the ids of finished cells are read once, and only the rest run.
 */
import { niahSpecSchema, type NiahSpecInput } from '@ctxlab/contracts';
import { timedFetch } from '@ctxlab/security';
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  heatmapData,
  heatmapSvg,
  naiveCellOrder,
  OpenAIClient,
  resultsToCsv,
  runNiahCells,
  runSweep,
  simulatePrefill,
  toGkamradtResults,
  generateNiahCells,
  planNiahCells,
  resolveNiahSpec,
  type SweepTally,
} from '@ctxlab/niah';
import { loadCorpusFromFolder, loadNiahContext, readResultsFile, resultsFileSink } from '@ctxlab/niah/node';
import { getTokenizer } from '@ctxlab/tokenizers';
import { SingleBar } from 'cli-progress';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { table } from './table';

type Opts = Record<string, string | boolean | undefined>;

export const niahUsage = `ctxlab niah run  --endpoint URL --model NAME --out DIR [--variant value] [--tokenizer llama3|byte]
                 [--preset gradient|360zhinao | --lengths 1000,2000|min:max:count --depths 0,0.5,1|linspace:0:1:11]
                 [--samples 1] [--seed 0] [--concurrency 4] [--mode chat|completion-ids] [--corpus DIR_OF_TXT]
ctxlab niah plan [same grid options] [--cache-tokens 400000] [--block-size 16]`;

function axis(v: string | undefined, kind: 'lengths' | 'depths') {
  if (!v) return undefined;
  const parts = v.split(':');
  if (parts[0] === 'linspace' && parts.length === 4) {
    const [, min, max, count] = parts.map(Number) as [number, number, number, number];
    return { kind: 'linspace' as const, min, max, count };
  }
  if (parts.length === 3 && kind === 'lengths') {
    const [min, max, count] = parts.map(Number) as [number, number, number];
    return { kind: 'linspace' as const, min, max, count };
  }
  return { kind: 'list' as const, values: v.split(',').map((x) => Number(x.trim())) };
}

/**
 * The sweep spec from the flags, checked by the same schema the API uses. `corpus` names the
 * haystack: by default --corpus as given (a shipped corpus or a dataset imported with
 * `ctxlab datasets import`, for sweeps the platform runs).
 */
export function specFromFlags(o: Opts, corpus = o.corpus as string | undefined): NiahSpecInput {
  const input = {
    variant: (o.variant as string) ?? 'value',
    tokenizer: (o.tokenizer as string) ?? 'llama3',
    seed: o.seed ? Number(o.seed) : 0,
    grid: {
      ...(o.preset ? { preset: o.preset } : {}),
      ...(o.lengths ? { lengths: axis(o.lengths as string, 'lengths') } : {}),
      ...(o.depths ? { depths: axis(o.depths as string, 'depths') } : {}),
      samples: o.samples ? Number(o.samples) : 1,
    },
    ...(corpus ? { corpus } : {}),
  };
  const r = niahSpecSchema.safeParse(input);
  if (!r.success) throw new Error(r.error.issues.map((i) => `--${String(i.path.at(-1) ?? 'spec')}: ${i.message}`).join('; '));
  return input as NiahSpecInput;
}

/**
 * The spec and its cells for a local sweep. Locally, --corpus is a folder of .txt files (the
 * haystack, named after the folder); without it, the shipped corpus for the spec's language.
 */
async function localCells(o: Opts) {
  const folder = typeof o.corpus === 'string' ? await loadCorpusFromFolder(o.corpus) : null;
  const spec = resolveNiahSpec(folder ? specFromFlags(o, folder.name) : specFromFlags(o));
  const context = folder ? { corpus: folder, tokenizer: getTokenizer(spec.tokenizer) } : loadNiahContext(spec);
  const plan = planNiahCells(spec);
  return { spec, context, plan, cells: (skip: ReadonlySet<string> = new Set()) => generateNiahCells(spec, context, { skip, cells: plan }) };
}

export async function niahRun(o: Opts): Promise<{ data: unknown; text: string }> {
  const endpoint = o.endpoint as string | undefined;
  const model = o.model as string | undefined;
  const out = o.out as string | undefined;
  if (!endpoint || !model || !out) throw new Error(`--endpoint, --model and --out are required\n${niahUsage}`);
  mkdirSync(out, { recursive: true });
  const resultsFile = join(out, 'results.jsonl');
  const plan = await localCells(o);
  writeFileSync(join(out, 'spec.json'), JSON.stringify({ spec: plan.spec, endpoint, model }, null, 2));

  const total = plan.plan.length;
  const client = new OpenAIClient({ baseUrl: endpoint, model, concurrency: Number(o.concurrency ?? 4), fetch: timedFetch({ timeoutMs: DEFAULT_REQUEST_TIMEOUT_MS }) });
  const probe = await client.listModels();
  if (!probe.ok) throw new Error(`endpoint ${endpoint} is unreachable: ${probe.error}`);
  const bar = new SingleBar({
    format: 'NIAH |{bar}| {value}/{total} cells · avg {avg} · failed {failed} · ETA {eta_formatted}',
    hideCursor: true,
    stream: process.stderr,
    noTTYOutput: true,
    notTTYSchedule: 2000,
  });
  const shown = (t: SweepTally) => ({ avg: t.averageScore === null ? '—' : t.averageScore.toFixed(1), failed: t.failed });
  const ctl = new AbortController();
  const onSigint = () => ctl.abort();
  process.once('SIGINT', onSigint);
  const mode = (o.mode as 'chat' | 'completion-ids') ?? 'chat';
  await runSweep({
    sink: resultsFileSink(resultsFile),
    total,
    cells: plan.cells,
    send: (cells, signal, onResult) => runNiahCells(cells, client, { mode, signal, onResult }),
    score: (r) => r.score,
    signal: ctl.signal,
    // Each result is on disk as soon as it is back: a run killed now resumes from it.
    batch: { size: 1 },
    onStart: (t) => bar.start(total, t.done, shown(t)),
    onResult: (t) => bar.update(t.done, shown(t)),
  });
  bar.stop();
  process.off('SIGINT', onSigint);

  const { scored, failed: failedRows } = readResultsFile(resultsFile);
  const rows = [...scored.values()];
  writeFileSync(join(out, 'results.csv'), resultsToCsv([...rows, ...failedRows]));
  const heat = heatmapData(rows, { lengths: plan.spec.lengths, depths: plan.spec.depths });
  writeFileSync(join(out, 'heatmap.svg'), heatmapSvg(heat, { name: model }));
  const gk = toGkamradtResults(rows, { model });
  mkdirSync(join(out, 'gkamradt'), { recursive: true });
  for (const f of gk.files) writeFileSync(join(out, 'gkamradt', f.fileName), JSON.stringify(f.record, null, 2));
  const summary = { total, scored: rows.length, failed: failedRows.length, average: heat.average, interrupted: ctl.signal.aborted, out };
  return {
    data: summary,
    text: `${rows.length}/${total} cells scored, ${failedRows.length} failed (never scored), average ${heat.average?.toFixed(1) ?? '—'}${ctl.signal.aborted ? ' — interrupted: run again with the same --out to resume' : ''}\nwrote ${out}/results.jsonl, results.csv, heatmap.svg, gkamradt/`,
  };
}

export async function niahPlan(o: Opts): Promise<{ data: unknown; text: string }> {
  const { spec: resolved, context, plan, cells } = await localCells(o);
  const ours = [...cells()];
  const byId = new Map(ours.map((c) => [c.id, c]));
  const naive = naiveCellOrder(resolved).map((k) => byId.get(k.id)!);
  const cache = { capacityTokens: Number(o['cache-tokens'] ?? 400_000), blockSize: Number(o['block-size'] ?? 16) };
  const a = simulatePrefill(ours.map((c) => c.promptIds), cache);
  const b = simulatePrefill(naive.map((c) => c.promptIds), cache);
  const data = {
    lengths: resolved.lengths,
    depths: resolved.depths,
    samples: resolved.samples,
    cells: plan.length,
    promptTokens: a.promptTokens,
    prefill: { ours: a.prefillTokens, naive: b.prefillTokens, ratio: a.prefillTokens / b.prefillTokens },
    cache,
  };
  void context;
  const text = [
    `grid: ${resolved.lengths.length} lengths × ${resolved.depths.length} depths × ${resolved.samples} samples = ${plan.length} cells`,
    `lengths: ${resolved.lengths.map((l) => l.toLocaleString('en-US')).join(', ')}`,
    `depths: ${resolved.depths.map((d) => `${Math.round(d * 1000) / 10}%`).join(', ')}`,
    table(
      ['order', 'prompt tokens', 'prefill tokens', 'cached'],
      [
        ['ctxlab (prefix-cache friendly)', a.promptTokens, a.prefillTokens, a.cachedTokens],
        ['naive (length, then depth)', b.promptTokens, b.prefillTokens, b.cachedTokens],
      ],
    ),
    `prefill ratio ours/naive: ${data.prefill.ratio.toFixed(3)} (simulated cache ${cache.capacityTokens.toLocaleString('en-US')} tokens, block ${cache.blockSize})`,
  ].join('\n');
  return { data, text };
}
