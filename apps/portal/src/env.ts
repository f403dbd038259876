import { z } from 'zod';

const schema = z.object({
  DATABASE_URL: z.string().url('DATABASE_URL must be a postgresql:// URL'),
  REDIS_URL: z.string().url('REDIS_URL must be a redis:// URL'),
  QUEUE_PREFIX: z.string().optional(),
});

let cached: z.infer<typeof schema> | undefined;

/** The portal's settings, checked once; nothing else in the portal reads process.env. */
export function env() {
  if (!cached) {
    const r = schema.safeParse(process.env);
    if (!r.success) throw new Error(`portal configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    cached = r.data;
  }
  return cached;
}
