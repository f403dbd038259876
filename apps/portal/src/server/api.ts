import { apiDeps, createCaller } from '@ctxlab/api';
import { env } from '../env';

export function deps() {
  const e = env();
  return apiDeps({ databaseUrl: e.DATABASE_URL, redisUrl: e.REDIS_URL, queuePrefix: e.QUEUE_PREFIX, infraToken: e.CTXLAB_INFRA_TOKEN, gpusPerNode: e.CTXLAB_GPUS_PER_NODE });
}

/** Server components call the API in-process, through the same procedures HTTP clients use. */
export function api() {
  return createCaller({ ...deps(), actor: null, source: 'internal' });
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
