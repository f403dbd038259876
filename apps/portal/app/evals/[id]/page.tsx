import { notFound } from 'next/navigation';
import { fmtDate, KeyValues } from '../../../src/components/EntityList';
import { api, loadOr404 } from '../../../src/server/api';

export const dynamic = 'force-dynamic';

export default async function EvalPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const a = api();
  const r = await loadOr404(() => a.evals.get({ id }));
  if (!r) notFound();
  const cells = await a.evals.cells({ evalRunId: id, limit: 200 });
  return (
    <>
      <h1>{r.name}</h1>
      <p className="sub">{r.kind} · <span className={`status status-${r.status}`}>{r.status}</span></p>
      <div className="panel">
        <KeyValues
          items={[
            ['model', r.model?.name], ['endpoint', r.endpoint ? `${r.endpoint.name} (${r.endpoint.url})` : null],
            ['cells', `${r.cellsDone} / ${r.cellsTotal}`], ['started', fmtDate(r.startedAt)], ['finished', fmtDate(r.finishedAt)],
            ['summary', r.summary ? <code key="s" className="mono">{JSON.stringify(r.summary)}</code> : '—'],
          ]}
        />
      </div>
      <div className="panel">
        <h2>Cells</h2>
        {cells.items.length === 0 ? <p className="empty">No cells recorded yet.</p> : (
          <table className="data">
            <thead><tr><th className="num">length</th><th className="num">depth</th><th className="num">sample</th><th className="num">score</th><th>error</th></tr></thead>
            <tbody>
              {cells.items.map((c) => (
                <tr key={c.id}><td className="num">{c.contextLength.toLocaleString('en-US')}</td><td className="num">{c.depth}</td><td className="num">{c.sample}</td><td className="num">{c.score ?? '—'}</td><td>{c.error ?? ''}</td></tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}
