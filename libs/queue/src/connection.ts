import { Redis, type RedisOptions } from 'ioredis';

/**
 * Producers fail fast when Redis is down (a request must not hang on a queue); workers wait
 * for Redis forever (maxRetriesPerRequest: null), as BullMQ requires for blocking commands.
 */
export function redisConnection(url: string, role: 'producer' | 'worker'): Redis {
  const opts: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : // Commands fail at once while disconnected; the connection itself keeps trying in the background.
        { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, retryStrategy: (n) => Math.min(200 * n, 2000) };
  return new Redis(url, { lazyConnect: false, ...opts });
}

export class QueueUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`the job queue (Redis) is unavailable: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'QueueUnavailableError';
  }
}

/** Waits until the connection is ready, or fails within `ms`. */
export async function ready(conn: Redis, ms = 3000): Promise<void> {
  if (conn.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      cleanup();
      reject(new QueueUnavailableError(new Error(`no connection within ${ms} ms`)));
    }, ms);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onEnd = () => {
      cleanup();
      reject(new QueueUnavailableError(new Error('connection closed')));
    };
    const cleanup = () => {
      clearTimeout(t);
      conn.off('ready', onReady);
      conn.off('end', onEnd);
    };
    conn.once('ready', onReady);
    conn.once('end', onEnd);
  });
}

/** `ready` for producers: a queue that cannot be reached is a QueueUnavailableError. */
export async function queueReady(conn: Redis): Promise<void> {
  try {
    await ready(conn);
  } catch (e) {
    throw new QueueUnavailableError(e);
  }
}
