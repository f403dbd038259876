import { EntityList, fmtDate, listParams } from '../../src/components/EntityList';
import { api } from '../../src/server/api';

export const dynamic = 'force-dynamic';

export default async function EvalsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const p = listParams(await searchParams);
  const page = await api().evals.list(p);
  return (
    <EntityList
      title="Evals" subtitle="Needle-in-a-haystack sweeps and other evaluations of models and endpoints." basePath="/evals"
      page={page} {...p} emptyText="No eval runs yet."
      columns={[
        { header: 'Name', cell: (r) => r.name },
        { header: 'Kind', cell: (r) => r.kind },
        { header: 'Status', cell: (r) => <span className={`status status-${r.status}`}>{r.status}</span> },
        { header: 'Cells', cell: (r) => `${r.cellsDone} / ${r.cellsTotal}`, numeric: true },
        { header: 'Created', cell: (r) => fmtDate(r.createdAt) },
      ]}
    />
  );
}
