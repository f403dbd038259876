/**
 * `ctxlab teams …` and `ctxlab quotas …`: who shares the GPUs and on what terms. A team's weight is
 * its fair share when teams wait at once; a quota caps one GPU type for a team (GPU-hours per
 * period, GPUs held at once).
 */
import type { createClient } from '@ctxlab/api/client';
import { table } from './table';

type Api = ReturnType<typeof createClient>;
type Opts = Record<string, string | boolean | undefined>;
type Result = { data: unknown; text: string };
type Quota = { gpuType: string; period: string; gpuHours: number | null; maxGpus: number | null };

export const teamsUsage = `teams list | teams show TEAM
  teams create NAME [--weight W] [--description D]   W: the team's fair share when teams wait at once (default 1)
  teams add-member TEAM USER [--role viewer|member|admin] | teams remove-member TEAM USER   USER: a user id, or an email (admins)
  teams weight TEAM W`;

export const quotasUsage = `quotas list
  quotas set TEAM GPU_TYPE [--gpu-hours H] [--max-gpus N] [--period day|week|month]   replaces the team's quota for that type; a limit not given is none
  quotas remove TEAM GPU_TYPE`;

const ROLES = ['viewer', 'member', 'admin'] as const;
const PERIODS = ['day', 'week', 'month'] as const;

const num = (v: unknown, what: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !v.trim() || !Number.isFinite(n)) throw new Error(`${what} must be a number; got ${String(v)}`);
  return n;
};

/** "100 GPU-hours a month, 8 GPUs at once": a quota in words. */
export function quotaText(q: Quota): string {
  const hours = q.gpuHours === null ? null : `${q.gpuHours.toLocaleString('en-US')} GPU-hours a ${q.period}`;
  const gpus = q.maxGpus === null ? null : `${q.maxGpus} GPU${q.maxGpus === 1 ? '' : 's'} at once`;
  return `${q.gpuType}: ${[hours, gpus].filter(Boolean).join(', ')}`;
}

/** A user by id, or by email through the user list (which only admins may read). */
async function userIdOf(api: Api, user: string): Promise<string> {
  if (!user.includes('@')) return user;
  const u = (await api.users.list.query()).find((x) => x.email.toLowerCase() === user.toLowerCase());
  if (!u) throw new Error(`no user with the email ${user}`);
  return u.id;
}

export async function teamsCommand(api: Api, sub: string | undefined, args: string[], o: Opts): Promise<Result> {
  const [team, second] = args;
  if (sub === 'list' || sub === undefined) {
    const teams = await api.teams.list.query();
    return {
      data: teams,
      text: teams.length
        ? table(['team', 'weight', 'members', 'jobs', 'quotas', 'description'], teams.map((t) => [t.name, t.weight, t._count.members, t._count.jobs, t.quotas.map(quotaText).join('; ') || '—', t.description ?? '']))
        : 'no teams yet (ctxlab teams create NAME)',
    };
  }
  if (sub === 'show' && team) {
    const t = await api.teams.get.query({ id: team });
    const lines = [
      `${t.name} · weight ${t.weight}${t.description ? ` · ${t.description}` : ''}`,
      t.members.length ? table(['member', 'email', 'role', 'user id'], t.members.map((m) => [m.user.name, m.user.email, m.role, m.user.id])) : 'no members',
      t.quotas.length ? table(['device', 'period', 'GPU-hours', 'GPUs at once', 'set by'], t.quotas.map((q) => [q.gpuType, q.period, q.gpuHours ?? 'no limit', q.maxGpus ?? 'no limit', q.updatedBy])) : 'no quotas',
    ];
    return { data: t, text: lines.join('\n') };
  }
  if (sub === 'create' && team) {
    const weight = num(o.weight, '--weight');
    const t = await api.teams.create.mutate({ name: team, ...(weight !== undefined ? { weight } : {}), ...(typeof o.description === 'string' ? { description: o.description } : {}) });
    return { data: t, text: `created team ${t.name} (weight ${t.weight}, id ${t.id})` };
  }
  if (sub === 'add-member' && team && second) {
    const role = o.role ?? 'member';
    if (!ROLES.includes(role as (typeof ROLES)[number])) throw new Error(`--role must be viewer, member or admin; got ${String(role)}`);
    const m = await api.teams.setMember.mutate({ team, userId: await userIdOf(api, second), role: role as (typeof ROLES)[number] });
    return { data: m, text: `${second} is ${m.role === 'admin' ? 'an' : 'a'} ${m.role} of ${team}` };
  }
  if (sub === 'remove-member' && team && second) {
    const userId = await userIdOf(api, second);
    await api.teams.removeMember.mutate({ team, userId });
    return { data: { team, userId, removed: true }, text: `${second} is no longer in ${team}` };
  }
  if (sub === 'weight' && team && second !== undefined) {
    const weight = num(second, 'the weight')!;
    // The update takes an id; get resolves a name too.
    const t = await api.teams.update.mutate({ id: (await api.teams.get.query({ id: team })).id, weight });
    return { data: t, text: `team ${t.name}: weight ${t.weight}` };
  }
  throw new Error(`usage:\n  ${teamsUsage}`);
}

export async function quotasCommand(api: Api, sub: string | undefined, args: string[], o: Opts): Promise<Result> {
  const [team, gpuType] = args;
  if (sub === 'list' || sub === undefined) {
    const { quotas } = await api.scheduler.queue.query();
    return {
      data: quotas,
      text: quotas.length
        ? table(['team', 'device', 'period', 'GPU-hours', 'used', 'GPUs at once'], quotas.map((q) => [q.team, q.gpuType, q.period, q.gpuHours ?? 'no limit', Number(q.usedGpuHours.toFixed(2)), q.maxGpus ?? 'no limit']))
        : 'no quotas (ctxlab quotas set TEAM GPU_TYPE …)',
    };
  }
  if (sub === 'set' && team && gpuType) {
    const gpuHours = num(o['gpu-hours'], '--gpu-hours');
    const maxGpus = num(o['max-gpus'], '--max-gpus');
    if (gpuHours === undefined && maxGpus === undefined) {
      throw new Error(`quotas set ${team} ${gpuType}: give --gpu-hours H, --max-gpus N or both (a quota limits GPU-hours per period, GPUs at once, or both)`);
    }
    if (maxGpus !== undefined && !Number.isInteger(maxGpus)) throw new Error(`--max-gpus must be a whole number of GPUs; got ${maxGpus}`);
    const period = o.period ?? 'month';
    if (!PERIODS.includes(period as (typeof PERIODS)[number])) throw new Error(`--period must be day, week or month; got ${String(period)}`);
    const q = await api.scheduler.setQuota.mutate({ team, gpuType, period: period as (typeof PERIODS)[number], gpuHours: gpuHours ?? null, maxGpus: maxGpus ?? null });
    return { data: q, text: `team ${team}: ${quotaText(q)}` };
  }
  if (sub === 'remove' && team && gpuType) {
    const r = await api.scheduler.removeQuota.mutate({ team, gpuType });
    return { data: r, text: `team ${team}: no quota on ${gpuType}` };
  }
  throw new Error(`usage:\n  ${quotasUsage}`);
}
