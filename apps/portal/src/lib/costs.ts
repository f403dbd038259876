/**
 * How the portal reads and writes cost figures: money per currency (a lab job on the CPU costs a
 * fraction of a cent, which two decimals would show as $0.00), GPU-hours, the /costs range from
 * its search parameters, and a job's GPU time beside the planner's estimate.
 */
import { fmtInt } from '@ctxlab/ui';

/** An amount in its currency, with as many decimals as it takes to show two significant digits of a small amount. */
export function fmtMoney(amount: number | null | undefined, currency: string | null | undefined): string {
  if (amount === null || amount === undefined || !Number.isFinite(amount) || !currency) return '—';
  const a = Math.abs(amount);
  const decimals = a === 0 || a >= 1 ? 2 : Math.min(6, Math.max(2, Math.ceil(-Math.log10(a)) + 1));
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency, minimumFractionDigits: decimals, maximumFractionDigits: decimals }).format(amount);
  } catch {
    // A code Intl does not know: the number and the code as the price table has them.
    return `${amount.toFixed(decimals)} ${currency}`;
  }
}

/** Costs kept per currency (never added across currencies), as one line: "$1.20 + €0.40"; "—" when none. */
export function fmtCosts(cost: Readonly<Record<string, number>>): string {
  const parts = Object.entries(cost).sort(([a], [b]) => a.localeCompare(b)).map(([c, v]) => fmtMoney(v, c));
  return parts.length ? parts.join(' + ') : '—';
}

/** GPU-hours with the precision their size needs, without trailing zeros: 1,204 · 12.5 · 10 · 0.42 · 0.0021. */
export function fmtGpuHours(h: number | null | undefined): string {
  if (h === null || h === undefined || !Number.isFinite(h)) return '—';
  const a = Math.abs(h);
  if (a >= 100) return fmtInt(h);
  if (a >= 10) return String(Number(h.toFixed(1)));
  if (a >= 0.01 || a === 0) return String(Number(h.toFixed(2)));
  return String(Number(h.toPrecision(2)));
}

/** A ratio as "1.35×". */
export const fmtRatio = (r: number | null | undefined) => (r === null || r === undefined || !Number.isFinite(r) ? '—' : `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`);

/** A fraction as a percentage with one decimal: MFU 0.3812 → "38.1%". */
export const fmtPercent = (f: number | null | undefined) => (f === null || f === undefined || !Number.isFinite(f) ? '—' : `${(f * 100).toFixed(f < 0.001 ? 3 : 1)}%`);

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const dayOf = (d: Date) => d.toISOString().slice(0, 10);
const parseDay = (s: string) => {
  if (!DAY.test(s)) return null;
  const d = new Date(`${s}T00:00:00.000Z`);
  return Number.isNaN(d.getTime()) || dayOf(d) !== s ? null : d;
};

export interface CostRange {
  /** The days as the form shows them (YYYY-MM-DD, UTC); `to` is the last day included. */
  fromDay: string;
  toDay: string;
  /** What the API is asked for: from the first day's start to the last day's end (not after `now`). */
  from: Date;
  to: Date;
  /** A day that could not be read, per field, and the default used instead. */
  errors: { from?: string; to?: string };
}

/**
 * The /costs range from its `from` and `to` search parameters (whole UTC days, both included).
 * Default: this month so far. A day that is not a date, or a range that ends before it starts,
 * is reported and the default taken in its place.
 */
export function costRange(sp: { from?: string | undefined; to?: string | undefined }, now = new Date()): CostRange {
  const errors: CostRange['errors'] = {};
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  let from = monthStart;
  let toDay = dayOf(now);
  if (sp.from) {
    const d = parseDay(sp.from);
    if (d) from = d;
    else errors.from = `“${sp.from}” is not a date (YYYY-MM-DD): showing from ${dayOf(monthStart)}`;
  }
  if (sp.to) {
    const d = parseDay(sp.to);
    if (d) toDay = sp.to;
    else errors.to = `“${sp.to}” is not a date (YYYY-MM-DD): showing up to today`;
  }
  let end = new Date(parseDay(toDay)!.getTime() + 86_400_000);
  if (end <= from) {
    errors.to = `the range ends (${toDay}) before it starts (${dayOf(from)}): showing up to today`;
    toDay = dayOf(now);
    end = new Date(parseDay(toDay)!.getTime() + 86_400_000);
    if (end <= from) {
      errors.from = `${dayOf(from)} is in the future: showing from ${dayOf(monthStart)}`;
      from = monthStart;
    }
  }
  return { fromDay: dayOf(from), toDay, from, to: end.getTime() > now.getTime() ? now : end, errors };
}

/** What the planner estimated for a training job, as the job records it (null: no estimate, or not one this reads). */
export interface TrainingEstimate {
  gpuHours: number;
  wallHours: number | null;
  mfu: number | null;
  peakFlops: number | null;
  tokens: number | null;
  device: string | null;
  devices: number | null;
  peakFrom: string | null;
}

export function readEstimate(e: unknown): TrainingEstimate | null {
  if (!e || typeof e !== 'object') return null;
  const o = e as Record<string, unknown>;
  const num = (k: string) => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : null);
  const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : null);
  const gpuHours = num('gpuHours');
  if (gpuHours === null) return null;
  return { gpuHours, wallHours: num('wallHours'), mfu: num('mfu'), peakFlops: num('peakFlops'), tokens: num('tokens'), device: str('device'), devices: num('devices'), peakFrom: str('peakFrom') };
}

/**
 * The GPU time a job is charged for, as the cost accounts count it: from when the executor
 * reported it running to when it ended (or now), × its GPUs; a job that holds no GPU counts as
 * one "cpu" device. Null before the executor has started it.
 */
export function gpuTime(j: { gpus: number; gpuType: string | null; gpuStartedAt: Date | string | null; gpuEndedAt: Date | string | null }, now = new Date()) {
  if (!j.gpuStartedAt) return null;
  const start = new Date(j.gpuStartedAt).getTime();
  const end = j.gpuEndedAt ? new Date(j.gpuEndedAt).getTime() : now.getTime();
  const hours = Math.max(0, (end - start) / 3_600_000);
  const devices = j.gpus > 0 ? j.gpus : 1;
  return { device: j.gpus > 0 ? (j.gpuType ?? 'unknown') : 'cpu', devices, hours, gpuHours: hours * devices, running: !j.gpuEndedAt };
}

/**
 * Actual against estimate for a finished job: actual ÷ estimated GPU-hours, and the MFU the actual
 * time implies (the estimate's MFU × estimate ÷ actual) — the accounts' own arithmetic.
 */
export function versusEstimate(actualGpuHours: number, e: TrainingEstimate): { ratio: number | null; impliedMfu: number | null } {
  if (!(actualGpuHours > 0) || !(e.gpuHours > 0)) return { ratio: null, impliedMfu: null };
  return { ratio: actualGpuHours / e.gpuHours, impliedMfu: e.mfu === null ? null : (e.mfu * e.gpuHours) / actualGpuHours };
}
