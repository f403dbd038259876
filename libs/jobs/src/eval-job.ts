import { JOB_ATTEMPTS, JOB_BACKOFF, type JobKind, type QueueName } from '@ctxlab/queue';
import { z } from 'zod';

/** An eval job's payload: the registry job and its run; everything else the worker needs is in PostgreSQL, the source of truth. */
export const evalJobPayload = z.object({
  jobId: z.string().min(1),
  evalRunId: z.string().min(1),
});
export type EvalJobPayload = z.infer<typeof evalJobPayload>;

/** An eval job kind (a NIAH sweep, a suite run, a local check): its own queue, retried with backoff by the queue. */
export const evalJobKind = (name: string, queue: QueueName): JobKind<EvalJobPayload> => ({
  name,
  queue,
  payload: evalJobPayload,
  jobOptions: { attempts: JOB_ATTEMPTS, backoff: JOB_BACKOFF },
});
