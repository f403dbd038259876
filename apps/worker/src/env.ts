import { z } from 'zod';

const schema = z.object({
  DATABASE_URL: z.string().url('DATABASE_URL must be a postgresql:// URL'),
  REDIS_URL: z.string().url('REDIS_URL must be a redis:// URL'),
  WORKER_NAME: z.string().default(`worker-${process.pid}`),
  /** Key prefix for BullMQ, so parallel test runs never share queues. */
  QUEUE_PREFIX: z.string().optional(),
});

export type WorkerEnv = z.infer<typeof schema>;

export function loadEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnv {
  const r = schema.safeParse(env);
  if (!r.success) {
    throw new Error(`worker configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return r.data;
}
