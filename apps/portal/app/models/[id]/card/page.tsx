import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { CardPage } from '../../../../src/components/CardPage';
import { api, loadOr404 } from '../../../../src/server/api';

export const dynamic = 'force-dynamic';

export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  const m = await loadOr404(async () => (await api()).models.get({ id: (await params).id }));
  return { title: m ? `${m.name} · model card` : 'Model card' };
}

export default async function ModelCardPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const card = await loadOr404(async () => (await api()).models.card({ id }));
  if (!card) notFound();
  return (
    <CardPage
      crumbs={[['/models', 'Models'], [`/models/${id}`, card.model.name]]}
      title="Model card"
      sub={<>README.md in the Hugging Face model-card format, written from the registry: lineage, recipe, evaluations, heatmaps and serving settings. From a terminal: <code>ctxlab models card {card.model.name} --out DIR</code>.</>}
      back={{ href: `/models/${id}`, label: 'Back to the model' }}
      card={card}
    />
  );
}
