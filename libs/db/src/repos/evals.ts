import { badRequest, notFound, type EvalRunCreateInput } from '@ctxlab/contracts';
import type { Db } from '../client';
import { guard } from '../errors';
import type { Prisma } from '../generated/prisma/client';
import { paginate, textSearch, type ListArgs } from './paging';

const identity = <T>(x: T) => x;

export function evalsRepo(db: Db) {
  return {
    list: (a: ListArgs & { kind?: string | undefined; status?: string | undefined; modelId?: string | undefined }) =>
      paginate(
        db.evalRun,
        a,
        {
          ...textSearch(['name'], a.search),
          ...(a.kind ? { kind: a.kind } : {}),
          ...(a.status ? { status: a.status } : {}),
          ...(a.modelId ? { modelId: a.modelId } : {}),
        },
        identity,
      ),
    async get(id: string) {
      const r = await db.evalRun.findUnique({ where: { id }, include: { model: { select: { id: true, name: true } }, endpoint: { select: { id: true, name: true, url: true } } } });
      if (!r) throw notFound('eval run', id);
      return r;
    },
    async create(input: EvalRunCreateInput & { cellsTotal?: number; jobId?: string }) {
      for (const [field, table] of [['modelId', db.model], ['endpointId', db.endpoint], ['datasetId', db.dataset]] as const) {
        const id = input[field];
        if (id && !(await (table as unknown as { findUnique(a: object): Promise<unknown> }).findUnique({ where: { id }, select: { id: true } }))) {
          throw badRequest(`${field}: ${field.replace('Id', '')} ${id} does not exist`, field);
        }
      }
      return guard('eval run', () => db.evalRun.create({ data: { ...input, config: input.config as Prisma.InputJsonValue } }));
    },
    async update(id: string, patch: { name?: string | undefined; tags?: string[] | undefined }) {
      await this.get(id);
      return guard('eval run', () => db.evalRun.update({ where: { id }, data: patch }));
    },
    async archive(id: string) {
      await this.get(id);
      return db.evalRun.update({ where: { id }, data: { archivedAt: new Date() } });
    },
    async cells(evalRunId: string, limit: number, offset: number) {
      await this.get(evalRunId);
      const [items, total] = await Promise.all([
        db.evalCell.findMany({ where: { evalRunId }, orderBy: [{ contextLength: 'asc' }, { depth: 'asc' }, { sample: 'asc' }], skip: offset, take: limit }),
        db.evalCell.count({ where: { evalRunId } }),
      ]);
      const next = offset + items.length;
      return { items, total, nextOffset: next < total ? next : null };
    },
  };
}
