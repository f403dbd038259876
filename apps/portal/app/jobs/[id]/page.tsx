import { notFound } from 'next/navigation';
import { fmtDate, KeyValues } from '../../../src/components/EntityList';
import { api, loadOr404 } from '../../../src/server/api';

export const dynamic = 'force-dynamic';

export default async function JobPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const a = api();
  const j = await loadOr404(() => a.jobs.get({ id }));
  if (!j) notFound();
  const events = await a.jobs.events({ jobId: id });
  return (
    <>
      <h1>Job {j.id}</h1>
      <p className="sub">{j.kind} · <span className={`status status-${j.status}`}>{j.status}</span></p>
      <div className="panel">
        <KeyValues items={[['attempts', `${j.attempts} / ${j.maxAttempts}`], ['executor', j.executor], ['queued', fmtDate(j.queuedAt)], ['started', fmtDate(j.startedAt)], ['finished', fmtDate(j.finishedAt)], ['error', j.error]]} />
      </div>
      <div className="panel">
        <h2>Event log</h2>
        <table className="data">
          <thead><tr><th>time</th><th>type</th><th>transition</th><th>message</th></tr></thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id}><td>{fmtDate(e.createdAt)}</td><td>{e.type}</td><td>{e.fromStatus ?? ''}{e.toStatus ? ` → ${e.toStatus}` : ''}</td><td>{e.message}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
