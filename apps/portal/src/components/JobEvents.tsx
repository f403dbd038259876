'use client';

import { DataTable, fmtDate } from '@ctxlab/ui';
import { useEffect, useRef, useState } from 'react';
import { browserApi, errorMessage } from '../lib/client';
import type { Out } from '../lib/types';
import { ErrorCallout } from './FormErrors';

type Event = Out['jobs']['events'][number];

/** A job's append-only event log; with `live`, new events are fetched every second (only those after the last seen id). */
export function JobEvents({ jobId, live = false, initial = [] }: { jobId: string; live?: boolean; initial?: Event[] }) {
  const [events, setEvents] = useState<Event[]>(initial);
  const [error, setError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(initial.length > 0);
  const last = useRef(initial.length ? initial[initial.length - 1]!.id : 0);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const fresh = await browserApi().jobs.events.query({ jobId, afterId: last.current });
        if (stopped) return;
        if (fresh.length) {
          last.current = fresh[fresh.length - 1]!.id;
          setEvents((e) => [...e, ...fresh]);
        }
        setError(null);
        setLoaded(true);
      } catch (e) {
        if (!stopped) setError(errorMessage(e));
      }
      if (!stopped && live) timer = setTimeout(tick, 1000);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [jobId, live]);
  if (!loaded && !error) return <p className="result-sub"><span className="spinner" aria-hidden="true" /> loading events…</p>;
  return (
    <div className="events" data-testid="job-events">
      <ErrorCallout message={error} />
      <DataTable
        caption={`Event log of job ${jobId}`}
        dense
        rows={[...events].reverse()}
        rowKey={(e) => String(e.id)}
        rowClass={() => 'event-row'}
        empty="No events."
        columns={[
          { header: 'Time (UTC)', cell: (e) => fmtDate(e.createdAt) + new Date(e.createdAt).toISOString().slice(16, 19) },
          { header: 'Type', cell: (e) => e.type },
          { header: 'Transition', cell: (e) => (e.toStatus ? `${e.fromStatus ?? '·'} → ${e.toStatus}` : '') },
          { header: 'Message', cell: (e) => e.message },
        ]}
      />
    </div>
  );
}
