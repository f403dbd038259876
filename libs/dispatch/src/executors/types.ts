import type { RenderedJob } from '../render/types';
import type { JobKind } from '../specs';

/**
 * Where a job stands. Batch jobs: pending → running → succeeded | failed | cancelled.
 * Serve jobs: pending → running → ready → stopped | failed.
 */
export type JobPhase = 'pending' | 'running' | 'ready' | 'succeeded' | 'failed' | 'cancelled' | 'stopped';

export const FINAL_PHASES: readonly JobPhase[] = ['succeeded', 'failed', 'cancelled', 'stopped'];
export const isFinalPhase = (p: JobPhase): boolean => FINAL_PHASES.includes(p);

/** One line of a job's output, without its line ending. */
export interface LogLine {
  /** Local jobs keep stdout and stderr apart; Kubernetes merges them into the container log. */
  stream: 'stdout' | 'stderr' | 'container';
  text: string;
}

/** How a job ended. */
export interface JobResult {
  /** Exit status of the main process (Kubernetes: of the main container; rank 0's pod for multi-machine jobs); null when a signal ended it or it never ran. */
  exitCode: number | null;
  reason: 'succeeded' | 'failed' | 'cancelled' | 'timeout' | 'stopped';
  /** The signal that ended the process, when one did (local executor). */
  signal?: string | null;
  /** Details in words: Kubernetes' condition reason and message, OOMKilled, the cancel reason… */
  message?: string;
}

export interface JobStatus {
  phase: JobPhase;
  /** Why it is in this phase, when the executor knows (e.g. "Unschedulable: 0/12 nodes are available…"). */
  message?: string;
  exitCode?: number | null;
}

export interface StartOptions {
  /** Cancel the job (reason "timeout") when it runs longer than this. */
  timeoutMs?: number;
  /**
   * Local executor: directories a job's file:// outputs may be written under, besides its own
   * working directory (the worker passes its artifact root). Default: none. The Kubernetes executor
   * ignores it: a pod writes only where the operator's volumes are mounted.
   */
  writableRoots?: string[];
}

/** A running (or finished) job. Every method may be called any number of times. */
export interface JobHandle {
  readonly jobId: string;
  readonly kind: JobKind;
  /** The job's output from its first line, following it live until the job ends. Each call starts over. */
  logs(options?: { signal?: AbortSignal }): AsyncIterable<LogLine>;
  /** Resolves when the job has ended (for serve jobs: stopped or failed). */
  wait(): Promise<JobResult>;
  /** Batch jobs: stop and remove the work. Serve jobs: stop serving (the result's reason is "stopped"). */
  cancel(reason?: string): Promise<void>;
  status(): Promise<JobStatus>;
  /** Serve jobs: resolves with the server's base URL once its health check answers 200. */
  ready(options?: { timeoutMs?: number }): Promise<{ url: string }>;
}

/** One GPU pool as an executor sees it: how many GPUs of one type it could give ctxlab's jobs. */
export interface PoolCapacity {
  /** GPU type as the executor names it: the local worker's configured name, or the Kubernetes node label value (e.g. "h100-sxm-80gb"). */
  gpuType: string;
  /** GPUs in the pool that can take work (Kubernetes: allocatable nvidia.com/gpu on Ready, schedulable nodes). */
  gpus: number;
  /** Machines in the pool. */
  nodes: number;
  /** GPUs held by work that is not ctxlab's (Kubernetes: other pods' nvidia.com/gpu requests on the pool's nodes); 0 locally. */
  foreignUsed: number;
}

/** Runs rendered jobs somewhere: a local process group, or a Kubernetes Job / Deployment. */
export interface Executor {
  readonly name: 'local' | 'kubernetes';
  /**
   * Starts a job, or — when one with this id already exists — attaches to it: job ids are
   * idempotency keys, so a worker that retries a start never runs the work twice.
   */
  start(jobId: string, job: RenderedJob, options?: StartOptions): Promise<JobHandle>;
  /**
   * The GPU pools jobs can run on, one entry per GPU type, sorted by type: what a scheduler needs
   * to decide when a queued GPU job may start. GPUs held by ctxlab's own jobs are not subtracted
   * (the scheduler knows which of its jobs run); only other work's are, as `foreignUsed`. Each call
   * asks afresh (Kubernetes: lists nodes and pods), so a scheduler polls it.
   */
  capacity?(): Promise<PoolCapacity[]>;
}
