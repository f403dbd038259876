import { DataTable, fmtDate, fmtInt, KeyValues, StatusBadge, Tags } from '@ctxlab/ui';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { EndpointHealth } from '../../../src/components/EndpointHealth';
import { PageHead } from '../../../src/components/EntityList';
import { ScoreChip } from '../../../src/components/ScoreChip';
import { api, loadOr404 } from '../../../src/server/api';

export const dynamic = 'force-dynamic';

export default async function EndpointPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const a = (await api());
  const e = await loadOr404(() => a.endpoints.get({ id }));
  if (!e) notFound();
  const [model, runs] = await Promise.all([e.modelId ? loadOr404(() => a.models.get({ id: e.modelId! })) : null, a.portal.evalRuns({ endpointId: id, limit: 10 })]);
  return (
    <>
      <PageHead
        crumbs={[['/endpoints', 'Endpoints']]}
        title={e.name}
        sub={<><Tags tags={e.tags} /></>}
        actions={<Link className="btn" href={`/evals/new?endpoint=${e.id}`}>Start an eval here</Link>}
      />
      <div className="cols">
        <section className="panel" aria-labelledby="ep-h">
          <h2 id="ep-h">Endpoint</h2>
          <KeyValues
            items={[
              ['URL', <span key="u" className="mono">{e.url}</span>], ['kind', e.kind], ['served model name', <code key="s">{e.servedModelName}</code>],
              ['registry model', model ? <Link key="m" href={`/models/${model.id}`}>{model.name}</Link> : '—'],
              ['max model len', fmtInt(e.maxModelLen)], ['last status', e.lastStatus ? <StatusBadge key="st" status={e.lastStatus === 'ok' ? 'ok' : 'error'} /> : 'never checked'],
              ['last checked', fmtDate(e.lastCheckedAt)], ['created', fmtDate(e.createdAt)],
            ]}
          />
        </section>
        <section className="panel" aria-labelledby="h-h">
          <h2 id="h-h">Health</h2>
          <p className="result-sub" style={{ marginTop: 0 }}>Asks <code>{e.url.replace(/\/+$/, '')}{/\/v1$/.test(e.url.replace(/\/+$/, '')) ? '' : '/v1'}/models</code> with a 3-second timeout.</p>
          <EndpointHealth id={e.id} />
        </section>
      </div>
      <section className="panel" aria-labelledby="r-h">
        <h2 id="r-h">Eval runs against it</h2>
        <DataTable
          caption="Eval runs against this endpoint"
          rows={runs.items}
          rowKey={(r) => r.id}
          empty="None yet."
          columns={[
            { header: 'Run', cell: (r) => <Link href={`/evals/${r.id}`}>{r.name}</Link> },
            { header: 'Status', cell: (r) => <StatusBadge status={r.status} /> },
            { header: 'Avg score', numeric: true, cell: (r) => <ScoreChip score={r.averageScore} /> },
            { header: 'Created', cell: (r) => fmtDate(r.createdAt) },
          ]}
        />
      </section>
    </>
  );
}
