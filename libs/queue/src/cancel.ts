import type { Redis } from 'ioredis';
import { ready } from './connection';

/** Cancellation travels on a pub/sub channel so in-flight requests stop at once. */
export const cancelChannel = (prefix?: string) => `${prefix ?? 'bull'}:ctxlab:cancel`;

export async function publishCancel(connection: Redis, jobId: string, prefix?: string) {
  try {
    await ready(connection);
    await connection.publish(cancelChannel(prefix), jobId);
  } catch {
    // The worker also re-reads the job's status from PostgreSQL between cells: cancel still lands.
  }
}
