import { fmtDate, StatusBadge, Tags } from '@ctxlab/ui';
import type { Metadata } from 'next';
import { EndpointForm } from '../../src/components/EndpointForm';
import { EndpointHealth } from '../../src/components/EndpointHealth';
import { listParams, PageHead, SearchList, type SearchParams } from '../../src/components/EntityList';
import { api } from '../../src/server/api';
import { endpointStatusBadge } from '../../src/lib/endpoint-status';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Endpoints' };

export default async function EndpointsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const p = listParams(await searchParams);
  const a = (await api());
  const [page, models] = await Promise.all([a.endpoints.list(p), a.models.list({ limit: 200, sort: { field: 'name', dir: 'asc' } })]);
  return (
    <>
      <PageHead title="Endpoints" sub="OpenAI-compatible servers (vLLM and others) that evals send prompts to." />
      <section className="panel" aria-labelledby="reg-h">
        <h2 id="reg-h">Register an endpoint</h2>
        <EndpointForm models={models.items.map((m) => ({ id: m.id, name: m.name }))} />
      </section>
      <SearchList
        basePath="/endpoints" label="Search endpoints" placeholder="name, URL, served model…" minWidth={260}
        caption="Registered endpoints" params={p} page={page} empty="No endpoints registered yet: register one above."
        columns={[
          { header: 'URL', cell: (e) => <span className="mono">{e.url}</span> },
          { header: 'Served model', cell: (e) => <code>{e.servedModelName}</code> },
          { header: 'API key', cell: (e) => (e.hasApiKey ? 'set (encrypted)' : '—') },
          { header: 'Last check', cell: (e) => (e.lastStatus ? <><StatusBadge status={endpointStatusBadge(e.lastStatus)} /> <span className="progress-line">{e.lastStatus} · {fmtDate(e.lastCheckedAt)}</span></> : 'never') },
          { header: 'Health', id: 'health', cell: (e) => <EndpointHealth id={e.id} compact /> },
          { header: 'Tags', cell: (e) => <Tags tags={e.tags} /> },
        ]}
      />
    </>
  );
}
