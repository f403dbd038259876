/**
 * PostgreSQL and Redis as the project's own processes: data under .data/ (git-ignored),
 * private ports, started only when the environment does not already point at servers.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import pg from 'pg';

export const root = resolve(import.meta.dirname, '../..');
const dataDir = join(root, '.data');

export interface ServiceConfig {
  databaseUrl: string;
  testDatabaseUrl: string;
  redisUrl: string;
  managedPostgres: boolean;
  managedRedis: boolean;
  pgPort: number;
  redisPort: number;
}

export function serviceConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const pgPort = Number(env.CTXLAB_PG_PORT ?? 54329);
  const redisPort = Number(env.CTXLAB_REDIS_PORT ?? 63799);
  const databaseUrl = env.DATABASE_URL ?? `postgresql://ctxlab@127.0.0.1:${pgPort}/ctxlab`;
  const u = new URL(databaseUrl);
  u.pathname = `${u.pathname.replace(/\/$/, '')}_test`;
  return {
    databaseUrl,
    testDatabaseUrl: env.TEST_DATABASE_URL ?? u.toString(),
    redisUrl: env.REDIS_URL ?? `redis://127.0.0.1:${redisPort}`,
    managedPostgres: !env.DATABASE_URL,
    managedRedis: !env.REDIS_URL,
    pgPort,
    redisPort,
  };
}

function log(msg: string) {
  process.stderr.write(`\x1b[36mctxlab\x1b[0m ${msg}\n`);
}

function pgBinDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin/pg_ctl'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)');
  return join(base, versions[0], 'bin');
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** PostgreSQL refuses to run as root: run its tools as the `postgres` user then. */
function asPg(cmd: string, args: string[], opts: { allowFail?: boolean } = {}) {
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  const r = spawnSync(file, argv, { encoding: 'utf8' });
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  }
  return r;
}

/** Where the cluster lives: .data/pg, or (when the postgres user cannot reach the checkout) /var/tmp. */
function pgDataDir(): string {
  const local = join(dataDir, 'pg');
  if (!isRoot) return local;
  mkdirSync(dataDir, { recursive: true });
  const probe = spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', dataDir]);
  if (probe.status === 0) return local;
  const h = createHash('sha256').update(root).digest('hex').slice(0, 12);
  return `/var/tmp/ctxlab-pg-${h}`;
}

export function portOpen(port: number, host = '127.0.0.1', timeoutMs = 300): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const s = net.connect({ port, host });
    const done = (ok: boolean) => {
      s.destroy();
      resolvePromise(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30_000) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Starts the project's PostgreSQL if needed; returns true when this call started it. */
export async function ensurePostgres(cfg: ServiceConfig): Promise<boolean> {
  if (!cfg.managedPostgres) return false;
  if (await portOpen(cfg.pgPort)) return false;
  const bin = pgBinDir();
  const dir = pgDataDir();
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    log(`initialising a PostgreSQL cluster in ${dir}`);
    mkdirSync(dir, { recursive: true });
    if (isRoot) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
    asPg(join(bin, 'initdb'), ['-D', dir, '-U', 'ctxlab', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8']);
  }
  const sock = isRoot ? '/tmp' : dir;
  log(`starting PostgreSQL on 127.0.0.1:${cfg.pgPort}`);
  asPg(join(bin, 'pg_ctl'), [
    '-D', dir, '-w', '-t', '60', '-l', join(dir, 'server.log'),
    '-o', `-p ${cfg.pgPort} -c listen_addresses=127.0.0.1 -k ${sock} -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
    'start',
  ]);
  writeFileSync(join(dataDir, 'pg.dir'), dir);
  return true;
}

export function stopPostgres() {
  const f = join(dataDir, 'pg.dir');
  if (!existsSync(f)) return;
  const dir = readFileSync(f, 'utf8').trim();
  log('stopping PostgreSQL');
  asPg(join(pgBinDir(), 'pg_ctl'), ['-D', dir, '-m', 'fast', '-w', 'stop'], { allowFail: true });
}

/** Creates the database named in the URL when it does not exist yet. */
export async function ensureDatabase(url: string) {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const r = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (r.rowCount === 0) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      log(`created database ${name}`);
    }
  } finally {
    await client.end();
  }
}

export async function dropDatabase(url: string) {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/**
 * How ctxlab runs Redis, as BullMQ's production guide asks: every write appended to a file
 * fsynced each second (AOF), so queued jobs survive a restart of Redis or the machine (losing at
 * most the last second), and noeviction, because BullMQ's keys have no TTL and an evicting
 * policy silently drops jobs. No RDB snapshots: the AOF is the persistence. A data directory
 * made before AOF was on holds no data (nothing was ever saved), so it simply starts using AOF.
 */
export function redisServerArgs(port: number, dir: string): string[] {
  return [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
    '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '',
    '--maxmemory-policy', 'noeviction',
  ];
}

/** Starts Redis in the background with those flags, its pid and log files in `dir`, and waits until it listens. */
export async function startRedisDaemon(port: number, dir: string) {
  execFileSync('redis-server', [
    ...redisServerArgs(port, dir),
    '--daemonize', 'yes', '--pidfile', join(dir, 'redis.pid'), '--logfile', join(dir, 'redis.log'),
  ]);
  await waitFor(() => portOpen(port), 'Redis');
}

export async function ensureRedis(cfg: ServiceConfig): Promise<boolean> {
  if (!cfg.managedRedis) return false;
  if (await portOpen(cfg.redisPort)) return false;
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  log(`starting Redis on 127.0.0.1:${cfg.redisPort}`);
  await startRedisDaemon(cfg.redisPort, dir);
  return true;
}

/** SHUTDOWN flushes and fsyncs the AOF; NOSAVE only skips an RDB snapshot, which ctxlab does not use. */
export function shutdownRedis(port: number) {
  spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave']);
}

export function stopRedis(cfg: ServiceConfig) {
  const pidFile = join(dataDir, 'redis', 'redis.pid');
  if (!existsSync(pidFile)) return;
  log('stopping Redis');
  shutdownRedis(cfg.redisPort);
}

/** Brings up both servers; returns a function that stops what this call started. */
export async function ensureServices(cfg = serviceConfig()): Promise<() => void> {
  const [startedPg, startedRedis] = await Promise.all([ensurePostgres(cfg), ensureRedis(cfg)]);
  await ensureDatabase(cfg.databaseUrl);
  return () => {
    if (startedRedis) stopRedis(cfg);
    if (startedPg) stopPostgres();
  };
}
