/**
 * The cost accounts: what every GPU job took (the executor's start and end times × its GPUs; a job
 * that holds no GPU counts as one "cpu" device), priced by the admin-editable table, summed per
 * team, per month and per device type, and per model over its lineage. Training jobs carry the
 * planner's estimate, set here beside what they really took.
 */
import { badRequest, type CostQueryInput } from '@ctxlab/contracts';
import type { Repositories } from '@ctxlab/db';
import { CPU_DEVICE } from '@ctxlab/jobs';

type CostJobRow = Awaited<ReturnType<Repositories['scheduling']['costJobs']>>[number];
type Price = Awaited<ReturnType<Repositories['scheduling']['prices']>>[number];

export interface JobCost {
  jobId: string;
  kind: string;
  status: string;
  team: string | null;
  device: string;
  devices: number;
  startedAt: Date;
  endedAt: Date | null;
  hours: number;
  gpuHours: number;
  cost: number | null;
  currency: string | null;
  estimateGpuHours: number | null;
  /** actual ÷ estimate, finished training jobs only. */
  ratio: number | null;
  /** The MFU the actual time implies: the estimate's MFU × estimate ÷ actual. */
  impliedMfu: number | null;
  output: string | null;
}

export interface Sum {
  gpuHours: number;
  jobs: number;
  /** Per currency (a table with two currencies is never added up as one). */
  cost: Record<string, number>;
  /** GPU-hours on devices the price table has no price for. */
  unpricedGpuHours: number;
}

const emptySum = (): Sum => ({ gpuHours: 0, jobs: 0, cost: {}, unpricedGpuHours: 0 });
function addTo(s: Sum, j: JobCost) {
  s.gpuHours += j.gpuHours;
  s.jobs++;
  if (j.cost !== null && j.currency) s.cost[j.currency] = (s.cost[j.currency] ?? 0) + j.cost;
  else s.unpricedGpuHours += j.gpuHours;
}

function jobCost(j: CostJobRow, prices: Map<string, Price>, now: Date): JobCost {
  const device = j.gpus > 0 ? (j.gpuType ?? 'unknown') : CPU_DEVICE;
  const devices = j.gpus > 0 ? j.gpus : 1;
  const start = j.gpuStartedAt!;
  const end = j.gpuEndedAt;
  const hours = Math.max(0, ((end ?? now).getTime() - start.getTime()) / 3_600_000);
  const gpuHours = hours * devices;
  const price = prices.get(device);
  const estimate = j.estimate as { gpuHours?: number; mfu?: number } | null;
  const est = typeof estimate?.gpuHours === 'number' ? estimate.gpuHours : null;
  const finished = end !== null && j.status === 'succeeded';
  const spec = j.spec as { output?: { name?: string } } | null;
  return {
    jobId: j.id, kind: j.kind, status: j.status, team: j.team?.name ?? null, device, devices, startedAt: start, endedAt: end, hours, gpuHours,
    cost: price ? gpuHours * price.pricePerHour : null, currency: price?.currency ?? null,
    estimateGpuHours: est,
    ratio: est && finished && gpuHours > 0 ? gpuHours / est : null,
    impliedMfu: est && finished && gpuHours > 0 && typeof estimate?.mfu === 'number' ? (estimate.mfu * est) / gpuHours : null,
    output: spec?.output?.name ?? null,
  };
}

/** The first instant of `d`'s UTC month. */
const monthStart = (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));

export async function costReport(repos: Repositories, input: CostQueryInput, now = new Date()) {
  const from = input.from ?? monthStart(now);
  const to = input.to ?? now;
  if (from >= to) throw badRequest(`from (${from.toISOString()}) must be before to (${to.toISOString()})`, 'from');
  const teamId = input.team ? (await repos.teams.resolve(input.team).catch(() => { throw badRequest(`team: no team is called or has the id ${input.team}`, 'team'); })).id : undefined;
  const [rows, prices] = await Promise.all([repos.scheduling.costJobs({ from, to, ...(teamId ? { teamId } : {}) }), repos.scheduling.prices()]);
  const priceMap = new Map(prices.map((p) => [p.gpuType, p]));
  const jobs = rows.map((r) => jobCost(r, priceMap, now));
  const totals = emptySum();
  const byTeam = new Map<string, Sum>();
  const byMonth = new Map<string, Sum>();
  const byDevice = new Map<string, Sum>();
  const bucket = (m: Map<string, Sum>, k: string) => {
    let s = m.get(k);
    if (!s) m.set(k, (s = emptySum()));
    return s;
  };
  for (const j of jobs) {
    addTo(totals, j);
    addTo(bucket(byTeam, j.team ?? '(no team)'), j);
    addTo(bucket(byMonth, j.startedAt.toISOString().slice(0, 7)), j);
    addTo(bucket(byDevice, j.device), j);
  }
  const list = (m: Map<string, Sum>) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, s]) => ({ key, ...s }));
  return {
    from, to, team: input.team ?? null,
    totals,
    byTeam: list(byTeam),
    byMonth: list(byMonth),
    byDevice: list(byDevice),
    jobs,
    /** Every finished training job with an estimate: the planner's GPU-hours beside the actual ones. */
    estimates: jobs.filter((j) => j.ratio !== null),
    prices,
  };
}

/** What a model cost: every job in its lineage (its training stages, the extraction and merge that made it). */
export async function modelCost(repos: Repositories, modelId: string, now = new Date()) {
  const model = await repos.models.get(modelId);
  const ids = await repos.scheduling.lineageJobIds(model.id);
  const [rows, prices] = await Promise.all([ids.length ? repos.scheduling.costJobs({ jobIds: ids }) : Promise.resolve([]), repos.scheduling.prices()]);
  const priceMap = new Map(prices.map((p) => [p.gpuType, p]));
  const jobs = rows.map((r) => jobCost(r, priceMap, now));
  const total = emptySum();
  for (const j of jobs) addTo(total, j);
  return { modelId: model.id, model: model.name, total, jobs };
}
