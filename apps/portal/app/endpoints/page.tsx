import { EntityList, fmtDate, listParams, Tags } from '../../src/components/EntityList';
import { api } from '../../src/server/api';

export const dynamic = 'force-dynamic';

export default async function EndpointsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const p = listParams(await searchParams);
  const page = await api().endpoints.list(p);
  return (
    <EntityList
      title="Endpoints" subtitle="OpenAI-compatible servers (vLLM and others) serving registry models." basePath="/endpoints"
      page={page} {...p} emptyText="No endpoints registered."
      columns={[
        { header: 'Name', cell: (e) => e.name },
        { header: 'URL', cell: (e) => <span className="mono">{e.url}</span> },
        { header: 'Served model', cell: (e) => e.servedModelName },
        { header: 'Last check', cell: (e) => (e.lastStatus ? `${e.lastStatus} · ${fmtDate(e.lastCheckedAt)}` : 'never') },
        { header: 'Tags', cell: (e) => <Tags tags={e.tags} /> },
      ]}
    />
  );
}
