/**
 * `ctxlab prices …` and `ctxlab costs …`: what an hour of each device costs, and what GPU work
 * cost over a range (per team, month and device, with the planner's estimates beside the actual
 * GPU-hours) or over one model's lineage.
 */
import type { createClient } from '@ctxlab/api/client';
import { TRPCClientError } from '@trpc/client';
import { findModel } from './lookup';
import { when } from './queue';
import { table } from './table';

type Api = ReturnType<typeof createClient>;
type Opts = Record<string, string | boolean | undefined>;
type Result = { data: unknown; text: string };
type Sum = { gpuHours: number; jobs: number; cost: Record<string, number>; unpricedGpuHours: number };

export const pricesUsage = `prices list
  prices set GPU_TYPE PRICE_PER_HOUR [--currency USD] [--peak-flops F] [--note N]   F: dense BF16 FLOP/s, for devices outside the planner's catalog
  prices remove GPU_TYPE`;

export const costsUsage = `costs [--from ISO] [--to ISO] [--team T]   GPU-hours and cost per team, month and device (default: this month), planner estimates vs actual
  costs model MODEL                        a model's cost over its lineage (training stages, extraction, merge), job by job`;

const num = (v: unknown, what: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !v.trim() || !Number.isFinite(n)) throw new Error(`${what} must be a number; got ${String(v)}`);
  return n;
};

const dateOf = (v: unknown, flag: string): Date | undefined => {
  if (v === undefined) return undefined;
  const d = new Date(String(v));
  if (typeof v !== 'string' || Number.isNaN(d.getTime())) throw new Error(`--${flag} must be a date or time (ISO 8601, e.g. 2025-01-01 or 2025-01-01T12:00Z); got ${String(v)}`);
  return d;
};

const money = (n: number, currency: string) => `${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`;
/** Sums in each currency apart: the accounts never add two currencies up as one. */
const costOf = (c: Record<string, number>) => Object.entries(c).sort(([a], [b]) => a.localeCompare(b)).map(([cur, n]) => money(n, cur)).join(' + ') || '—';
const hours = (h: number) => Number(h.toFixed(2));
const flops = (f: number | null) => (f === null ? '—' : `${(f / 1e12).toLocaleString('en-US', { maximumFractionDigits: 1 })} TFLOP/s`);

function sumsTable(first: string, rows: (Sum & { key: string })[]): string {
  return table([first, 'jobs', 'GPU-hours', 'cost', 'unpriced GPU-hours'], rows.map((s) => [s.key, s.jobs, hours(s.gpuHours), costOf(s.cost), hours(s.unpricedGpuHours)]));
}

function totalText(s: Sum): string {
  const unpriced = s.unpricedGpuHours > 0 ? ` · ${s.unpricedGpuHours.toFixed(2)} GPU-hours on devices without a price (ctxlab prices set …)` : '';
  return `${s.jobs} job${s.jobs === 1 ? '' : 's'} · ${s.gpuHours.toFixed(2)} GPU-hours · ${costOf(s.cost)}${unpriced}`;
}

