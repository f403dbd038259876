import Link from 'next/link';
import { notFound } from 'next/navigation';
import { DataTable, fmtDate, fmtInt, KeyValues, Tags } from '@ctxlab/ui';
import { PageHead } from '../../../src/components/EntityList';
import { api, loadOr404 } from '../../../src/server/api';

export const dynamic = 'force-dynamic';

export default async function DatasetPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const d = await loadOr404(async () => (await api()).datasets.get({ id }));
  if (!d) notFound();
  return (
    <>
      <PageHead crumbs={[['/datasets', 'Datasets']]} title={d.name} sub={<>{d.description} <Tags tags={d.tags} /></>} actions={d.kind === 'benchmark' ? null : <Link className="btn secondary" href="/evals/new">Use as a haystack</Link>} />
      <div className="panel">
        <KeyValues
          items={[
            ['kind', d.kind], ['source', d.source], ['license', d.license], ['language', d.language], ['documents', fmtInt(d.documents)],
            ['bytes', fmtInt(d.bytes)], ...Object.entries(d.tokenCounts).map(([k, v]): [string, string] => [`tokens (${k})`, fmtInt(v)]),
            ['digest', <span key="d" className="mono">{d.digest ?? '—'}</span>], ['created', fmtDate(d.createdAt)],
          ]}
        />
      </div>
      {d.kind === 'benchmark' ? (
        <section className="panel" aria-labelledby="tasks-h">
          <h2 id="tasks-h">Tasks</h2>
          <p className="panel-note">Each task&apos;s items and the sha256 of its file as imported (MMLU: per subject and split).</p>
          <DataTable
            caption="Tasks of the import"
            dense
            rows={Object.entries(d.tasks).sort(([a], [b]) => a.localeCompare(b))}
            rowKey={([t]) => t}
            empty="No tasks."
            columns={[
              { header: 'Task', cell: ([t]) => <span className="mono">{t}</span> },
              { header: 'Items', numeric: true, cell: ([, v]) => fmtInt(v.items) },
              { header: 'sha256', cell: ([, v]) => <span className="mono">{v.digest}</span> },
            ]}
          />
        </section>
      ) : null}
    </>
  );
}
