import { EmptyState } from '@ctxlab/ui';
import type { Metadata } from 'next';
import Link from 'next/link';
import { one, PageHead, type SearchParams } from '../../../src/components/EntityList';
import { StartEvalForm } from '../../../src/components/StartEvalForm';
import { StartSuiteForm } from '../../../src/components/StartSuiteForm';
import { api } from '../../../src/server/api';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Start an eval' };

const SUITES = [
  ['niah', 'NIAH', 'A needle-in-a-haystack sweep against an OpenAI-compatible endpoint.'],
  ['ruler', 'RULER', "RULER's synthetic tasks (retrieval, tracing, aggregation, QA) at the lengths you name."],
  ['topic-retrieval', 'Topic retrieval', "LongChat's topic retrieval: recall a conversation's topic as the conversation grows."],
] as const;

export default async function NewEvalPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const sp = await searchParams;
  const suite = SUITES.find(([k]) => k === one(sp.suite)) ?? SUITES[0];
  const a = (await api());
  const [endpoints, models, datasets] = await Promise.all([
    a.endpoints.list({ limit: 200, sort: { field: 'name', dir: 'asc' } }),
    a.models.list({ limit: 200, sort: { field: 'name', dir: 'asc' } }),
    a.datasets.list({ limit: 200, kind: 'haystack' }),
  ]);
  return (
    <>
      <PageHead crumbs={[['/evals', 'Evals']]} title="Start an eval" sub={`${suite[2]} The cost is shown before anything starts.`} />
      <nav className="segmented suite-choice" aria-label="Suite">
        {SUITES.map(([k, label]) => (
          <Link key={k} href={`/evals/new?${new URLSearchParams({ ...(k === 'niah' ? {} : { suite: k }), ...(one(sp.endpoint) ? { endpoint: one(sp.endpoint)! } : {}) })}`} aria-current={k === suite[0] ? 'page' : undefined}>
            {label}
          </Link>
        ))}
      </nav>
      {endpoints.items.length === 0 ? (
        <EmptyState title="No endpoint to evaluate">
          <p>An eval sends prompts to a registered OpenAI-compatible server (vLLM or similar).</p>
          <Link className="btn" href="/endpoints">Register an endpoint</Link>
        </EmptyState>
      ) : suite[0] !== 'niah' ? (
        <StartSuiteForm
          key={suite[0]}
          suite={suite[0]}
          endpoints={endpoints.items.map((e) => ({ id: e.id, name: e.name, url: e.url }))}
          datasets={datasets.items.map((d) => ({ name: d.name, language: d.language }))}
          initialEndpointId={one(sp.endpoint)}
        />
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
