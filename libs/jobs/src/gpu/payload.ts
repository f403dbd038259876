import { type JobKind, QUEUES } from '@ctxlab/queue';
import { z } from 'zod';

/** train, lora-extract, lora-merge and serve: the registry job holds the spec. */
export const gpuPayload = z.object({ jobId: z.string().min(1) });
export type GpuPayload = z.infer<typeof gpuPayload>;

export const gpuJob: JobKind<GpuPayload> = {
  name: 'gpu',
  queue: QUEUES.gpu,
  payload: gpuPayload,
  // GPU work is not retried blindly by the queue: a failed training run is a person's call.
  jobOptions: { attempts: 1 },
};
