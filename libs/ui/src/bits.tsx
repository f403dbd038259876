import type { ReactNode } from 'react';
import { fmtDuration, fmtInt } from './format';

export function Tags({ tags }: { tags: readonly string[] }) {
  return <>{tags.map((t) => <span key={t} className="tag">{t}</span>)}</>;
}

export function KeyValues({ items }: { items: readonly (readonly [string, ReactNode])[] }) {
  return (
    <dl className="kv">
      {items.map(([k, v]) => (
        <div key={k} className="kv-row">
          <dt>{k}</dt>
          <dd>{v === null || v === undefined || v === '' ? '—' : v}</dd>
        </div>
      ))}
    </dl>
  );
}

const STATUS_TONE: Record<string, string> = {
  succeeded: 'ok', ok: 'ok', running: 'info', retrying: 'warn', queued: 'neutral', pending: 'neutral', failed: 'bad', cancelled: 'muted', error: 'bad', unreachable: 'bad',
  // Recipe runs and their stages.
  stopped: 'warn', training: 'info', gating: 'info', passed: 'ok',
};

/** A status as a badge: colour and a text label, so it never relies on colour alone. */
export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${STATUS_TONE[status] ?? 'neutral'}`} data-status={status}>{status}</span>;
}

export interface ProgressProps {
  done: number;
  total: number;
  /** Failed cells are shown as their own segment. */
  failed?: number;
  label?: string;
}

/** A progress bar with its numbers in words (role="progressbar" with aria-valuenow). */
export function ProgressBar({ done, total, failed = 0, label }: ProgressProps) {
  const pct = total > 0 ? Math.min(100, (done / total) * 100) : 0;
  const failedPct = total > 0 ? Math.min(pct, (failed / total) * 100) : 0;
  return (
    <div className="progress" role="progressbar" aria-label={label ?? 'progress'} aria-valuemin={0} aria-valuemax={total} aria-valuenow={done} aria-valuetext={`${fmtInt(done)} of ${fmtInt(total)}`}>
      <div className="progress-fill" style={{ width: `${pct - failedPct}%` }} />
      {failedPct > 0 && <div className="progress-failed" style={{ width: `${failedPct}%` }} />}
    </div>
  );
}

/** done / total, rate and ETA in one line. */
export function ProgressLine({ done, total, failed, etaSeconds, cellsPerSecond }: { done: number; total: number; failed?: number; etaSeconds?: number | null; cellsPerSecond?: number | null }) {
  return (
    <span className="progress-line">
      <strong>{fmtInt(done)}</strong> / {fmtInt(total)}
      {failed ? <span className="status-bad"> · {fmtInt(failed)} failed</span> : null}
      {cellsPerSecond ? <> · {cellsPerSecond.toFixed(1)}/s</> : null}
      {etaSeconds !== undefined && etaSeconds !== null && done < total ? <> · ETA {fmtDuration(etaSeconds)}</> : null}
    </span>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty" role="status">
      <p className="empty-title">{title}</p>
      {children}
    </div>
  );
}

export function ErrorState({ title = 'Something went wrong', message, children }: { title?: string; message: string; children?: ReactNode }) {
  return (
    <div className="error-box" role="alert">
      <p className="error-title">{title}</p>
      <p>{message}</p>
      {children}
    </div>
  );
}

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return <span className="spinner" role="status" aria-label={label} />;
}
