/**
 * The browser's typed API client: the same tRPC procedures as the server components call, over
 * HTTP to this portal's /api/trpc. Only client components import this.
 */
import { createClient } from '@ctxlab/api/client';

let client: ReturnType<typeof createClient> | undefined;

export function browserApi() {
  if (!client) client = createClient(window.location.origin);
  return client;
}

/** The message a person should see for a failed call (tRPC errors already name the field). */
export function errorMessage(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e && typeof (e as { message: unknown }).message === 'string') {
    const m = (e as { message: string }).message;
    if (/Failed to fetch|NetworkError|fetch failed/i.test(m)) return 'The portal could not be reached. Check your connection and try again.';
    return m;
  }
  return String(e);
}

/** Field-level errors from a tRPC BAD_REQUEST, keyed by field path. */
export function fieldErrors(e: unknown): Record<string, string> {
  const fields = (e as { data?: { fields?: { path: string; message: string }[] } } | null)?.data?.fields ?? [];
  return Object.fromEntries(fields.map((f) => [f.path, f.message]));
}
