import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { CardPage } from '../../../../src/components/CardPage';
import { api, loadOr404 } from '../../../../src/server/api';

export const dynamic = 'force-dynamic';

export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  const a = await loadOr404(async () => (await api()).adapters.get({ id: (await params).id }));
  return { title: a ? `${a.name} · adapter card` : 'Adapter card' };
}

export default async function AdapterCardPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const card = await loadOr404(async () => (await api()).adapters.card({ id }));
  if (!card) notFound();
  return (
    <CardPage
      crumbs={[['/adapters', 'Adapters'], [`/adapters/${id}`, card.adapter.name]]}
      title="Adapter card"
      sub={<>README.md in the Hugging Face model-card format: PEFT metadata, and how to load it with PEFT and serve it with vLLM. From a terminal: <code>ctxlab adapters card {card.adapter.name} --out DIR</code>.</>}
      back={{ href: `/adapters/${id}`, label: 'Back to the adapter' }}
      card={card}
    />
  );
}
