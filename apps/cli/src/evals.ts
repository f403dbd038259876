/** `ctxlab evals start|watch` and `ctxlab jobs …`: evals as jobs on the platform, from a terminal. */
import type { createClient } from '@ctxlab/api/client';
import { type BenchmarkSummary, type EndpointPerplexitySummary, RULER_TASK_IDS, type JobProgress, type RulerSummary, type RulerTask, type SuiteSpecInput, type TopicSummary } from '@ctxlab/contracts';
import { SingleBar } from 'cli-progress';
import { modelByName } from './lookup';
import { specFromFlags } from './niah';
import { table } from './table';

type Api = ReturnType<typeof createClient>;
type Opts = Record<string, string | boolean | undefined>;

/** How a job ended: its status, and its error when it has one. */
export const ended = (job: { status: string; error: string | null }) => `${job.status}${job.error ? `: ${job.error}` : ''}`;

/** Polls the job until it ends, drawing a progress bar (cells of a sweep, steps of a training stage, modules of an extraction); returns the final job. */
export async function watchJob(api: Api, jobId: string) {
  const bar = new SingleBar({ format: '{status} |{bar}| {value}/{total} {unit} · {detail} · ETA {eta}', stream: process.stderr, noTTYOutput: true, notTTYSchedule: 5000, hideCursor: true });
  let started = false;
  for (;;) {
    const job = await api.jobs.get.query({ id: jobId });
    const p = (job.progress ?? null) as JobProgress | null;
    const detail = p?.unit === 'bytes'
      ? `${(p.tokens ?? 0).toLocaleString('en-US')} tokens · ${(p.sequences ?? 0).toLocaleString('en-US')} sequences`
      : p?.unit
      ? `loss ${p.loss === null || p.loss === undefined ? '—' : p.loss.toFixed(4)}`
      : `avg ${p?.averageScore?.toFixed(1) ?? '—'} · failed ${p?.failed ?? 0}`;
    const fields = { status: job.status, unit: p?.unit ?? 'cells', detail, eta: p?.etaSeconds ? `${Math.round(p.etaSeconds)}s` : '—' };
    if (p && !started) {
      bar.start(p.total ?? 0, p.done ?? 0, fields);
      started = true;
    } else if (p) bar.update(p.done ?? 0, fields);
    if (['succeeded', 'failed', 'cancelled'].includes(job.status)) {
      if (started) bar.stop();
      return job;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * What a start command answers: without --wait, what it started; with --wait, that line on stderr,
 * the job's progress bar until it ends, and how it ended.
 */
export async function startedOrWatched(api: Api, wait: unknown, r: { job: { id: string } }, head: string): Promise<{ data: unknown; text: string }> {
  if (!wait) return { data: r, text: head };
  process.stderr.write(`${head}\n`);
  const job = await watchJob(api, r.job.id);
  return { data: job, text: ended(job) };
}

/** What a start command says first: a new run, or the earlier run the same request returned, and how to get a fresh one. */
function startHead(r: { existing: boolean; job: { status: string } }, what: string, o: Opts): string {
  if (!r.existing) return `started: ${what}`;
  const how = o['request-key'] ? `request key ${String(o['request-key'])} was used before; pick another key for a fresh run` : 'use --rerun for a fresh one';
  return `returned the existing run (${r.job.status}): ${what} (${how})`;
}

/** --rule model | fixed:THETA | ntk:TARGET_LENGTH | dynamic-ntk[:ALPHA] */
function parseThetaRule(rule: string | undefined) {
  if (!rule || rule === 'model') return { kind: 'model' as const };
  const [kind, value] = rule.split(':');
  const n = Number(value);
  if (kind === 'fixed' && n > 0) return { kind: 'fixed' as const, theta: n };
  if (kind === 'ntk' && n > 0) return { kind: 'ntk' as const, targetLength: n };
  if (kind === 'dynamic-ntk') return { kind: 'dynamic-ntk' as const, alpha: value === undefined ? 4 : n };
  throw new Error(`--rule must be model, fixed:THETA, ntk:TARGET_LENGTH or dynamic-ntk[:ALPHA]; got ${rule}`);
}

export async function evalsCommand(api: Api, sub: string | undefined, arg: string | undefined, o: Opts): Promise<{ data: unknown; text: string }> {
  if (sub === 'start') {
    const endpointName = o.endpoint as string | undefined;
    if (!endpointName) throw new Error('--endpoint NAME (a registered endpoint) is required');
    const eps = await api.endpoints.list.query({ search: endpointName, limit: 20 });
    const ep = eps.items.find((e) => e.name === endpointName);
    if (!ep) throw new Error(`no endpoint named ${endpointName}`);
    if (o.suite !== undefined) return startSuite(api, ep.id, endpointName, o);
    const r = await api.evals.start.mutate({
      name: (o.name as string | undefined) ?? `niah ${endpointName}`,
      endpointId: ep.id,
      spec: specFromFlags(o),
      concurrency: Number(o.concurrency ?? 4),
      mode: (o.mode as 'chat' | 'completion-ids' | undefined) ?? 'chat',
      ...(o['request-key'] ? { requestKey: String(o['request-key']) } : {}),
      rerun: o.rerun === true,
    });
    return startedOrWatched(api, o.wait, r, startHead(r, `eval ${r.evalRun.id} (job ${r.job.id}), ${r.evalRun.cellsTotal} cells`, o));
  }
  if (sub === 'check' && (arg === 'perplexity' || arg === 'roundtrip')) {
    // A local check of a lab model on a worker's onnxruntime-node.
    const modelName = o.model as string | undefined;
    if (!modelName) throw new Error('--model NAME (a registered lab model) is required');
    const model = await modelByName(api, modelName);
    const spec = arg === 'perplexity'
      ? { kind: 'perplexity' as const, lengths: String(o.lengths ?? '256,512,1024,2048').split(',').map(Number), samples: Number(o.samples ?? 4), thetaRule: parseThetaRule(o.rule as string | undefined) }
      : { kind: 'roundtrip' as const, samples: Number(o.samples ?? 8) };
    const r = await api.evals.startCheck.mutate({
      name: (o.name as string | undefined) ?? `${arg} ${model.name}`, modelId: model.id, spec,
      ...(o['request-key'] ? { requestKey: String(o['request-key']) } : {}), rerun: o.rerun === true,
    });
    const head = startHead(r, `${arg} check ${r.evalRun.id} (job ${r.job.id}), ${r.evalRun.cellsTotal} checks`, o);
    if (!o.wait) return { data: r, text: head };
    process.stderr.write(`${head}\n`);
    const job = await watchJob(api, r.job.id);
    const cells = (await api.evals.cells.query({ evalRunId: r.evalRun.id, limit: 500 })).items;
    // The worker's summary has the per-length geometric means and the theta each length ran at.
    const perLength = (((await api.evals.get.query({ id: r.evalRun.id })).summary ?? {}) as { perLength?: { length: number; theta: number; perplexity: number | null }[] }).perLength ?? [];
    const text = arg === 'perplexity'
      ? table(['length', 'perplexity (geo. mean)', 'θ'], perLength.map((p) => [p.length, p.perplexity?.toFixed(3) ?? '—', String(Math.round(p.theta))]))
      : table(['check', 'sample', 'result', 'detail'], cells.map((c) => [c.needle ?? '', c.sample, c.score === 100 ? 'ok' : 'FAILED', c.response ?? '']));
    return { data: { job, cells }, text: `${text}\n${ended(job)}` };
  }
  if (sub === 'export' && arg) {
    const format = (o.format as string | undefined) ?? 'csv';
    if (format !== 'csv' && format !== 'jsonl') throw new Error(`--format must be csv or jsonl, got ${format}`);
    const r = await api.evals.exportTo.mutate({ id: arg, format, ...(typeof o.output === 'string' ? { output: o.output } : {}) });
    return { data: r, text: `wrote ${r.cells.toLocaleString('en-US')} cells to ${r.uri} (${r.bytes.toLocaleString('en-US')} bytes, sha256 ${r.sha256})${r.url ? `\ndownload: ${r.url}` : ''}` };
  }
  if (sub === 'watch' && arg) {
    const run = await api.evals.get.query({ id: arg });
    if (!run.jobId) throw new Error(`eval ${arg} has no job`);
    const job = await watchJob(api, run.jobId);
    return { data: job, text: ended(job) };
  }
  if (sub === 'list') {
    // Newest first, a page at a time: --after takes the cursor the previous page printed.
    const page = await api.evals.list.query({ limit: Number(o.limit ?? 50), ...(typeof o.after === 'string' ? { cursor: o.after } : {}) });
    const rows = table(['id', 'name', 'status', 'cells'], page.items.map((r) => [r.id, r.name, r.status, `${r.cellsDone}/${r.cellsTotal}`]));
    return { data: page, text: page.nextCursor ? `${rows}\nmore: ctxlab evals list --after ${page.nextCursor}` : rows };
  }
  throw new Error('usage: ctxlab evals start --endpoint NAME [grid flags] [--corpus DATASET] [--wait] | evals start --suite ruler|topic --endpoint NAME … | evals watch EVAL_ID | evals list [--limit N] [--after CURSOR]');
}

const ints = (flag: string, v: unknown, fallback?: string): number[] => {
  const text = v === undefined ? fallback : String(v);
  if (text === undefined) throw new Error(`--${flag} is required`);
  const xs = text.split(',').map((x) => Number(x.trim()));
  if (xs.some((x) => !Number.isInteger(x))) throw new Error(`--${flag} must be integers separated by commas, got ${text}`);
  return xs;
};

/** The suite spec from `evals start --suite ruler|topic|longbench|infinitebench|mmlu|perplexity` flags. */
export function suiteSpecFromFlags(o: Opts): SuiteSpecInput {
  const common = {
    ...(o.samples !== undefined ? { samples: Number(o.samples) } : {}),
    ...(o.seed !== undefined ? { seed: Number(o.seed) } : {}),
    ...(o.tokenizer !== undefined ? { tokenizer: o.tokenizer as 'llama3' | 'byte' } : {}),
    ...(o['no-chat-template'] ? { chatTemplate: false } : {}),
    ...(o.corpus !== undefined ? { corpus: String(o.corpus) } : {}),
  };
  if (o.suite === 'ruler') {
    const tasks = String(o.tasks ?? RULER_TASK_IDS.filter((t) => !t.startsWith('qa_')).join(',')).split(',').map((t) => t.trim());
    return {
      suite: 'ruler',
      tasks: tasks as RulerTask[],
      lengths: ints('lengths', o.lengths, '4096,8192,16384,32768'),
      ...(o['qa-dataset'] !== undefined ? { qaDataset: String(o['qa-dataset']) } : {}),
      ...(o.threshold !== undefined ? { threshold: Number(o.threshold) } : {}),
      ...common,
    };
  }
  if (o.suite === 'topic' || o.suite === 'topic-retrieval') {
    return {
      suite: 'topic-retrieval',
      topics: ints('topics', o.topics, '5,10,15'),
      ...(o.length !== undefined ? { length: Number(o.length) } : {}),
      ...(o.question !== undefined ? { question: o.question as 'first' | 'kth' } : {}),
      ...common,
    };
  }
  const names = (flag: string) => (o[flag] === undefined ? {} : { [flag === 'subjects' ? 'subjects' : 'tasks']: String(o[flag]).split(',').map((t) => t.trim()) });
  const bench = {
    ...(o.items !== undefined ? { limit: Number(o.items) } : {}),
    ...(o.tokenizer !== undefined ? { tokenizer: o.tokenizer as 'llama3' | 'byte' } : {}),
    ...(o['no-chat-template'] ? { chatTemplate: false } : {}),
  };
  const dataset = () => {
    if (o.dataset === undefined) throw new Error(`--dataset is required: the name of an imported ${String(o.suite)} dataset (ctxlab datasets import --format ${String(o.suite)} PATH)`);
    return String(o.dataset);
  };
  if (o.suite === 'longbench' || o.suite === 'infinitebench') {
    return { suite: o.suite, dataset: dataset(), ...names('tasks'), ...(o['max-length'] !== undefined ? { maxLength: Number(o['max-length']) } : {}), ...bench };
  }
  if (o.suite === 'mmlu') {
    return {
      suite: 'mmlu', dataset: dataset(), ...names('subjects'),
      ...(o.shots !== undefined ? { shots: ints('shots', o.shots, '0,5') } : {}),
      ...(o.scoring !== undefined ? { scoring: o.scoring as 'auto' | 'logprobs' | 'generate' } : {}),
      ...bench,
    };
  }
  if (o.suite === 'perplexity') {
    return {
      suite: 'perplexity', lengths: ints('lengths', o.lengths, '1024,2048,4096,8192'),
      ...(o.samples !== undefined ? { samples: Number(o.samples) } : {}),
      ...(o.tokenizer !== undefined ? { tokenizer: o.tokenizer as 'llama3' | 'byte' } : {}),
      ...(o.corpus !== undefined ? { corpus: String(o.corpus) } : {}),
    };
  }
  throw new Error(`--suite must be ruler, topic, longbench, infinitebench, mmlu or perplexity, got ${String(o.suite)}`);
}

/** The per-length averages and the effective length (RULER), or the accuracy per topic count, from the run's summary. */
export function suiteResultLine(summary: unknown): string {
  const b = (summary ?? {}) as Partial<BenchmarkSummary>;
  if (b.suite === 'longbench' || b.suite === 'infinitebench' || b.suite === 'mmlu') {
    const unit = b.suite === 'mmlu' ? '-shot' : ' tokens';
    const tasks = Object.entries(b.perTask ?? {}).map(([t, v]) => `${t} ${Object.values(v).map((x) => x.toFixed(2)).join('/')}`).join(' · ');
    const settings = Object.entries(b.perSetting ?? {}).map(([k, v]) => `${k}${unit} ${v.toFixed(2)}`).join(' · ') || '—';
    return `${b.suite} ${b.suite === 'mmlu' ? 'accuracy' : 'average'}: ${settings}${b.scoring ? ` (answers read by ${b.scoring})` : ''}; per task: ${tasks || '—'}; ${b.items ?? 0} items, failed ${b.failed ?? 0}`;
  }
  if (b.suite === 'perplexity') {
    const p = summary as EndpointPerplexitySummary;
    return `endpoint perplexity: ${Object.entries(p.perLength).map(([l, v]) => `${l} → ${v.toFixed(2)}`).join(', ') || '—'}; failed ${p.failed}`;
  }
  const s = (summary ?? {}) as Partial<RulerSummary & TopicSummary>;
  const fmt = (m: Record<string, number> | undefined, unit: string) => Object.entries(m ?? {}).map(([k, v]) => `${k}${unit} ${v.toFixed(1)}`).join(' · ') || '—';
  if (s.perLength) {
    const eff = s.effectiveLength === null || s.effectiveLength === undefined ? `none above ${s.threshold ?? 85.6}` : String(s.effectiveLength);
    return `RULER average per length: ${fmt(s.perLength, '')}; average ${s.average?.toFixed(1) ?? '—'}; effective length ${eff}; failed ${s.failed ?? 0}`;
  }
  if (s.perTopics) return `topic retrieval accuracy per topic count: ${fmt(s.perTopics, ' topics')}; average ${s.average?.toFixed(1) ?? '—'}; failed ${s.failed ?? 0}`;
  return 'no summary';
}

async function startSuite(api: Api, endpointId: string, endpointName: string, o: Opts): Promise<{ data: unknown; text: string }> {
  const spec = suiteSpecFromFlags(o);
  const r = await api.evals.startSuite.mutate({
    name: (o.name as string | undefined) ?? `${spec.suite} ${endpointName}`,
    endpointId,
    spec,
    concurrency: Number(o.concurrency ?? 4),
    mode: (o.mode as 'chat' | 'completion-ids' | undefined) ?? 'chat',
    ...(o['request-key'] ? { requestKey: String(o['request-key']) } : {}),
    rerun: o.rerun === true,
  });
  const head = startHead(r, `${spec.suite} eval ${r.evalRun.id} (job ${r.job.id}), ${r.evalRun.cellsTotal} cells`, o);
  if (!o.wait) return { data: r, text: head };
  process.stderr.write(`${head}\n`);
  const job = await watchJob(api, r.job.id);
  const run = await api.evals.get.query({ id: r.evalRun.id });
  return { data: { job, run }, text: `${suiteResultLine(run.summary)}\n${ended(job)}` };
}

export async function jobsCommand(api: Api, sub: string | undefined, arg: string | undefined): Promise<{ data: unknown; text: string }> {
  if (sub === 'list') {
    const page = await api.jobs.list.query({ limit: 50 });
    return { data: page, text: table(['id', 'kind', 'status', 'attempts'], page.items.map((j) => [j.id, j.kind, j.status, j.attempts])) };
  }
  if (sub === 'cancel' && arg) {
    const j = await api.jobs.cancel.mutate({ id: arg });
    return { data: j, text: `job ${j.id} ${j.status}` };
  }
  if (sub === 'retry' && arg) {
    const j = await api.jobs.retry.mutate({ id: arg });
    return { data: j, text: `job ${j.id} ${j.status}` };
  }
  if (sub === 'events' && arg) {
    const ev = await api.jobs.events.query({ jobId: arg });
    return { data: ev, text: table(['time', 'transition', 'message'], ev.map((e) => [new Date(e.createdAt).toISOString(), `${e.fromStatus ?? ''}→${e.toStatus ?? ''}`, e.message])) };
  }
  throw new Error('usage: ctxlab jobs list | jobs cancel ID | jobs retry ID | jobs events ID');
}
