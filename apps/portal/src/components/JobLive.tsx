'use client';

import { fmtBytes, fmtDate, fmtDuration, fmtInt, KeyValues, LineChart, ProgressBar, StatusBadge } from '@ctxlab/ui';
import Link from 'next/link';
import { useState } from 'react';
import { browserApi, errorMessage } from '../lib/client';
import { usePoll } from '../lib/hooks';
import { readPrepareResult, type PrepareResult } from '../lib/prepared';
import type { Out } from '../lib/types';
import { JobActions } from './JobActions';
import { JobEvents } from './JobEvents';
import { isScheduled, JobScheduling, type QueueEntry } from './JobScheduling';
import { Panel } from './Panel';

type Job = Out['portal']['job'];
const FINAL = ['succeeded', 'failed', 'cancelled'];

/**
 * A job as it runs: read every second until it ends (`setLive(true)` follows it again after a
 * cancel or retry). Without `initial` it is read at once; `job` is undefined until then.
 */
export function useLiveJob(id: string, initial?: Job) {
  const [live, setLive] = useState(initial ? !FINAL.includes(initial.status) : true);
  const { data, error } = usePoll(async () => {
    const j = await browserApi().portal.job.query({ id });
    if (FINAL.includes(j.status)) setLive(false);
    return j;
  }, 1000, live, initial);
  return { job: data, error, live, setLive };
}

/**
 * A dataset preparation's counts: source bytes read, and tokens and sequences written — so far, or
 * once it has succeeded the totals of its result (its last progress report may come before the end).
 */
export function PrepareNumbers({ progress: reported, result }: { progress: Job['progress']; result: PrepareResult | null }) {
  const progress = result ? { ...reported, tokens: result.tokens, sequences: result.sequences } : reported;
  return (
    <>
      <div><span className="v">{fmtBytes(progress?.done ?? 0)} / {fmtBytes(progress?.total ?? 0)}</span><span className="k">sources read</span></div>
      <div><span className="v" data-testid="prepare-tokens">{fmtInt(progress?.tokens ?? 0)}</span><span className="k">tokens written</span></div>
      <div><span className="v" data-testid="prepare-sequences">{fmtInt(progress?.sequences ?? 0)}</span><span className="k">sequences</span></div>
    </>
  );
}

/**
 * A job's status, progress and event log, polled every second until it ends (and again after
 * cancel/retry); for GPU work, its scheduling (`scheduling`: its team's name, its entry in the
 * queue while it waits) and its GPU time.
 */
export function JobLive({ initial, initialEvents, scheduling }: { initial: Job; initialEvents: Out['jobs']['events']; scheduling?: { team: string | null; wait: QueueEntry | null; renderedAt: number } }) {
  const { job, error, live, setLive } = useLiveJob(initial.id, initial);
  const j = job ?? initial;
  const p = j.progress;
  const prepared = j.kind === 'dataset-prepare' ? readPrepareResult(j.result) : null;
  const done = p?.done ?? j.evalRun?.cellsDone ?? 0;
  const total = p?.total ?? j.evalRun?.cellsTotal ?? 0;
  return (
    <>
      <section className="panel live" aria-labelledby="job-h" data-testid="job-live">
        <div className="panel-head">
          <h2 id="job-h">Status</h2>
          <div className="page-actions">
            <StatusBadge status={j.status} />
            <JobActions jobId={j.id} status={j.status} onChanged={() => setLive(true)} small={false} />
          </div>
        </div>
        {total > 0 && <ProgressBar done={done} total={total} failed={p?.failed ?? 0} label="job progress" />}
        <div className="live-numbers" aria-live="polite">
          {p?.unit === 'bytes' ? (
            <PrepareNumbers progress={p} result={prepared} />
          ) : (
            <div><span className="v">{fmtInt(done)} / {fmtInt(total)}</span><span className="k">{p?.unit ?? 'cells'}</span></div>
          )}
          {p?.unit === 'bytes' ? null : p?.unit === 'steps' ? (
            <div><span className="v">{p.loss === null || p.loss === undefined ? '—' : p.loss.toFixed(4)}</span><span className="k">loss</span></div>
          ) : (
            <div><span className="v">{p?.averageScore === null || p?.averageScore === undefined ? '—' : p.averageScore.toFixed(1)}</span><span className="k">running score</span></div>
          )}
          <div><span className="v">{j.status === 'running' ? fmtDuration(p?.etaSeconds) : '—'}</span><span className="k">ETA</span></div>
          <div><span className="v">{j.attempts}</span><span className="k">retries</span></div>
        </div>
        {p?.curve && p.curve.length >= 2 && (
          <div className="lineage-scroll" data-testid="loss-curve">
            <LineChart
              title="Training loss"
              xLabel="step"
              yLabel="loss"
              xUnit="steps"
              yMax={Math.max(...p.curve.map(([, l]) => l)) * 1.05}
              series={[{ name: 'loss', color: '#2563eb', points: p.curve.map(([x, y]) => ({ x, y })) }]}
            />
          </div>
        )}
        {j.error && <div className="callout error"><p>{j.error}</p></div>}
        {error ? <p className="panel-note status-bad">Live updates paused: {errorMessage(error)}</p> : null}
      </section>
      {scheduling && isScheduled(j) && <JobScheduling job={j} team={scheduling.team} initialWait={scheduling.wait} renderedAt={scheduling.renderedAt} />}
      <div className="cols">
        <Panel id="jd-h" title="Details">
          <KeyValues
            items={[
              ['eval run', j.evalRun ? <Link key="r" href={`/evals/${j.evalRun.id}`}>{j.evalRun.name}</Link> : '—'],
              ['model', j.evalRun?.model ? <Link key="m" href={`/models/${j.evalRun.model.id}`}>{j.evalRun.model.name}</Link> : '—'],
              ...(j.kind === 'dataset-prepare' ? [['dataset prepared', prepared ? <Link key="d" href={`/datasets/${prepared.datasetId}`}>{(j.spec as { name?: string } | null)?.name ?? prepared.datasetId}</Link> : '—'] as const] : []),
              ['queued', fmtDate(j.queuedAt)], ['started', fmtDate(j.startedAt)], ['finished', fmtDate(j.finishedAt)], ['updated', fmtDate(j.updatedAt)],
              ['idempotency key', j.idempotencyKey ? <span key="k" className="mono">{j.idempotencyKey}</span> : '—'],
            ]}
          />
        </Panel>
        <Panel id="ev-h" title="Event log">
          <JobEvents jobId={j.id} live={live} initial={initialEvents} />
        </Panel>
      </div>
    </>
  );
}
