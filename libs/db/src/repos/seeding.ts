import type { Prisma } from '../generated/prisma/client';
import type { Db } from '../client';

type LineageKind = Prisma.LineageEdgeCreateInput['kind'];

/**
 * The seed's writes: every record upserted by its natural key (model and adapter name, the
 * lineage triple, recipe name and version), so seeding twice leaves the same rows.
 */
export function seedingRepo(db: Db) {
  return {
    /** A model by name; returns its id. */
    async upsertModel(data: Prisma.ModelCreateInput): Promise<string> {
      return (await db.model.upsert({ where: { name: data.name }, create: data, update: data })).id;
    },
    /** A lineage edge between two models, with its note. */
    async upsertLineage(e: { parentId: string; childId: string; kind: LineageKind; note: string | null }) {
      await db.lineageEdge.upsert({
        where: { parentId_childId_kind: { parentId: e.parentId, childId: e.childId, kind: e.kind } },
        create: e,
        update: { note: e.note },
      });
    },
    /** An adapter by name. */
    async upsertAdapter(data: Prisma.AdapterUncheckedCreateInput) {
      await db.adapter.upsert({ where: { name: data.name }, create: data, update: data });
    },
    /** A recipe by name and version. */
    async upsertRecipe(data: Prisma.RecipeUncheckedCreateInput & { version: number }) {
      await db.recipe.upsert({ where: { name_version: { name: data.name, version: data.version } }, create: data, update: data });
    },
    /** A device's price, unless one is set (an admin's edit is never overwritten by a re-seed). */
    async priceIfMissing(data: { gpuType: string; pricePerHour: number; currency: string; peakFlops: number | null; note: string }) {
      await db.gpuPrice.upsert({ where: { gpuType: data.gpuType }, create: { ...data, updatedBy: 'seed' }, update: {} });
    },
    /** Eval runs in bulk, as given (benchmarks fill a registry of thousands this way); returns how many. */
    async insertEvalRuns(rows: Prisma.EvalRunCreateManyInput[]): Promise<number> {
      return (await db.evalRun.createMany({ data: rows })).count;
    },
    /** One eval run as given; returns its id. */
    async insertEvalRun(row: Prisma.EvalRunUncheckedCreateInput): Promise<string> {
      return (await db.evalRun.create({ data: row, select: { id: true } })).id;
    },
    /** Marks runs finished now. */
    async finishEvalRuns(ids: string[]) {
      await db.evalRun.updateMany({ where: { id: { in: ids } }, data: { finishedAt: new Date() } });
    },
    /** Fresh planner statistics for the eval tables after a bulk load. */
    async analyzeEvalTables() {
      await db.$executeRawUnsafe('ANALYZE "EvalRun"; ANALYZE "EvalCell"');
    },
  };
}
