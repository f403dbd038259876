import { badRequest, notFound, type EndpointCreateInput as EndpointCreate, type EndpointPatch } from '@ctxlab/contracts';
import type { Db } from '../client';
import { guard } from '../errors';
import { paginate, textSearch, type ListArgs } from './paging';

const identity = <T>(x: T) => x;

export function endpointsRepo(db: Db) {
  async function checkModel(modelId: string | null | undefined) {
    if (modelId && !(await db.model.findUnique({ where: { id: modelId }, select: { id: true } }))) {
      throw badRequest(`modelId: model ${modelId} does not exist`, 'modelId');
    }
  }
  return {
    list: (a: ListArgs & { modelId?: string | undefined }) =>
      paginate(db.endpoint, a, { ...textSearch(['name', 'url', 'servedModelName'], a.search), ...(a.modelId ? { modelId: a.modelId } : {}) }, identity, {
        defaultSort: { name: 'asc' },
      }),
    async get(id: string) {
      const r = await db.endpoint.findUnique({ where: { id } });
      if (!r) throw notFound('endpoint', id);
      return r;
    },
    async create(input: EndpointCreate) {
      await checkModel(input.modelId);
      return guard('endpoint', () => db.endpoint.create({ data: input }));
    },
    async update(id: string, patch: EndpointPatch) {
      await this.get(id);
      await checkModel(patch.modelId);
      return guard('endpoint', () => db.endpoint.update({ where: { id }, data: patch }));
    },
    async recordHealth(id: string, status: string) {
      return db.endpoint.update({ where: { id }, data: { lastCheckedAt: new Date(), lastStatus: status } });
    },
    async archive(id: string) {
      await this.get(id);
      return db.endpoint.update({ where: { id }, data: { archivedAt: new Date() } });
    },
  };
}
