/** Registry records by exact name, as commands take them. */
import type { createClient } from '@ctxlab/api/client';

type Api = ReturnType<typeof createClient>;

export async function findModel(api: Api, name: string) {
  return (await api.models.list.query({ search: name, limit: 50 })).items.find((m) => m.name === name) ?? null;
}

export async function modelByName(api: Api, name: string) {
  const m = await findModel(api, name);
  if (!m) throw new Error(`no model named ${name} (ctxlab models list --search ${name})`);
  return m;
}
