import { z } from 'zod';

const schema = z.object({
  CTXLAB_URL: z.string().url('CTXLAB_URL must be the portal URL, e.g. http://localhost:3000').default('http://localhost:3000'),
  CTXLAB_TOKEN: z.string().optional().transform((v) => v?.trim() || undefined),
});

export function loadEnv(env: NodeJS.ProcessEnv = process.env) {
  const r = schema.safeParse(env);
  if (!r.success) throw new Error(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return r.data;
}
