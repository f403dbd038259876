import { parseTrustedProxies } from '@ctxlab/api';
import { z } from 'zod';

const schema = z.object({
  DATABASE_URL: z.string().url('DATABASE_URL must be a postgresql:// URL'),
  REDIS_URL: z.string().url('REDIS_URL must be a redis:// URL'),
  QUEUE_PREFIX: z.string().optional(),
  /** Bearer token for the capacity API Terraform reads; unset = that API is off. */
  CTXLAB_INFRA_TOKEN: z.string().min(16, 'CTXLAB_INFRA_TOKEN must be at least 16 characters').optional(),
  CTXLAB_GPUS_PER_NODE: z.coerce.number().int().min(1).max(64).default(8),
  /** Encrypts stored endpoint API keys (64 hex characters or base64 of 32 bytes). */
  CTXLAB_SECRET_KEY: z.string().optional(),
  /** Internal hosts/addresses/CIDRs endpoints may point at, comma-separated (besides the admins' list). */
  CTXLAB_OUTBOUND_ALLOW: z.string().default(''),
  /** The largest NIAH sweep a request may start or estimate: cells, and prompt tokens of all cells together. */
  NIAH_MAX_CELLS: z.coerce.number().int().min(1).optional(),
  NIAH_MAX_PROMPT_TOKENS: z.coerce.number().int().min(1).optional(),
  /** Where file:// artifacts live, shared with the worker (imported tokenizers are stored there); default .data/artifacts. */
  ARTIFACTS_DIR: z.string().min(1).optional(),
  /**
   * Reverse proxies (IPs and CIDRs, comma-separated) whose X-Forwarded-For the portal believes, e.g.
   * the ingress; empty: none, and a client's address is the address it connects from.
   */
  CTXLAB_TRUSTED_PROXIES: z
    .string()
    .default('')
    .superRefine((v, ctx) => {
      try {
        parseTrustedProxies(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
      }
    }),
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
