/**
 * Idempotent seed: models, lineage, adapters and recipes of the published long-context work.
 * Every record is validated through the same zod schemas the API uses, then upserted by its
 * natural key, so running it twice leaves the same rows.
 */
import { adapterCreateInput, modelCreateInput, recipeSpecSchema } from '@ctxlab/contracts';
import { seedingRepo, type Db } from '@ctxlab/db';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { seedAdapters, seedLineage, seedModels, seedRecipes, seedPrices } from './seed-data';

const root = resolve(import.meta.dirname, '..');
/** Seed files shipped in the repository (`file://libs/…`) are registered by their absolute URI in this checkout. */
const absoluteUri = (uri: string | undefined) => (uri?.startsWith('file://') && !uri.startsWith('file:///') ? pathToFileURL(resolve(root, uri.slice('file://'.length))).href : uri);

export async function seed(db: Db) {
  const repo = seedingRepo(db);
  const ids = new Map<string, string>();
  for (const raw of seedModels) {
    const m = modelCreateInput.parse({ ...raw, sourceUri: absoluteUri(raw.sourceUri) });
    const { config, serving, ...rest } = m;
    const data = { ...rest, ...config, ropeScaling: config.ropeScaling ?? undefined, serving: serving ?? undefined };
    ids.set(m.name, await repo.upsertModel(data));
  }
  const id = (name: string) => {
    const v = ids.get(name);
    if (!v) throw new Error(`seed refers to unknown model ${name}`);
    return v;
  };
  for (const e of seedLineage) {
    const kind = e.kind.replace('-', '_') as 'context_extension';
    await repo.upsertLineage({ parentId: id(e.parent), childId: id(e.child), kind, note: e.note ?? null });
  }
  for (const a of seedAdapters) {
    const { base, source, ...rest } = a;
    const parsed = adapterCreateInput.parse({ ...rest, baseModelId: id(base), sourceModelId: id(source) });
    const { sizeBytes: _s, ...data } = parsed;
    await repo.upsertAdapter(data);
  }
  for (const r of seedRecipes) {
    const spec = recipeSpecSchema.parse(r.spec);
    const data = { name: r.name, version: 1, description: r.description, tags: r.tags, method: spec.method, spec: spec as object };
    await repo.upsertRecipe(data);
  }
  for (const p of seedPrices) await repo.priceIfMissing(p);
  return { models: seedModels.length, lineage: seedLineage.length, adapters: seedAdapters.length, recipes: seedRecipes.length };
}
