import { badRequest, notFound, type EndpointCreateInput as EndpointCreate, type EndpointPatch } from '@ctxlab/contracts';
import type { Db } from '../client';
import { guard } from '../errors';
import type { Prisma } from '../generated/prisma/client';
import { paginate, textSearch, type ListArgs } from './paging';

/** The encrypted API key never leaves the repository: rows say only whether one is set. */
function redacted<T extends { apiKeyEncrypted?: string | null }>(r: T): Omit<T, 'apiKeyEncrypted'> & { hasApiKey: boolean } {
  const { apiKeyEncrypted, ...rest } = r;
  return { ...rest, hasApiKey: Boolean(apiKeyEncrypted) };
}

export function endpointsRepo(db: Db) {
  async function checkModel(modelId: string | null | undefined) {
    if (modelId && !(await db.model.findUnique({ where: { id: modelId }, select: { id: true } }))) {
      throw badRequest(`modelId: model ${modelId} does not exist`, 'modelId');
    }
  }
  return {
    list: (a: ListArgs & { modelId?: string | undefined }) =>
      paginate(db.endpoint, a, { ...textSearch(['name', 'url', 'servedModelName'], a.search), ...(a.modelId ? { modelId: a.modelId } : {}) }, redacted, {
        defaultSort: { name: 'asc' },
      }),
    /** The endpoint, or null when there is none. */
    async find(id: string) {
      const r = await db.endpoint.findUnique({ where: { id } });
      return r ? redacted(r) : null;
    },
    async get(id: string) {
      const r = await this.find(id);
      if (!r) throw notFound('endpoint', id);
      return r;
    },
    /** `apiKeyEncrypted`: already encrypted by the caller (libs/api), or null to clear it. */
    async create(input: Omit<EndpointCreate, 'apiKey'> & { apiKeyEncrypted?: string | null }) {
      await checkModel(input.modelId);
      return redacted(await guard('endpoint', () => db.endpoint.create({ data: input })));
    },
    async update(id: string, patch: Omit<EndpointPatch, 'apiKey'> & { apiKeyEncrypted?: string | null }) {
      await this.get(id);
      await checkModel(patch.modelId);
      return redacted(await guard('endpoint', () => db.endpoint.update({ where: { id }, data: patch })));
    },
    /** For the worker only: the stored (encrypted) API key of an endpoint. */
    async encryptedApiKey(id: string): Promise<string | null> {
      return (await db.endpoint.findUnique({ where: { id }, select: { apiKeyEncrypted: true } }))?.apiKeyEncrypted ?? null;
    },
    /** The endpoint of that name, or null. */
    async findByName(name: string) {
      const e = await db.endpoint.findUnique({ where: { name } });
      return e ? redacted(e) : null;
    },
    /** Registers (or updates, by name) the endpoint a serve job brought up. */
    async upsertServed(name: string, data: Omit<Prisma.EndpointCreateManyInput, 'name'>) {
      return redacted(await db.endpoint.upsert({ where: { name }, create: { name, ...data }, update: data }));
    },
    /** Records the status of the endpoint of that name, if there is one (a stopped serve job). */
    async recordHealthByName(name: string, status: string) {
      await db.endpoint.updateMany({ where: { name }, data: { lastStatus: status, lastCheckedAt: new Date() } });
    },
    async recordHealth(id: string, status: string) {
      return redacted(await db.endpoint.update({ where: { id }, data: { lastCheckedAt: new Date(), lastStatus: status } }));
    },
    async archive(id: string) {
      await this.get(id);
      return redacted(await db.endpoint.update({ where: { id }, data: { archivedAt: new Date() } }));
    },
  };
}
