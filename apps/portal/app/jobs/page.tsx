import { EntityList, fmtDate, listParams } from '../../src/components/EntityList';
import { api } from '../../src/server/api';

export const dynamic = 'force-dynamic';

export default async function JobsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const p = listParams(await searchParams);
  const page = await api().jobs.list({ limit: p.limit, offset: p.offset });
  return (
    <EntityList
      title="Jobs" subtitle="Work dispatched to workers: evaluations, training, LoRA extraction and merge, serving." basePath="/jobs"
      page={page} {...p} emptyText="No jobs yet."
      columns={[
        { header: 'Job', cell: (j) => j.id },
        { header: 'Kind', cell: (j) => j.kind },
        { header: 'Status', cell: (j) => <span className={`status status-${j.status}`}>{j.status}</span> },
        { header: 'Attempts', cell: (j) => j.attempts, numeric: true },
        { header: 'Queued', cell: (j) => fmtDate(j.queuedAt) },
      ]}
    />
  );
}
