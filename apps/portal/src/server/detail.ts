import { notFound } from 'next/navigation';
import { api, loadOr404 } from './api';

type Api = Awaited<ReturnType<typeof api>>;

/**
 * What a detail page starts from: the route's id, the API as the signed-in person, and the record
 * `get` reads — the 404 page when there is none.
 */
export async function recordOr404<T>(params: Promise<{ id: string }>, get: (a: Api, id: string) => Promise<T>): Promise<{ id: string; a: Api; record: T }> {
  const { id } = await params;
  const a = await api();
  const record = await loadOr404(() => get(a, id));
  if (!record) notFound();
  return { id, a, record };
}
