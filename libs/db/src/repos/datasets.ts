import { type DatasetCreateInput, type DatasetKind, type DatasetPatch } from '@ctxlab/contracts';
import type { Db } from '../client';
import { guard } from '../errors';
import type { Dataset as DatasetRow, Prisma } from '../generated/prisma/client';
import { byIdOrName, paginate, textSearch, type ListArgs } from './paging';

/** A benchmark's tasks as imported: items and the sha256 of each task's file(s). */
export type DatasetTasks = Record<string, { items: number; digest: string }>;
type DatasetCreate = Omit<DatasetCreateInput, 'kind'> & { kind: DatasetKind; tasks?: DatasetTasks };

const toRecord = (d: DatasetRow) => ({
  ...d,
  kind: d.kind.replace('_', '-') as DatasetKind,
  bytes: Number(d.bytes),
  tokenCounts: (d.tokenCounts ?? {}) as Record<string, number>,
  tasks: (d.tasks ?? {}) as DatasetTasks,
});
export type DatasetRecord = ReturnType<typeof toRecord>;
const kindIn = (k: DatasetCreate['kind']) => k.replace('-', '_') as DatasetRow['kind'];

export function datasetsRepo(db: Db) {
  return {
    list: (a: ListArgs & { kind?: DatasetCreate['kind'] | undefined; language?: string | undefined }) =>
      paginate(
        db.dataset,
        a,
        { ...textSearch(['name', 'description', 'source'], a.search), ...(a.kind ? { kind: kindIn(a.kind) } : {}), ...(a.language ? { language: a.language } : {}) },
        toRecord,
        { defaultSort: { name: 'asc' } },
      ),
    ...byIdOrName('dataset', (where) => db.dataset.findUnique({ where }), toRecord),
    create(input: DatasetCreate) {
      return guard('dataset', async () =>
        toRecord(await db.dataset.create({ data: { ...input, kind: kindIn(input.kind), bytes: BigInt(input.bytes), tokenCounts: input.tokenCounts as Prisma.InputJsonValue, tasks: (input.tasks ?? {}) as Prisma.InputJsonValue } })),
      );
    },
    async update(id: string, patch: DatasetPatch) {
      await this.get(id);
      const { tokenCounts, ...rest } = patch;
      return guard('dataset', async () =>
        toRecord(await db.dataset.update({ where: { id }, data: { ...rest, ...(tokenCounts ? { tokenCounts: tokenCounts as Prisma.InputJsonValue } : {}) } })),
      );
    },
    /** Creates the dataset and its documents together: a corpus (or a benchmark's files) is never half imported. */
    importCorpus(input: DatasetCreate, documents: { name: string; text: string }[]) {
      return guard('dataset', async () =>
        toRecord(
          await db.$transaction(
            async (tx) => {
              const d = await tx.dataset.create({
                data: { ...input, kind: kindIn(input.kind), bytes: BigInt(input.bytes), tokenCounts: input.tokenCounts as Prisma.InputJsonValue, tasks: (input.tasks ?? {}) as Prisma.InputJsonValue },
              });
              for (let i = 0; i < documents.length; i += 500) {
                await tx.datasetDocument.createMany({ data: documents.slice(i, i + 500).map((doc, j) => ({ datasetId: d.id, ordinal: i + j, name: doc.name, text: doc.text })) });
              }
              return d;
            },
            { timeout: 120_000 },
          ),
        ),
      );
    },
    /** The documents of an imported corpus, in order. */
    documents(datasetId: string) {
      return db.datasetDocument.findMany({ where: { datasetId }, orderBy: { ordinal: 'asc' }, select: { name: true, text: true } });
    },
    async archive(id: string) {
      await this.get(id);
      return toRecord(await db.dataset.update({ where: { id }, data: { archivedAt: new Date() } }));
    },
  };
}
