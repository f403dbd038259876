import type { Redis } from 'ioredis';

/**
 * The GPU scheduler's latest decision for every waiting job (its place, why it waits, when it may
 * start), kept in Redis: it is derived from PostgreSQL on every pass and rewritten whole, so it is
 * never the source of truth, only what "why is my job waiting?" reads.
 */
export const scheduleKey = (prefix?: string) => `${prefix ?? 'bull'}:ctxlab:schedule`;
const META = '_meta';

export interface ScheduledWait {
  pool: string;
  position: number | null;
  kind: string;
  reason: string;
  estimatedStartAt: number | null;
}
export interface ScheduleMeta {
  decidedAt: number;
  passMs: number;
  pools: { pool: string; gpus: number; held: number; free: number; waitingJobs: number; waitingGpus: number }[];
}

/** Replaces the snapshot in one transaction: readers see the old one or the new one. */
export async function writeSchedule(connection: Redis, waits: Map<string, ScheduledWait>, meta: ScheduleMeta, prefix?: string) {
  const key = scheduleKey(prefix);
  const fields: string[] = [META, JSON.stringify(meta)];
  for (const [id, w] of waits) fields.push(id, JSON.stringify(w));
  await connection.multi().del(key).hset(key, ...fields).exec();
}

/** The decision for `jobIds` (all waiting jobs when not given), and the pass it came from. */
export async function readSchedule(connection: Redis, jobIds?: readonly string[], prefix?: string): Promise<{ meta: ScheduleMeta | null; waits: Map<string, ScheduledWait> }> {
  const key = scheduleKey(prefix);
  const waits = new Map<string, ScheduledWait>();
  let meta: ScheduleMeta | null = null;
  if (jobIds) {
    const values = await connection.hmget(key, META, ...jobIds);
    meta = values[0] ? (JSON.parse(values[0]) as ScheduleMeta) : null;
    jobIds.forEach((id, i) => {
      const v = values[i + 1];
      if (v) waits.set(id, JSON.parse(v) as ScheduledWait);
    });
  } else {
    const all = await connection.hgetall(key);
    for (const [k, v] of Object.entries(all)) {
      if (k === META) meta = JSON.parse(v) as ScheduleMeta;
      else waits.set(k, JSON.parse(v) as ScheduledWait);
    }
  }
  return { meta, waits };
}
