'use client';

import { fmtDate, fmtDuration, fmtInt, ProgressBar, StatusBadge } from '@ctxlab/ui';
import Link from 'next/link';
import { useState } from 'react';
import { browserApi, errorMessage } from '../lib/client';
import { usePoll } from '../lib/hooks';
import type { Out } from '../lib/types';
import { hrefWith, ListPanel } from './EntityList';
import { JobActions } from './JobActions';
import { JobEvents } from './JobEvents';

type Board = Out['portal']['jobsBoard'];
type Status = NonNullable<Parameters<ReturnType<typeof browserApi>['portal']['jobsBoard']['query']>[0]['status']>;
const TABS: [string, Status | null, boolean][] = [['all', null, false], ['active', null, true], ['running', 'running', false], ['queued', 'queued', false], ['failed', 'failed', false], ['cancelled', 'cancelled', false], ['succeeded', 'succeeded', false]];

/** A tab's first page, or the page after `after` (`at` jobs before it). */
const hrefFor = (status: Status | null, activeOnly: boolean, page?: { after: string; at: number }) => hrefWith('/jobs', { status, active: activeOnly ? '1' : undefined, ...page });

/** The jobs list, refreshed every two seconds: status, progress, ETA, latest event, cancel and retry. */
export function JobsBoard({ initial, filter }: { initial: Board; filter: { status: Status | null; activeOnly: boolean; offset: number; cursor?: string | undefined; at: number; limit: number } }) {
  const { data, error } = usePoll(
    () => browserApi().portal.jobsBoard.query({ limit: filter.limit, offset: filter.offset, ...(filter.cursor ? { cursor: filter.cursor } : {}), ...(filter.status ? { status: filter.status } : {}), activeOnly: filter.activeOnly }),
    2000,
    true,
    initial,
  );
  const board = data ?? initial;
  const [open, setOpen] = useState<string | null>(null);
  const counts = board.counts as Record<string, number | undefined>;
  const active = (counts.queued ?? 0) + (counts.running ?? 0) + (counts.retrying ?? 0);
  return (
    <>
      <nav className="filters" aria-label="Job status">
        <div className="segmented">
          {TABS.map(([label, status, activeOnly]) => {
            const n = label === 'all' ? Object.values(counts).reduce<number>((a, b) => a + (b ?? 0), 0) : label === 'active' ? active : (counts[label] ?? 0);
            const on = filter.status === status && filter.activeOnly === activeOnly;
            return (
              <Link key={label} href={hrefFor(status, activeOnly)} aria-current={on ? 'page' : undefined} style={{ padding: '5px 12px', fontSize: 13, borderLeft: label === 'all' ? 0 : '1px solid var(--line-strong)', background: on ? 'var(--accent)' : '#fff', color: on ? '#fff' : 'var(--ink)' }}>
                {label} <span style={{ opacity: 0.75 }}>{fmtInt(n)}</span>
              </Link>
            );
          })}
        </div>
        <span className="progress-line" aria-live="polite">{error ? <span className="status-bad">live updates paused: {errorMessage(error)}</span> : <>live · updated every 2 s</>}</span>
      </nav>
      <ListPanel
        caption="Jobs, newest first"
        rows={board.items}
        empty={filter.status || filter.activeOnly ? 'No jobs with this status.' : <>No jobs yet. <Link href="/evals/new">Start an eval</Link> to dispatch one.</>}
        columns={[
          { header: 'Job', rowHeader: true, cell: (j) => <><Link href={`/jobs/${j.id}`}>{j.evalRun?.name ?? j.id}</Link><div className="progress-line" title={j.id}>{j.kind} · <span className="mono">{j.id.slice(-8)}</span></div></> },
          { header: 'Status', cell: (j) => <><StatusBadge status={j.status} />{j.attempts > 0 && <div className="progress-line nowrap">retried {j.attempts}×</div>}</> },
          {
            header: 'Progress',
            cell: (j) => {
              const p = j.progress;
              const done = p?.done ?? j.evalRun?.cellsDone ?? 0;
              const total = p?.total ?? j.evalRun?.cellsTotal ?? 0;
              if (!total) return '—';
              return (
                <div style={{ minWidth: 160 }}>
                  <ProgressBar done={done} total={total} failed={p?.failed ?? 0} label={`progress of ${j.evalRun?.name ?? j.id}`} />
                  <span className="progress-line">{fmtInt(done)} / {fmtInt(total)}{p?.averageScore !== null && p?.averageScore !== undefined ? ` · score ${p.averageScore.toFixed(1)}` : ''}{j.status === 'running' && p?.etaSeconds ? ` · ETA ${fmtDuration(p.etaSeconds)}` : ''}</span>
                </div>
              );
            },
          },
          { header: 'Queued (UTC)', cell: (j) => <span className="nowrap">{fmtDate(j.queuedAt).slice(5)}</span> },
          {
            header: 'Latest event',
            cell: (j) => (
              <>
                <span className="cell-ellipsis" style={{ display: 'inline-block', maxWidth: 240 }} title={j.lastEvent?.message}>{j.lastEvent?.message ?? '—'}</span>
                <div><button type="button" className="btn secondary small" aria-expanded={open === j.id} onClick={() => setOpen(open === j.id ? null : j.id)}>{open === j.id ? 'Hide log' : 'Event log'}</button></div>
              </>
            ),
          },
          { header: 'Actions', id: 'actions', cell: (j) => <JobActions jobId={j.id} status={j.status} /> },
        ]}
      >
        {open && (
          <div className="panel" style={{ marginTop: 12 }}>
            <div className="panel-head"><h2>Event log of {board.items.find((j) => j.id === open)?.evalRun?.name ?? open}</h2><button type="button" className="btn secondary small" onClick={() => setOpen(null)}>Close</button></div>
            <JobEvents jobId={open} live />
          </div>
        )}
        <nav className="pager" aria-label="Pages">
          <span>{board.total === 0 ? 'none' : `${fmtInt(filter.at + 1)}–${fmtInt(filter.at + board.items.length)} of ${fmtInt(board.total)}`}</span>
          <span className="spacer" />
          {filter.at > 0 && <Link href={hrefFor(filter.status, filter.activeOnly)} aria-label="First page">« first</Link>}
          {board.nextCursor !== null && <Link href={hrefFor(filter.status, filter.activeOnly, { after: board.nextCursor, at: filter.at + board.items.length })} rel="next">next →</Link>}
        </nav>
      </ListPanel>
    </>
  );
}
