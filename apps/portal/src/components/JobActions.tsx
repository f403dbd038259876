'use client';

import { useState } from 'react';
import { browserApi, errorMessage } from '../lib/client';

const CANCELLABLE = ['queued', 'running', 'retrying'];
const RETRYABLE = ['failed', 'cancelled'];

/** Cancel (queued/running/retrying) and Retry (failed/cancelled) for one job, with the API's answer shown. */
export function JobActions({ jobId, status, onChanged, small = true }: { jobId: string; status: string; onChanged?: (status: string) => void; small?: boolean }) {
  const [busy, setBusy] = useState<'cancel' | 'retry' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const act = async (what: 'cancel' | 'retry') => {
    if (what === 'cancel' && !window.confirm('Cancel this job? Finished cells are kept; you can retry it later.')) return;
    setBusy(what);
    setError(null);
    try {
      const api = browserApi();
      const j = what === 'cancel' ? await api.jobs.cancel.mutate({ id: jobId }) : await api.jobs.retry.mutate({ id: jobId });
      onChanged?.(j.status);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  };
  const cls = `btn ${small ? 'small ' : ''}`;
  return (
    <span className="btn-group">
      {CANCELLABLE.includes(status) && (
        <button type="button" className={`${cls}danger`} onClick={() => act('cancel')} disabled={busy !== null} aria-label={`Cancel job ${jobId}`}>
          {busy === 'cancel' ? 'Cancelling…' : 'Cancel'}
        </button>
      )}
      {RETRYABLE.includes(status) && (
        <button type="button" className={`${cls}secondary`} onClick={() => act('retry')} disabled={busy !== null} aria-label={`Retry job ${jobId}`}>
          {busy === 'retry' ? 'Retrying…' : 'Retry'}
        </button>
      )}
      {error && <span className="field-error" role="alert">{error}</span>}
    </span>
  );
}
