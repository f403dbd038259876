import { badRequest, DomainError, notFound } from '@ctxlab/contracts';
import type { Db } from '../client';
import type { Role } from '../generated/prisma/client';

/** Teams, who is in them with which role, and their GPU quotas. */
export function teamsRepo(db: Db) {
  return {
    list: () =>
      db.team.findMany({
        orderBy: { name: 'asc' },
        include: { _count: { select: { members: true, jobs: true } }, quotas: { orderBy: { gpuType: 'asc' } } },
      }),
    async get(id: string) {
      const t = await db.team.findUnique({ where: { id }, include: { members: { include: { user: { select: { id: true, name: true, email: true } } }, orderBy: { createdAt: 'asc' } }, quotas: { orderBy: { gpuType: 'asc' } } } });
      if (!t) throw notFound('team', id);
      return t;
    },
    /** The team an id or a name names. */
    async resolve(idOrName: string) {
      const t = await db.team.findFirst({ where: { OR: [{ id: idOrName }, { name: idOrName }] } });
      if (!t) throw notFound('team', idOrName);
      return t;
    },
    async create(input: { name: string; description?: string | undefined; weight?: number | undefined }) {
      if (await db.team.findUnique({ where: { name: input.name } })) throw new DomainError('CONFLICT', `a team named ${input.name} already exists`);
      return db.team.create({ data: { name: input.name, description: input.description ?? null, weight: input.weight ?? 1 } });
    },
    async update(id: string, patch: { description?: string | undefined; weight?: number | undefined }) {
      await this.get(id);
      return db.team.update({ where: { id }, data: { ...(patch.description !== undefined ? { description: patch.description } : {}), ...(patch.weight !== undefined ? { weight: patch.weight } : {}) } });
    },
    async setMember(teamId: string, userId: string, role: Role) {
      await this.get(teamId);
      if (!(await db.user.findUnique({ where: { id: userId }, select: { id: true } }))) throw badRequest(`user ${userId} does not exist`, 'userId');
      return db.teamMember.upsert({ where: { teamId_userId: { teamId, userId } }, create: { teamId, userId, role }, update: { role } });
    },
    async removeMember(teamId: string, userId: string) {
      const r = await db.teamMember.deleteMany({ where: { teamId, userId } });
      if (r.count === 0) throw notFound('team member', `${userId} in ${teamId}`);
    },
    /** The teams a person is in, with their role in each. */
    teamsOf: (userId: string) => db.teamMember.findMany({ where: { userId }, include: { team: { select: { id: true, name: true } } }, orderBy: { createdAt: 'asc' } }),
    /** A person's role in a team, or null when they are not in it. */
    async roleIn(teamId: string, userId: string): Promise<Role | null> {
      const m = await db.teamMember.findUnique({ where: { teamId_userId: { teamId, userId } }, select: { role: true } });
      return m?.role ?? null;
    },
    setQuota(teamId: string, gpuType: string, q: { period: string; gpuHours: number | null; maxGpus: number | null }, updatedBy: string) {
      return db.gpuQuota.upsert({
        where: { teamId_gpuType: { teamId, gpuType } },
        create: { teamId, gpuType, period: q.period, gpuHours: q.gpuHours, maxGpus: q.maxGpus, updatedBy },
        update: { period: q.period, gpuHours: q.gpuHours, maxGpus: q.maxGpus, updatedBy },
      });
    },
    async removeQuota(teamId: string, gpuType: string) {
      const r = await db.gpuQuota.deleteMany({ where: { teamId, gpuType } });
      if (r.count === 0) throw notFound('quota', `${gpuType} of team ${teamId}`);
    },
    quotas: () => db.gpuQuota.findMany({ include: { team: { select: { name: true } } }, orderBy: [{ teamId: 'asc' }, { gpuType: 'asc' }] }),
  };
}
