import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { cache } from 'react';
import { RecipeRunLive } from '../../../../src/components/RecipeRunLive';
import { api, loadOr404 } from '../../../../src/server/api';

export const dynamic = 'force-dynamic';

/** The run, read once per request for both the title and the page. */
const loadRun = cache(async (id: string) => loadOr404(async () => (await api()).recipes.runGet({ id })));

export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  const r = await loadRun((await params).id);
  return { title: r?.name ?? 'Recipe run' };
}

/**
 * A recipe run: its status, stages, gates and loss curves, live while it is queued or running,
 * with Cancel, Retry, Continue and Resume; the recipe's versions are read for a retry under a
 * newer one.
 */
export default async function RecipeRunPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const run = await loadRun(id);
  if (!run) notFound();
  const a = await api();
  const [events, versions] = await Promise.all([a.recipes.runEvents({ id, afterId: 0 }), a.recipes.versions({ name: run.recipe.name })]);
  return <RecipeRunLive initial={run} initialEvents={events} versions={versions.map((v) => ({ id: v.id, version: v.version }))} />;
}
