/**
 * Restarting the project's own PostgreSQL and Redis under a running test, to prove that work
 * survives them going away. Only for the servers `npm test` started itself.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { portOpen, shutdownRedis, startRedisDaemon } from '../bootstrap/services';

/** The bootstrap's service helpers a test needs directly (faults.int.test.ts runs its own Redis). */
export { portOpen, redisServerArgs } from '../bootstrap/services';

const root = resolve(import.meta.dirname, '../..');

export function managedRedisPort(): number | null {
  const url = new URL(process.env.REDIS_URL ?? '');
  return existsSync(join(root, '.data/redis/redis.pid')) && url.hostname === '127.0.0.1' ? Number(url.port) : null;
}

/**
 * Stops Redis and starts it again after `downMs` with its append-only file deleted: its queues are
 * gone, as after losing the disk (the worst case; a plain restart keeps them through the AOF).
 */
export async function restartRedis(downMs: number) {
  const port = managedRedisPort();
  if (!port) throw new Error('Redis is not the one this project started');
  shutdownRedis(port);
  for (let i = 0; i < 50 && (await portOpen(port)); i++) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, downMs));
  const dir = join(root, '.data/redis');
  rmSync(join(dir, 'appendonlydir'), { recursive: true, force: true });
  await startRedisDaemon(port, dir);
}

export function managedPostgresDir(): string | null {
  const f = join(root, '.data/pg.dir');
  return existsSync(f) ? readFileSync(f, 'utf8').trim() : null;
}

/** Stops PostgreSQL (fast: connections dropped) and starts it again after `downMs`. */
export async function restartPostgres(downMs: number) {
  const dir = managedPostgresDir();
  if (!dir) throw new Error('PostgreSQL is not the one this project started');
  const bin = execFileSync('bash', ['-c', 'ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1']).toString().trim();
  const asPg = (args: string[]) => {
    const isRoot = process.getuid?.() === 0;
    const [cmd, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), ...args]] : [join(bin, 'pg_ctl'), args];
    const r = spawnSync(cmd, argv, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`pg_ctl ${args.join(' ')}: ${r.stderr}`);
  };
  const opts = readFileSync(join(dir, 'postmaster.opts'), 'utf8');
  const o = opts.slice(opts.indexOf(' ') + 1).replace(/"/g, '').replace(/^-D \S+ /, '').trim();
  asPg(['-D', dir, '-m', 'fast', '-w', 'stop']);
  await new Promise((r) => setTimeout(r, downMs));
  asPg(['-D', dir, '-w', '-l', join(dir, 'server.log'), '-o', o, 'start']);
}
