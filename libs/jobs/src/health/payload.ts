import { type JobKind, QUEUES } from '@ctxlab/queue';
import { z } from 'zod';

export const healthPayload = z.object({
  requestedBy: z.string().min(1).max(200),
  /** Unique per request, so two health checks are two jobs. */
  nonce: z.string().min(1).max(100),
});
export type HealthPayload = z.infer<typeof healthPayload>;

export const healthJob: JobKind<HealthPayload> = { name: 'health', queue: QUEUES.health, payload: healthPayload };

export const healthResultSchema = z.object({
  worker: z.string(),
  pid: z.number().int(),
  redisRoundTripMs: z.number(),
  checkedAt: z.string(),
});
export type HealthResult = z.infer<typeof healthResultSchema>;
