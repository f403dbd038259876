import { z } from 'zod';

const schema = z.object({
  MODEL_SERVER_PORT: z.coerce.number().int().min(1).max(65535).default(8765),
  MODEL_SERVER_HOST: z.string().default('127.0.0.1'),
  /** onnxruntime intra-op threads per session. */
  ORT_THREADS: z.coerce.number().int().min(1).max(64).default(1),
  /** Serve one lab model (a lab model directory or a .onnx file) instead of the shipped stages. */
  MODEL_SERVER_MODEL: z.string().optional(),
  /** Its name in requests (default: the directory or file name). */
  MODEL_SERVER_MODEL_NAME: z.string().optional(),
  /** RoPE theta to serve it with (default: rope_theta of the directory's config.json). */
  MODEL_SERVER_THETA: z.coerce.number().positive().optional(),
  MODEL_SERVER_MAX_MODEL_LEN: z.coerce.number().int().min(1).default(8192),
  /** Automatic prefix caching: KV pool size in tokens (vLLM's --enable-prefix-caching with that many cache tokens); 0 = off. */
  MODEL_SERVER_PREFIX_CACHE_TOKENS: z.coerce.number().int().min(0).default(0),
  /** Tokens per cached block (vLLM's --block-size). */
  MODEL_SERVER_PREFIX_CACHE_BLOCK_SIZE: z.coerce.number().int().min(1).max(1024).default(16),
});

export function loadEnv(env: NodeJS.ProcessEnv = process.env) {
  const r = schema.safeParse(env);
  if (!r.success) throw new Error(`model server configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}
