import type { JobContext } from '../context';
import type { HealthPayload, HealthResult } from './payload';

/** Proves the worker is alive and reaches Redis: answers with its name and a Redis round trip (`ping`). */
export function healthProcessor(workerName: string, ping: () => Promise<unknown>) {
  return async (_payload: HealthPayload, _ctx?: JobContext): Promise<HealthResult> => {
    const t0 = performance.now();
    await ping();
    return { worker: workerName, pid: process.pid, redisRoundTripMs: performance.now() - t0, checkedAt: new Date().toISOString() };
  };
}
