/**
 * The job state machine. PostgreSQL holds the truth; Redis only carries work. Each transition is
 * a small named predicate, and every transition is appended to the job's event log with a reason.
 *
 *   queued ──> running ──> succeeded
 *     │          │ ├────> failed ──(retry)──> queued
 *     │          │ └────> retrying ──> running
 *     └──────────┴──────> cancelled ──(retry)──> queued
 */
import type { JobStatus } from '@ctxlab/contracts';

export const FINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];

export const isFinal = (s: JobStatus) => FINAL_STATUSES.includes(s);
/** Anything not finished can be cancelled. */
export const canCancel = (s: JobStatus) => !isFinal(s);
/** A person may retry what failed or was cancelled; finished cells are kept and not redone. */
export const canRetry = (s: JobStatus) => s === 'failed' || s === 'cancelled';
/** A worker may (re)start a job that is waiting, or resume one whose worker died mid-run. */
export const canStart = (s: JobStatus) => s === 'queued' || s === 'retrying' || s === 'running';

/** Every edge of the diagram above; a transition not listed here is refused. */
export const TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  queued: ['running', 'cancelled', 'failed'],
  running: ['running', 'succeeded', 'failed', 'cancelled', 'retrying'],
  retrying: ['running', 'cancelled', 'failed'],
  failed: ['queued'],
  cancelled: ['queued'],
  succeeded: [],
};

export const canTransition = (from: JobStatus, to: JobStatus) => TRANSITIONS[from].includes(to);
