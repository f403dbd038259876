import { z } from 'zod';

const schema = z.object({
  MODEL_SERVER_PORT: z.coerce.number().int().min(1).max(65535).default(8765),
  MODEL_SERVER_HOST: z.string().default('127.0.0.1'),
  /** onnxruntime intra-op threads per session. */
  ORT_THREADS: z.coerce.number().int().min(1).max(64).default(1),
});

export function loadEnv(env: NodeJS.ProcessEnv = process.env) {
  const r = schema.safeParse(env);
  if (!r.success) throw new Error(`model server configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}