export async function pricesCommand(api: Api, sub: string | undefined, args: string[], o: Opts): Promise<Result> {
  const [gpuType, price] = args;
  if (sub === 'list' || sub === undefined) {
    const prices = await api.scheduler.prices.query();
    return {
      data: prices,
      text: prices.length
        ? table(['device', 'per hour', 'peak', 'note', 'set by', 'updated'], prices.map((p) => [p.gpuType, money(p.pricePerHour, p.currency), flops(p.peakFlops), p.note ?? '', p.updatedBy, when(p.updatedAt)]))
        : 'no prices yet (ctxlab prices set GPU_TYPE PRICE_PER_HOUR)',
    };
  }
  if (sub === 'set' && gpuType && price !== undefined) {
    const pricePerHour = num(price, 'PRICE_PER_HOUR')!;
    const peakFlops = num(o['peak-flops'], '--peak-flops');
    const p = await api.scheduler.setPrice.mutate({
      gpuType, pricePerHour,
      ...(typeof o.currency === 'string' ? { currency: o.currency.toUpperCase() } : {}),
      ...(peakFlops !== undefined ? { peakFlops } : {}),
      ...(typeof o.note === 'string' ? { note: o.note } : {}),
    });
    return { data: p, text: `${p.gpuType}: ${money(p.pricePerHour, p.currency)} an hour${p.peakFlops !== null ? ` · peak ${flops(p.peakFlops)}` : ''}` };
  }
  if (sub === 'remove' && gpuType) {
    const r = await api.scheduler.removePrice.mutate({ gpuType });
    return { data: r, text: `${gpuType}: no price (its GPU-hours count as unpriced)` };
  }
  throw new Error(`usage:\n  ${pricesUsage}`);
}

/** A model's lineage cost, by name or id. */
async function modelCost(api: Api, nameOrId: string) {
  const m = await findModel(api, nameOrId);
  try {
    return await api.costs.model.query({ modelId: m?.id ?? nameOrId });
  } catch (e) {
    if (!m && e instanceof TRPCClientError && e.data?.code === 'NOT_FOUND') throw new Error(`no model named or with the id ${nameOrId} (ctxlab models list --search ${nameOrId})`);
    throw e;
  }
}

export async function costsCommand(api: Api, sub: string | undefined, args: string[], o: Opts): Promise<Result> {
  if (sub === 'model') {
    const [model] = args;
    if (!model) throw new Error('usage: ctxlab costs model MODEL');
    const c = await modelCost(api, model);
    const rows = c.jobs.map((j) => [j.jobId, j.kind, j.status, j.team ?? '—', `${j.devices}×${j.device}`, when(j.startedAt), hours(j.hours), hours(j.gpuHours), j.cost === null ? 'no price' : money(j.cost, j.currency ?? ''), j.output ?? '—']);
    return {
      data: c,
      text: [`${c.model}: ${totalText(c.total)}`, ...(rows.length ? [table(['job', 'kind', 'status', 'team', 'devices', 'started', 'hours', 'GPU-hours', 'cost', 'output'], rows)] : ['no GPU work in its lineage'])].join('\n'),
    };
  }
  if (sub !== undefined && sub !== 'report') throw new Error(`usage:\n  ${costsUsage}`);
  const from = dateOf(o.from, 'from');
  const to = dateOf(o.to, 'to');
  if (from && to && from >= to) throw new Error(`--from (${from.toISOString()}) must be before --to (${to.toISOString()})`);
  const r = await api.costs.report.query({ ...(from ? { from } : {}), ...(to ? { to } : {}), ...(typeof o.team === 'string' ? { team: o.team } : {}) });
  const lines = [`GPU costs ${when(r.from)} → ${when(r.to)}${r.team ? ` · team ${r.team}` : ''}`, `total: ${totalText(r.totals)}`];
  if (r.jobs.length) {
    lines.push('', 'per team', sumsTable('team', r.byTeam), '', 'per month', sumsTable('month', r.byMonth), '', 'per device', sumsTable('device', r.byDevice));
  }
  lines.push(
    '',
    'planner estimate vs actual (finished training jobs)',
    r.estimates.length
      ? table(
          ['job', 'output', 'devices', 'planned GPU-hours', 'actual GPU-hours', 'actual ÷ planned', 'implied MFU'],
          r.estimates.map((j) => [j.jobId, j.output ?? '—', `${j.devices}×${j.device}`, hours(j.estimateGpuHours ?? 0), hours(j.gpuHours), j.ratio === null ? '—' : Number(j.ratio.toFixed(2)), j.impliedMfu === null ? '—' : Number(j.impliedMfu.toFixed(3))]),
        )
      : 'none in this range',
  );
  return { data: r, text: lines.join('\n') };
}
