import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { PageHead } from '../../../src/components/EntityList';
import { JobLive } from '../../../src/components/JobLive';
import { api, loadOr404 } from '../../../src/server/api';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Job' };

export default async function JobPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const a = (await api());
  const j = await loadOr404(() => a.portal.job({ id }));
  if (!j) notFound();
  const waiting = j.gpuType !== null && j.status === 'queued' && !j.admittedAt;
  const [events, team, queue] = await Promise.all([
    a.jobs.events({ jobId: id }),
    j.teamId ? loadOr404(() => a.teams.get({ id: j.teamId! })) : Promise.resolve(null),
    waiting ? a.scheduler.queue() : Promise.resolve(null),
  ]);
  const scheduling = { team: team?.name ?? null, wait: queue?.waiting.find((w) => w.id === id) ?? null, renderedAt: Date.now() };
  return (
    <>
      <PageHead crumbs={[['/jobs', 'Jobs']]} title={j.evalRun ? `Job: ${j.evalRun.name}` : `Job ${j.id}`} sub={<>{j.kind} · executor {j.executor} · <span className="mono">{j.id}</span></>} />
      <JobLive initial={j} initialEvents={events} scheduling={scheduling} />
    </>
  );
}
