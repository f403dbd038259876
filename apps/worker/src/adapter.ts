import type { JobContext } from '@ctxlab/jobs';
import type { JobKind } from '@ctxlab/queue';
import type { Job } from 'bullmq';

/**
 * A BullMQ processor for a job kind: the job's data parsed with the kind's payload schema, then
 * handed to the kind's processor (libs/jobs) with what the queue knows of the job.
 */
export function adapter<P, R>(kind: JobKind<P>, processor: (payload: P, ctx: JobContext) => Promise<R>) {
  return (job: Job): Promise<R> =>
    processor(kind.payload.parse(job.data), {
      attemptsMade: job.attemptsMade,
      attempts: job.opts.attempts ?? 1,
      queuedAt: job.timestamp,
      pickedUpAt: job.processedOn,
      progress: (p) => job.updateProgress(p),
    });
}
