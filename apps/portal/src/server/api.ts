import { apiDeps, createCaller, resolveSession, SESSION_COOKIE, type Actor } from '@ctxlab/api';
import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { cache } from 'react';
import { env } from '../env';

export function deps() {
  const e = env();
  return apiDeps({
    databaseUrl: e.DATABASE_URL, redisUrl: e.REDIS_URL, queuePrefix: e.QUEUE_PREFIX, infraToken: e.CTXLAB_INFRA_TOKEN, gpusPerNode: e.CTXLAB_GPUS_PER_NODE,
    secretKey: e.CTXLAB_SECRET_KEY, outboundAllow: e.CTXLAB_OUTBOUND_ALLOW, niahMaxCells: e.NIAH_MAX_CELLS, niahMaxPromptTokens: e.NIAH_MAX_PROMPT_TOKENS,
    artifactsDir: e.ARTIFACTS_DIR,
  });
}

/**
 * The session cookie and the person it belongs to, looked up once per request: the layout, the
 * page, its metadata and every api() call of one render share the answer.
 */
const requestSession = cache(async (): Promise<{ secret: string | undefined; actor: Actor | null }> => {
  const secret = (await cookies()).get(SESSION_COOKIE)?.value;
  return { secret, actor: secret ? await resolveSession(deps().repos, secret) : null };
});

/** The signed-in person of this request, or null (no redirect: for the layout and the sign-in page). */
export async function maybeActor(): Promise<Actor | null> {
  return (await requestSession()).actor;
}

/** The signed-in person; without a valid session the page redirects to sign-in. */
export async function currentActor(): Promise<Actor> {
  const { secret, actor } = await requestSession();
  if (!secret) redirect('/sign-in');
  if (!actor) redirect('/sign-in?expired=1');
  return actor;
}

/**
 * Server components call the API in-process, through the same procedures HTTP clients use, as the
 * signed-in person (so roles apply to pages exactly as to the API).
 */
export async function api() {
  return createCaller({ ...deps(), actor: await currentActor(), source: 'http' });
}

/** Runs a lookup and turns the API's NOT_FOUND into null, so pages can answer with a 404. */
export async function loadOr404<T>(fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (e) {
    if ((e as { code?: string }).code === 'NOT_FOUND' || (e as { code?: string }).code === 'BAD_REQUEST') return null;
    throw e;
  }
}
