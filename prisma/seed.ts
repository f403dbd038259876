/**
 * Idempotent seed: models, lineage, adapters and recipes of the published long-context work.
 * Every record is validated through the same zod schemas the API uses, then upserted by its
 * natural key, so running it twice leaves the same rows.
 */
import { adapterCreateInput, modelCreateInput, recipeSpecSchema } from '@ctxlab/contracts';
import type { Db } from '@ctxlab/db';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { seedAdapters, seedLineage, seedModels, seedRecipes } from './seed-data';

const root = resolve(import.meta.dirname, '..');
/** Seed files shipped in the repository (`file://libs/…`) are registered by their absolute URI in this checkout. */
const absoluteUri = (uri: string | undefined) => (uri?.startsWith('file://') && !uri.startsWith('file:///') ? pathToFileURL(resolve(root, uri.slice('file://'.length))).href : uri);

export async function seed(db: Db) {
  const ids = new Map<string, string>();
  for (const raw of seedModels) {
    const m = modelCreateInput.parse({ ...raw, sourceUri: absoluteUri(raw.sourceUri) });
    const { config, ...rest } = m;
    const data = { ...rest, ...config, ropeScaling: config.ropeScaling ?? undefined };
    const row = await db.model.upsert({ where: { name: m.name }, create: data, update: data });
    ids.set(m.name, row.id);
  }
  const id = (name: string) => {
    const v = ids.get(name);
    if (!v) throw new Error(`seed refers to unknown model ${name}`);
    return v;
  };
  for (const e of seedLineage) {
    const kind = e.kind.replace('-', '_') as 'context_extension';
    await db.lineageEdge.upsert({
      where: { parentId_childId_kind: { parentId: id(e.parent), childId: id(e.child), kind } },
      create: { parentId: id(e.parent), childId: id(e.child), kind, note: e.note ?? null },
      update: { note: e.note ?? null },
    });
  }
  for (const a of seedAdapters) {
    const { base, source, ...rest } = a;
    const parsed = adapterCreateInput.parse({ ...rest, baseModelId: id(base), sourceModelId: id(source) });
    const { sizeBytes: _s, ...data } = parsed;
    await db.adapter.upsert({ where: { name: parsed.name }, create: data, update: data });
  }
  for (const r of seedRecipes) {
    const spec = recipeSpecSchema.parse(r.spec);
    const data = { name: r.name, version: 1, description: r.description, tags: r.tags, method: spec.method, spec: spec as object };
    await db.recipe.upsert({ where: { name_version: { name: r.name, version: 1 } }, create: data, update: data });
  }
  return { models: seedModels.length, lineage: seedLineage.length, adapters: seedAdapters.length, recipes: seedRecipes.length };
}
