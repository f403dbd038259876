/**
 * What a GPU job request is charged to and how it is scheduled: the team (checked against the
 * requester's membership), the pool it needs, and — for training — the planner's estimate, which
 * the cost accounts later set beside what the job really took.
 */
import { badRequest, DomainError, stageTokens, type JobPriority } from '@ctxlab/contracts';
import { modelConfigOf, type Repositories } from '@ctxlab/db';
import { gpuTypeLabelValue, type JobSpec, type RenderedJob } from '@ctxlab/dispatch';
import { DEFAULT_MFU, findGpu, flopsPerToken, trainingCompute } from '@ctxlab/longctx';

/** Who asks: a person (their id and role in ctxlab) or in-process code acting for one (no id: no membership check). */
export interface Requester {
  name: string;
  id?: string | undefined;
  role?: 'viewer' | 'member' | 'admin' | undefined;
}

const RANK = { viewer: 0, member: 1, admin: 2 } as const;
/** The device type of work that holds no GPU, as prices and accounts name it. */
export const CPU_DEVICE = 'cpu';

/**
 * The team a request is charged to. Named: the requester must be a member (or admin) of it, unless
 * they are a ctxlab admin. Not named: the requester's only team; none when they are in no team; an
 * error naming their teams when they are in several.
 */
export async function resolveTeam(repos: Repositories, team: string | undefined, who: Requester): Promise<string | null> {
  if (team) {
    let t;
    try {
      t = await repos.teams.resolve(team);
    } catch {
      throw badRequest(`team: no team is called or has the id ${team}`, 'team');
    }
    if (who.id && who.role !== 'admin') {
      const role = await repos.teams.roleIn(t.id, who.id);
      if (!role || RANK[role] < RANK.member) {
        throw new DomainError('FORBIDDEN', `you are ${role ? `a ${role} of` : 'not in'} team ${t.name}: only its members and admins start jobs charged to it`);
      }
    }
    return t.id;
  }
  if (!who.id) return null;
  const mine = await repos.teams.teamsOf(who.id);
  if (mine.length <= 1) return mine[0]?.team.id ?? null;
  throw badRequest(`team: you are in teams ${mine.map((m) => m.team.name).join(', ')}: say which one the job is charged to`, 'team');
}

/** The "type" of a GPU job that names none: it may run on any GPU, so no one pool can hold it back (nor price it). */
export const ANY_GPU = 'any';

/** The pool a rendered job needs: its GPU type as node labels and prices name it, and its GPUs (0 and "cpu": no GPU). */
export function poolOf(rendered: RenderedJob): { gpuType: string; gpus: number } {
  const { gpus, gpuType } = rendered.resources;
  if (gpus <= 0) return { gpuType: CPU_DEVICE, gpus: 0 };
  return { gpuType: gpuType ? gpuTypeLabelValue(gpuType) : ANY_GPU, gpus };
}

export interface TrainingEstimate {
  gpuHours: number;
  wallHours: number;
  tokens: number;
  flopsPerToken: number;
  totalFlops: number;
  peakFlops: number;
  mfu: number;
  device: string;
  devices: number;
  /** Where the peak came from: the planner's catalog or the price table. */
  peakFrom: 'catalog' | 'price table';
}

/**
 * The planner's estimate for a training job, as the recipe planner makes it: tokens × FLOPs/token
 * of the model it starts from, at DEFAULT_MFU of the device's peak (the catalog's, else the price
 * table's peakFlops for devices like the lab's cpu). Null when the model or the peak is unknown.
 */
export async function estimateTraining(repos: Repositories, spec: JobSpec, pool: { gpuType: string; gpus: number }, parentModelId: string | undefined): Promise<TrainingEstimate | null> {
  if (spec.kind !== 'train' || !parentModelId) return null;
  const model = await repos.models.get(parentModelId).catch(() => null);
  if (!model) return null;
  const stageGpu = spec.stage.gpuType;
  const catalog = findGpu(stageGpu) ?? findGpu(pool.gpuType);
  const price = catalog ? null : (await repos.scheduling.prices()).find((p) => p.gpuType === pool.gpuType || p.gpuType === stageGpu.toLowerCase());
  const peakFlops = catalog?.peakBf16Flops ?? price?.peakFlops ?? null;
  if (!peakFlops) return null;
  const devices = Math.max(1, pool.gpus);
  const tokens = stageTokens(spec.stage);
  const f = flopsPerToken(modelConfigOf(model), spec.stage.seqLength).total;
  const c = trainingCompute({ tokens, flopsPerToken: f, gpus: devices, peakFlops, mfu: DEFAULT_MFU });
  return { gpuHours: c.gpuHours, wallHours: c.wallHours, tokens, flopsPerToken: f, totalFlops: c.totalFlops, peakFlops, mfu: DEFAULT_MFU, device: pool.gpuType, devices, peakFrom: catalog ? 'catalog' : 'price table' };
}

export type { JobPriority };
