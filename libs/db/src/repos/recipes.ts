import { notFound, recipeSpecSchema, type RecipeSpec } from '@ctxlab/contracts';
import type { Db } from '../client';
import { guard } from '../errors';
import type { Prisma, Recipe as RecipeRow } from '../generated/prisma/client';
import { paginate, textSearch, type ListArgs } from './paging';

export type RecipeRecord = Omit<RecipeRow, 'spec'> & { spec: RecipeSpec };
const toRecord = (r: RecipeRow): RecipeRecord => ({ ...r, spec: recipeSpecSchema.parse(r.spec) });

export function recipesRepo(db: Db) {
  return {
    /** Latest version of each recipe unless allVersions is set. */
    async list(a: ListArgs & { method?: string | undefined; allVersions?: boolean | undefined }) {
      const where: Prisma.RecipeWhereInput = { ...textSearch(['name', 'description'], a.search), ...(a.method ? { method: a.method } : {}) };
      if (!a.allVersions) {
        const latest = await db.recipe.groupBy({ by: ['name'], _max: { version: true }, where: a.includeArchived ? where : { ...where, archivedAt: null } });
        where.OR = latest.map((l) => ({ name: l.name, version: l._max.version ?? 1 }));
        if (latest.length === 0) where.id = '__none__';
      }
      return paginate(db.recipe, a, where as Record<string, unknown>, toRecord, { defaultSort: { name: 'asc' } });
    },
    async get(id: string) {
      const r = await db.recipe.findUnique({ where: { id } });
      if (!r) throw notFound('recipe', id);
      return toRecord(r);
    },
    async versions(name: string) {
      const rows = await db.recipe.findMany({ where: { name }, orderBy: { version: 'desc' } });
      return rows.map(toRecord);
    },
    async getByName(name: string, version?: number) {
      const r = await db.recipe.findFirst({ where: { name, ...(version ? { version } : {}) }, orderBy: { version: 'desc' } });
      return r ? toRecord(r) : null;
    },
    create(input: { name: string; description?: string | undefined; tags: string[]; spec: RecipeSpec }) {
      return guard('recipe', async () =>
        toRecord(await db.recipe.create({ data: { ...input, method: input.spec.method, spec: input.spec as unknown as Prisma.InputJsonValue } })),
      );
    },
    /** A new spec becomes a new version (the old one stays, so runs that used it stay explained). */
    async update(id: string, patch: { description?: string | null | undefined; tags?: string[] | undefined; spec?: RecipeSpec | undefined }) {
      const current = await this.get(id);
      if (patch.spec) {
        return guard('recipe', async () =>
          db.$transaction(async (tx) => {
            const top = await tx.recipe.findFirst({ where: { name: current.name }, orderBy: { version: 'desc' } });
            return toRecord(
              await tx.recipe.create({
                data: {
                  name: current.name,
                  version: (top?.version ?? current.version) + 1,
                  description: patch.description === undefined ? current.description : patch.description,
                  tags: patch.tags ?? current.tags,
                  method: patch.spec!.method,
                  spec: patch.spec as unknown as Prisma.InputJsonValue,
                },
              }),
            );
          }),
        );
      }
      const { spec: _spec, ...rest } = patch;
      return guard('recipe', async () => toRecord(await db.recipe.update({ where: { id }, data: rest })));
    },
    async archive(id: string) {
      const r = await this.get(id);
      await db.recipe.updateMany({ where: { name: r.name }, data: { archivedAt: new Date() } });
      return this.get(id);
    },
  };
}
