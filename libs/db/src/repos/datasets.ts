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
  prepared: (d.prepared ?? null) as Record<string, unknown> | null,
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
    /** The live dataset stored at `uri` (a prepared dataset's location), if any. */
    findByUri: async (uri: string) => {
      const d = await db.dataset.findFirst({ where: { uri, archivedAt: null }, orderBy: { createdAt: 'desc' } });
      return d ? toRecord(d) : null;
    },
    /**
     * Registers a prepared training dataset and its edges to the datasets it was made from, in one
     * transaction: it exists with its lineage or not at all.
     */
    createPrepared(input: DatasetCreate & { prepared: unknown; jobId: string | null }, sources: { parentId: string; ratio: number | null; note?: string }[]) {
      return guard('dataset', async () =>
        toRecord(
          await db.$transaction(async (tx) => {
            const { prepared, ...rest } = input;
            const d = await tx.dataset.create({
              data: { ...rest, kind: kindIn(input.kind), bytes: BigInt(input.bytes), tokenCounts: input.tokenCounts as Prisma.InputJsonValue, prepared: prepared as Prisma.InputJsonValue, tasks: {} },
            });
            await tx.datasetLineage.createMany({ data: sources.map((s) => ({ parentId: s.parentId, childId: d.id, ratio: s.ratio, jobId: input.jobId, note: s.note ?? null })) });
            return d;
          }),
        ),
      );
    },
    /** The newest live dataset prepared from a recipe's stage (1-based), if any. */
    preparedForStage: async (recipeId: string, stage: number) => {
      const d = await db.dataset.findFirst({
        where: { archivedAt: null, AND: [{ prepared: { path: ['recipe', 'recipeId'], equals: recipeId } }, { prepared: { path: ['recipe', 'stage'], equals: stage } }] },
        orderBy: { createdAt: 'desc' },
      });
      return d ? toRecord(d) : null;
    },
    /** Where a dataset comes from and where it went: its sources (with their shares), datasets made from it, and models trained on it. */
    async lineage(id: string) {
      const [sources, derived, models] = await Promise.all([
        db.datasetLineage.findMany({ where: { childId: id }, include: { parent: { select: { id: true, name: true, kind: true } } }, orderBy: { createdAt: 'asc' } }),
        db.datasetLineage.findMany({ where: { parentId: id }, include: { child: { select: { id: true, name: true, kind: true } } }, orderBy: { createdAt: 'asc' } }),
        db.modelDataset.findMany({ where: { datasetId: id }, include: { model: { select: { id: true, name: true } } }, orderBy: { createdAt: 'asc' } }),
      ]);
      const kind = (k: DatasetRow['kind']) => k.replace('_', '-') as DatasetKind;
      return {
        sources: sources.map((e) => ({ id: e.parent.id, name: e.parent.name, kind: kind(e.parent.kind), ratio: e.ratio, jobId: e.jobId })),
        derived: derived.map((e) => ({ id: e.child.id, name: e.child.name, kind: kind(e.child.kind), ratio: e.ratio, jobId: e.jobId })),
        models: models.map((e) => ({ id: e.model.id, name: e.model.name, jobId: e.jobId, note: e.note })),
      };
    },
    /** Records that a model was trained on a dataset (by the job that trained it); a second record of the pair is a no-op. */
    async addTrainedModel(datasetId: string, modelId: string, jobId: string | null, note?: string) {
      await db.modelDataset.createMany({ data: [{ datasetId, modelId, jobId, note: note ?? null }], skipDuplicates: true });
    },
    async archive(id: string) {
      await this.get(id);
      return toRecord(await db.dataset.update({ where: { id }, data: { archivedAt: new Date() } }));
    },
  };
}
