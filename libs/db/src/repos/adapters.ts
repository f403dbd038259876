import { badRequest, type AdapterCreateInput as AdapterCreate, type AdapterPatch } from '@ctxlab/contracts';
import type { Db } from '../client';
import { guard } from '../errors';
import type { Adapter as AdapterRow } from '../generated/prisma/client';
import { byIdOrName, paginate, textSearch, type ListArgs } from './paging';

const toRecord = (a: AdapterRow) => ({ ...a, sizeBytes: a.sizeBytes === null ? null : Number(a.sizeBytes) });
export type AdapterRecord = ReturnType<typeof toRecord>;

export function adaptersRepo(db: Db) {
  async function modelExists(id: string, field: string) {
    if (!(await db.model.findUnique({ where: { id }, select: { id: true } }))) throw badRequest(`${field}: model ${id} does not exist`, field);
  }
  return {
    list: (a: ListArgs & { baseModelId?: string | undefined; modelId?: string | undefined }) =>
      paginate(
        db.adapter,
        a,
        {
          ...textSearch(['name', 'description'], a.search),
          ...(a.baseModelId ? { baseModelId: a.baseModelId } : {}),
          ...(a.modelId ? { AND: [{ OR: [{ baseModelId: a.modelId }, { sourceModelId: a.modelId }] }] } : {}),
        },
        toRecord,
        {
          defaultSort: { name: 'asc' },
        },
      ),
    ...byIdOrName('adapter', (where) => db.adapter.findUnique({ where }), toRecord),
    /** `jobId`, `teamId`: the job that extracted it and its team (set by the GPU processor, never by API input). */
    async create(input: AdapterCreate & { jobId?: string; teamId?: string | null }) {
      await modelExists(input.baseModelId, 'baseModelId');
      if (input.sourceModelId) await modelExists(input.sourceModelId, 'sourceModelId');
      const { sizeBytes, ...rest } = input;
      return guard('adapter', async () => toRecord(await db.adapter.create({ data: { ...rest, ...(sizeBytes !== undefined ? { sizeBytes: BigInt(sizeBytes) } : {}) } })));
    },
    async update(id: string, patch: AdapterPatch) {
      await this.get(id);
      const { sizeBytes, ...rest } = patch;
      return guard('adapter', async () =>
        toRecord(await db.adapter.update({ where: { id }, data: { ...rest, ...(sizeBytes !== undefined ? { sizeBytes: sizeBytes === null ? null : BigInt(sizeBytes) } : {}) } })),
      );
    },
    async archive(id: string) {
      await this.get(id);
      return toRecord(await db.adapter.update({ where: { id }, data: { archivedAt: new Date() } }));
    },
  };
}
