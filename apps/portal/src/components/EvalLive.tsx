'use client';

import type { JobProgress } from '@ctxlab/contracts';
import { fmtDuration, fmtInt, ProgressBar, StatusBadge } from '@ctxlab/ui';
import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import { browserApi, errorMessage } from '../lib/client';
import { usePoll } from '../lib/hooks';
import { JobActions } from './JobActions';


const FINAL = ['succeeded', 'failed', 'cancelled'];

/**
 * Live progress of a run: polls the run and its job every second (progress is written by the
 * worker to PostgreSQL; see libs/api jobs router), refreshes the server-rendered heatmap every few
 * seconds while cells arrive and once more when the run ends.
 */
export interface EvalLiveInitial {
  status: string;
  cellsDone: number;
  cellsTotal: number;
  summary: JobProgress;
  jobStatus: string | null;
  jobError: string | null;
}

export function EvalLive({ runId, jobId, initial }: { runId: string; jobId: string | null; initial: EvalLiveInitial }) {
  const initialStatus = initial.status;
  const router = useRouter();
  const [active, setActive] = useState(!FINAL.includes(initialStatus));
  const lastRefresh = useRef(0);
  const lastDone = useRef(-1);
  const { data, error } = usePoll(
    async () => {
      const api = browserApi();
      const [run, job] = await Promise.all([api.evals.get.query({ id: runId }), jobId ? api.jobs.get.query({ id: jobId }) : Promise.resolve(null)]);
      return { run, job };
    },
    1000,
    active,
  );
  const status = data?.run.status ?? initialStatus;
  useEffect(() => {
    if (!data) return;
    const final = FINAL.includes(data.run.status) && (!data.job || FINAL.includes(data.job.status));
    const now = Date.now();
    if (final) {
      setActive(false);
      router.refresh();
    } else if (data.run.cellsDone !== lastDone.current && now - lastRefresh.current > 3000) {
      lastRefresh.current = now;
      lastDone.current = data.run.cellsDone;
      router.refresh();
    }
  }, [data, router]);

  const p: JobProgress = data ? (((data.job?.progress ?? data.run.summary) as JobProgress | null) ?? {}) : initial.summary;
  const done = data?.run.cellsDone ?? initial.cellsDone;
  const total = data?.run.cellsTotal ?? initial.cellsTotal;
  const jobStatus = data ? data.job?.status : (initial.jobStatus ?? undefined);
  const jobError = data ? data.job?.error : initial.jobError;
  return (
    <section className="panel live" aria-labelledby="live-h" data-testid="eval-live">
      <div className="panel-head">
        <h2 id="live-h">{active ? 'Running' : 'Progress'}</h2>
        <div className="page-actions">
          <StatusBadge status={status} />
          {jobId && jobStatus && <JobActions jobId={jobId} status={jobStatus} onChanged={() => { setActive(true); router.refresh(); }} />}
        </div>
      </div>
      <ProgressBar done={done} total={total} failed={p.failed ?? 0} label="cells done" />
      <div className="live-numbers" aria-live="polite">
        <div><span className="v" data-testid="live-done">{fmtInt(done)} / {fmtInt(total)}</span><span className="k">cells</span></div>
        <div><span className="v">{p.averageScore === null || p.averageScore === undefined ? '—' : p.averageScore.toFixed(1)}</span><span className="k">running score</span></div>
        <div><span className="v">{active && done < total ? fmtDuration(p.etaSeconds) : '—'}</span><span className="k">ETA</span></div>
        <div><span className="v">{p.cellsPerSecond ? p.cellsPerSecond.toFixed(1) : '—'}</span><span className="k">cells / s</span></div>
        <div><span className="v">{fmtInt(p.failed ?? 0)}</span><span className="k">failed</span></div>
      </div>
      {status === 'pending' && jobStatus === 'queued' && <p className="panel-note">Queued: waiting for a worker to pick it up.</p>}
      {jobError && <div className="callout error"><p>{jobError}</p></div>}
      {error ? <p className="panel-note status-bad">Live updates paused: {errorMessage(error)} (retrying)</p> : null}
    </section>
  );
}
