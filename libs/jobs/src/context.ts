/**
 * What a processor gets besides its payload, from whatever delivered the job (the worker's BullMQ
 * adapter): the queue's attempt count, and where progress goes besides the registry.
 */
export interface JobContext {
  /** Tries of this job the queue already made (0 on the first). */
  attemptsMade: number;
  /** Tries the queue makes in all: the last one that fails fails the job. */
  attempts: number;
  /** Epoch ms the queue got the job and a worker took it from the queue, when the queue says (a sweep's stage times). */
  queuedAt?: number | undefined;
  pickedUpAt?: number | undefined;
  /** Progress for the queue's own view of the job (the registry gets it from the processor). */
  progress?: (p: object) => Promise<unknown>;
}

/** A job kind's consumer: the parsed payload and its context in, the job's result out. */
export type Processor<P, R = unknown> = (payload: P, ctx: JobContext) => Promise<R>;
