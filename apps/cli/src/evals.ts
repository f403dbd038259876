/** `ctxlab evals start|watch` and `ctxlab jobs …`: evals as jobs on the platform, from a terminal. */
import type { createClient } from '@ctxlab/api/client';
import { SingleBar } from 'cli-progress';
import { specFromFlags } from './niah';
import { table } from './table';

type Api = ReturnType<typeof createClient>;
type Opts = Record<string, string | boolean | undefined>;

interface Progress {
  done: number;
  total: number;
  failed?: number;
  averageScore?: number | null;
  etaSeconds: number | null;
  /** GPU jobs: what done counts, and the latest training loss. */
  unit?: string;
  loss?: number | null;
}

/** Polls the job until it ends, drawing a progress bar (cells of a sweep, steps of a training stage, modules of an extraction); returns the final job. */
export async function watchJob(api: Api, jobId: string) {
  const bar = new SingleBar({ format: '{status} |{bar}| {value}/{total} {unit} · {detail} · ETA {eta}', stream: process.stderr, noTTYOutput: true, notTTYSchedule: 5000, hideCursor: true });
  let started = false;
  for (;;) {
    const job = await api.jobs.get.query({ id: jobId });
    const p = (job.progress ?? null) as Progress | null;
    const detail = p?.unit
      ? `loss ${p.loss === null || p.loss === undefined ? '—' : p.loss.toFixed(4)}`
      : `avg ${p?.averageScore?.toFixed(1) ?? '—'} · failed ${p?.failed ?? 0}`;
    const fields = { status: job.status, unit: p?.unit ?? 'cells', detail, eta: p?.etaSeconds ? `${Math.round(p.etaSeconds)}s` : '—' };
    if (p && !started) {
      bar.start(p.total, p.done, fields);
      started = true;
    } else if (p) bar.update(p.done, fields);
    if (['succeeded', 'failed', 'cancelled'].includes(job.status)) {
      if (started) bar.stop();
      return job;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function evalsCommand(api: Api, sub: string | undefined, arg: string | undefined, o: Opts): Promise<{ data: unknown; text: string }> {
  if (sub === 'start') {
    const endpointName = o.endpoint as string | undefined;
    if (!endpointName) throw new Error('--endpoint NAME (a registered endpoint) is required');
    const eps = await api.endpoints.list.query({ search: endpointName, limit: 20 });
    const ep = eps.items.find((e) => e.name === endpointName);
    if (!ep) throw new Error(`no endpoint named ${endpointName}`);
    const r = await api.evals.start.mutate({
      name: (o.name as string | undefined) ?? `niah ${endpointName}`,
      endpointId: ep.id,
      spec: specFromFlags(o) as never,
      concurrency: Number(o.concurrency ?? 4),
      mode: (o.mode as 'chat' | 'completion-ids' | undefined) ?? 'chat',
    });
    const head = `${r.created ? 'started' : 'already started'}: eval ${r.evalRun.id} (job ${r.job.id}), ${r.evalRun.cellsTotal} cells`;
    if (!o.wait) return { data: r, text: head };
    process.stderr.write(`${head}\n`);
    const job = await watchJob(api, r.job.id);
    return { data: job, text: `${job.status}${job.error ? `: ${job.error}` : ''}` };
  }
  if (sub === 'watch' && arg) {
    const run = await api.evals.get.query({ id: arg });
    if (!run.jobId) throw new Error(`eval ${arg} has no job`);
    const job = await watchJob(api, run.jobId);
    return { data: job, text: `${job.status}${job.error ? `: ${job.error}` : ''}` };
  }
  if (sub === 'list') {
    const page = await api.evals.list.query({ limit: Number(o.limit ?? 50) });
    return { data: page, text: table(['id', 'name', 'status', 'cells'], page.items.map((r) => [r.id, r.name, r.status, `${r.cellsDone}/${r.cellsTotal}`])) };
  }
  throw new Error('usage: ctxlab evals start --endpoint NAME [grid flags] [--wait] | evals watch EVAL_ID | evals list');
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
