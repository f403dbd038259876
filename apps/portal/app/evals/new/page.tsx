import { EmptyState } from '@ctxlab/ui';
import type { Metadata } from 'next';
import Link from 'next/link';
import { one, PageHead, type SearchParams } from '../../../src/components/EntityList';
import { StartEvalForm } from '../../../src/components/StartEvalForm';
import { api } from '../../../src/server/api';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Start an eval' };

export default async function NewEvalPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const sp = await searchParams;
  const a = (await api());
  const [endpoints, models, datasets] = await Promise.all([
    a.endpoints.list({ limit: 200, sort: { field: 'name', dir: 'asc' } }),
    a.models.list({ limit: 200, sort: { field: 'name', dir: 'asc' } }),
    a.datasets.list({ limit: 200, kind: 'haystack' }),
  ]);
  return (
    <>
      <PageHead crumbs={[['/evals', 'Evals']]} title="Start an eval" sub="A needle-in-a-haystack sweep against an OpenAI-compatible endpoint. The cost is shown before anything starts." />
      {endpoints.items.length === 0 ? (
        <EmptyState title="No endpoint to evaluate">
          <p>An eval sends prompts to a registered OpenAI-compatible server (vLLM or similar).</p>
          <Link className="btn" href="/endpoints">Register an endpoint</Link>
        </EmptyState>
      ) : (
        <StartEvalForm
          endpoints={endpoints.items.map((e) => ({ id: e.id, name: e.name, url: e.url, modelId: e.modelId, maxModelLen: e.maxModelLen }))}
          models={models.items.map((m) => ({ id: m.id, name: m.name }))}
          corpora={datasets.items.map((d) => ({ name: d.name, language: d.language }))}
          initialEndpointId={one(sp.endpoint)}
        />
      )}
    </>
  );
}
