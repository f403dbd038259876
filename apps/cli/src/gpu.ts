/**
 * `ctxlab serve …` and `ctxlab adapters …`: GPU work named by registry records. The API derives the
 * exact job (weights by sourceUri, the source model's RoPE fields, the planner's serving plan).
 */
import type { createClient } from '@ctxlab/api/client';
import { ended, startedOrWatched } from './evals';
import { findModel, modelByName } from './lookup';
import { schedulingOf } from './queue';
import { table } from './table';

type Api = ReturnType<typeof createClient>;
type Opts = Record<string, string | boolean | undefined>;
type Result = { data: unknown; text: string };

const num = (o: Opts, k: string): number | undefined => {
  const v = o[k];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${k} must be a number; got ${String(v)}`);
  return n;
};
const executorOf = (o: Opts) => {
  const e = (o.executor as string | undefined) ?? 'local';
  if (e !== 'local' && e !== 'kubernetes') throw new Error(`--executor must be local or kubernetes; got ${e}`);
  return e;
};
const toolOf = (o: Opts) => {
  const t = o.tool as string | undefined;
  if (t !== undefined && t !== 'lab' && t !== 'mergekit') throw new Error(`--tool must be lab or mergekit; got ${t}`);
  return t;
};

/** Waits for the job when --wait is given, with its progress bar; otherwise says what was queued. */
function queued(api: Api, o: Opts, r: { job: { id: string }; created: boolean }, what: string): Promise<Result> {
  return startedOrWatched(api, o.wait, r, `${r.created ? 'queued' : 'already queued'}: ${what} (job ${r.job.id})`);
}

export async function serveCommand(api: Api, sub: string | undefined, arg: string | undefined, o: Opts): Promise<Result> {
  if (sub === 'start' && arg) {
    const m = await modelByName(api, arg);
    const r = await api.gpu.serveModel.mutate({
      modelId: m.id,
      executor: executorOf(o),
      ...(o.engine ? { engine: o.engine as 'vllm' | 'lab' } : {}),
      ...(o.gpu ? { gpuType: o.gpu as string } : {}),
      ...(o.tp ? { tensorParallelSize: num(o, 'tp') } : {}),
      ...(o['max-model-len'] ? { maxModelLen: num(o, 'max-model-len') } : {}),
      ...(o.util ? { gpuMemoryUtilization: num(o, 'util') } : {}),
      ...(o.kv ? { kvCacheDtype: o.kv as 'auto' | 'bf16' | 'fp8' } : {}),
      ...(o.port ? { port: num(o, 'port') } : {}),
      ...(o.name ? { endpointName: o.name as string } : {}),
      ...schedulingOf(o),
    });
    const head = `${r.created ? 'queued' : 'already queued'}: serving ${m.name} (job ${r.job.id})`;
    if (!o.wait) return { data: r, text: head };
    // Serving never "finishes": wait until the endpoint is registered (or the job fails).
    process.stderr.write(`${head}\n`);
    for (;;) {
      const events = await api.jobs.events.query({ jobId: r.job.id });
      const ready = events.find((e) => e.type === 'ready');
      if (ready) return { data: { job: r.job, ready }, text: `${ready.message} · stop with: ctxlab serve stop ${m.name}` };
      const job = await api.jobs.get.query({ id: r.job.id });
      if (['failed', 'cancelled', 'succeeded'].includes(job.status)) throw new Error(`serving ${m.name} ${ended(job)}`);
      await new Promise((ok) => setTimeout(ok, 1000));
    }
  }
  if (sub === 'stop' && arg) {
    // MODEL name (its running serve jobs) or a job id.
    const jobs = (await api.jobs.list.query({ kind: 'serve', limit: 200 })).items.filter((j) => ['queued', 'running', 'retrying'].includes(j.status));
    const model = await findModel(api, arg);
    const targets = jobs.filter((j) => j.id === arg || (model && (j.spec as { output?: { modelId?: string } }).output?.modelId === model.id));
    if (targets.length === 0) throw new Error(`nothing is being served for ${arg} (no running serve job for that model or with that id)`);
    const stopped = [];
    for (const j of targets) stopped.push(await api.jobs.cancel.mutate({ id: j.id }));
    return { data: stopped, text: stopped.map((j) => `stopped job ${j.id} (${j.status})`).join('\n') };
  }
  if (sub === 'list') {
    const jobs = (await api.jobs.list.query({ kind: 'serve', limit: 200 })).items;
    return { data: jobs, text: table(['job', 'status', 'endpoint', 'since'], jobs.map((j) => [j.id, j.status, (j.spec as { output?: { name?: string } }).output?.name ?? '—', j.createdAt.toString()])) };
  }
  throw new Error('usage: ctxlab serve start MODEL [--engine vllm|lab] [--gpu TYPE --tp N] [--max-model-len N] [--port P] [--name ENDPOINT] [--executor local|kubernetes] [--team T] [--priority P] [--wait] | serve stop MODEL|JOB | serve list');
}

export async function adaptersCommand(api: Api, sub: string | undefined, arg: string | undefined, o: Opts): Promise<Result> {
  if (sub === 'list') {
    const page = await api.adapters.list.query({ limit: 100, search: o.search as string | undefined });
    return { data: page, text: table(['name', 'rank', 'targets', 'uri'], page.items.map((a) => [a.name, a.rank, a.targetModules.length, a.uri ?? '—'])) };
  }
  if (sub === 'extract') {
    if (!o.model || !o.base || !o.rank || !o.name || !o.output) throw new Error('usage: ctxlab adapters extract --model FINETUNED --base BASE --rank R --name NAME --output URI [--tool lab|mergekit] [--gpu TYPE] [--executor …] [--team T] [--priority P] [--wait]');
    const [ft, base] = await Promise.all([modelByName(api, o.model as string), modelByName(api, o.base as string)]);
    const tool = toolOf(o);
    const r = await api.gpu.extractAdapter.mutate({
      finetunedModelId: ft.id, baseModelId: base.id, maxRank: num(o, 'rank')!, name: o.name as string, output: o.output as string, executor: executorOf(o),
      ...(tool ? { tool } : {}), ...(o.gpu ? { gpuType: o.gpu as string } : {}), ...schedulingOf(o),
    });
    return queued(api, o, r, `extract ${o.name as string} (rank ≤ ${o.rank as string}) from ${ft.name} − ${base.name}`);
  }
  if (sub === 'merge' && arg) {
    if (!o.into || !o.name || !o.output) throw new Error('usage: ctxlab adapters merge ADAPTER --into TARGET --name NAME --output URI [--tool lab|mergekit] [--gpu TYPE] [--executor …] [--team T] [--priority P] [--wait]');
    const adapter = (await api.adapters.list.query({ search: arg, limit: 50 })).items.find((a) => a.name === arg);
    if (!adapter) throw new Error(`no adapter named ${arg} (ctxlab adapters list)`);
    const target = await modelByName(api, o.into as string);
    const tool = toolOf(o);
    const r = await api.gpu.mergeAdapter.mutate({
      adapterId: adapter.id, targetModelId: target.id, name: o.name as string, output: o.output as string, executor: executorOf(o),
      ...(tool ? { tool } : {}), ...(o.gpu ? { gpuType: o.gpu as string } : {}), ...schedulingOf(o),
    });
    return queued(api, o, r, `merge ${adapter.name} into ${target.name} as ${o.name as string}`);
  }
  throw new Error('usage: ctxlab adapters list | adapters extract … | adapters merge ADAPTER --into TARGET …');
}
