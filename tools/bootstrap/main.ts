/**
 * What `npm start`, `npm test`, `npm run bench` and the db scripts do once run.sh has the
 * toolchain ready: bring up PostgreSQL and Redis, migrate, seed, then start or test.
 * A portal, worker or model server that crashes is restarted with back-off; only Ctrl-C (or
 * SIGTERM) stops every process this started, servers included.
 */
import { createApiToken, createUser, ensureFirstAdmin, randomPassword, setPassword } from '@ctxlab/api';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeAllDbs, createDb, repositories } from '@ctxlab/db';
import { applyMigrations } from '@ctxlab/db/migrate';
import { seed } from '../../prisma/seed';
import { markPortalBuilt, portalBuildIsCurrent, portalSourceHash } from './portal-build';
import { dropDatabase, ensureDatabase, ensureServices, portOpen, root, serviceConfig } from './services';
import { stopProcesses, Supervisor } from './supervise';

const cmd = process.argv[2] ?? 'start';
const rest = process.argv.slice(3);
const cfg = serviceConfig();
const portalPort = Number(process.env.PORT ?? 3000);
const modelPort = Number(process.env.MODEL_SERVER_PORT ?? 8765);
const children: ChildProcess[] = [];
let stopServices: () => void = () => undefined;

const log = (msg: string) => process.stderr.write(`\x1b[36mctxlab\x1b[0m ${msg}\n`);

function run(command: string, args: string[], env: Record<string, string | undefined> = {}, opts: { name?: string } = {}): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
    children.push(child);
    child.on('exit', (code, signal) => {
      children.splice(children.indexOf(child), 1);
      if (signal) log(`${opts.name ?? command} ended by ${signal}`);
      resolve(code ?? 1);
    });
  });
}

/** Portal, worker, model server: restarted with back-off when they crash (see supervise.ts). */
const supervisor = new Supervisor({ log, onLine: (name, line) => process.stderr.write(`\x1b[35m${name}\x1b[0m ${line}\n`) });

function startLongRunning(name: string, command: string, args: string[], env: Record<string, string | undefined>) {
  supervisor.start({ name, command, args, env, cwd: root });
}

let shuttingDown = false;
async function shutdown(code: number) {
  if (shuttingDown) return;
  shuttingDown = true;
  await Promise.all([supervisor.stop(), stopProcesses(children)]);
  await closeAllDbs().catch(() => undefined);
  stopServices();
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(130));
process.on('SIGTERM', () => void shutdown(143));

async function prepareDatabase(url: string, withSeed: boolean) {
  await ensureDatabase(url);
  const m = await applyMigrations(url, join(root, 'prisma/migrations'));
  log(m.applied.length ? `applied migrations: ${m.applied.join(', ')}` : `database is up to date (${m.alreadyApplied.length} migrations)`);
  if (withSeed) {
    const db = createDb(url);
    const counts = await seed(db);
    log(`seeded ${counts.models} models, ${counts.lineage} lineage edges, ${counts.adapters} adapters, ${counts.recipes} recipes`);
  }
}

async function buildPortal() {
  const want = portalSourceHash();
  if (portalBuildIsCurrent(want)) {
    log('portal build is up to date');
    return;
  }
  log('building the portal (next build)');
  const code = await run('npx', ['next', 'build', 'apps/portal'], {}, { name: 'next build' });
  if (code !== 0) throw new Error('the portal build failed');
  markPortalBuilt(want);
}

/** CTXLAB_SECRET_KEY (encrypts endpoint API keys): the environment's, or one made once and kept in .data/. */
function secretKey(): string {
  if (process.env.CTXLAB_SECRET_KEY) return process.env.CTXLAB_SECRET_KEY;
  const file = join(root, '.data/secret.key');
  if (!existsSync(file)) {
    mkdirSync(join(root, '.data'), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
    log(`made CTXLAB_SECRET_KEY in ${file} (keep it with the database: stored endpoint API keys need it)`);
  }
  return readFileSync(file, 'utf8').trim();
}

function appEnv(databaseUrl: string): Record<string, string | undefined> {
  return { DATABASE_URL: databaseUrl, REDIS_URL: cfg.redisUrl, NODE_ENV: 'production', CTXLAB_SECRET_KEY: secretKey() };
}

/**
 * People for a fresh install: the first admin (a one-time password, printed once), the local lab
 * model server allow-listed as an endpoint target, and a short-lived token for the main job.
 */
async function prepareAccess(databaseUrl: string): Promise<string> {
  const repos = repositories(createDb(databaseUrl));
  const first = await ensureFirstAdmin(repos);
  if (first) {
    log('\x1b[1mfirst admin created\x1b[0m: sign in to the portal as');
    log(`    email ${first.email}   password ${first.password}`);
    log('    (shown once; change it under Account, and create accounts for your team under Admin)');
  }
  // Only the model server's port: a bare 127.0.0.1 (older installs) would let endpoints reach every
  // loopback service, Redis and PostgreSQL included, so npm start replaces its own older entry.
  const labServer = { host: `127.0.0.1:${modelPort}`, note: 'the local lab model server (added by npm start)', createdBy: 'npm start' };
  await repos.accounts.replaceAllowedHost(labServer);
  const admin = await repos.accounts.firstActiveAdmin();
  if (!admin) throw new Error('no active admin account: run `npm run admin -- --email you@example.com` to make one');
  await repos.accounts.revokeTokensNamed(admin.id, 'npm start main job');
  return (await createApiToken(repos, admin.id, { name: 'npm start main job', role: 'admin', expiresInDays: 1 })).token;
}

/** Gives a server just started up to 30 s to open its port; what runs next reports one that never does. */
async function portUp(port: number) {
  for (let i = 0; i < 150 && !(await portOpen(port)); i++) await new Promise((r) => setTimeout(r, 200));
}

async function start() {
  stopServices = await ensureServices(cfg);
  await prepareDatabase(cfg.databaseUrl, true);
  const mainJobToken = await prepareAccess(cfg.databaseUrl);
  await buildPortal();
  if (await portOpen(portalPort)) throw new Error(`port ${portalPort} is taken: stop what runs there or set PORT`);
  startLongRunning('portal', process.execPath, [join(root, 'node_modules/next/dist/bin/next'), 'start', 'apps/portal', '-p', String(portalPort)], { ...appEnv(cfg.databaseUrl), PORT: String(portalPort) });
  startLongRunning('worker', process.execPath, ['--import', 'tsx', 'apps/worker/src/main.ts'], appEnv(cfg.databaseUrl));
  if (await portOpen(modelPort)) throw new Error(`port ${modelPort} is taken: stop what runs there or set MODEL_SERVER_PORT`);
  startLongRunning('model-server', process.execPath, ['--import', 'tsx', 'apps/model-server/src/main.ts'], { MODEL_SERVER_PORT: String(modelPort) });
  await portUp(portalPort);
  const cli = (args: string[]) => run(process.execPath, ['--import', 'tsx', 'apps/cli/src/main.ts', ...args], { CTXLAB_URL: `http://localhost:${portalPort}`, CTXLAB_TOKEN: mainJobToken }, { name: 'main job' });
  await cli(['health', '--wait']);
  await portUp(modelPort);
  log('main job: NIAH value retrieval of both lab model stages, up to 4× the base length');
  await cli(['lab', 'run', '--model-url', `http://127.0.0.1:${modelPort}/v1`]);
  log(`ready: portal http://localhost:${portalPort}  ·  lab models http://127.0.0.1:${modelPort}/v1  ·  PostgreSQL ${cfg.databaseUrl}  ·  Redis ${cfg.redisUrl}`);
  log('Ctrl-C stops the portal, the worker, the model server and the servers this started');
  await new Promise(() => undefined);
}

async function test() {
  stopServices = await ensureServices(cfg);
  await dropDatabase(cfg.testDatabaseUrl);
  await prepareDatabase(cfg.testDatabaseUrl, false);
  await closeAllDbs();
  const env = { DATABASE_URL: cfg.testDatabaseUrl, REDIS_URL: cfg.redisUrl, CTXLAB_TEST_REDIS_PREFIX: `test-${process.pid}` };
  const steps: [string, string, string[]][] = [
    // The module-boundary rule reads Nx's cached project graph: compute it first, or it skips.
    ['project graph', 'npx', ['nx', 'show', 'projects']],
    ['lint', 'npx', ['eslint', '--max-warnings=0', '.']],
    ['typecheck', 'npx', ['tsc', '-p', 'tsconfig.json']],
    ['tests', 'npx', ['vitest', 'run', ...rest]],
  ];
  for (const [name, c, args] of steps) {
    log(`${name}: ${c} ${args.join(' ')}`);
    const code = await run(c, args, env, { name });
    if (code !== 0) {
      log(`${name} failed`);
      return shutdown(code);
    }
  }
  return shutdown(0);
}

async function main() {
  switch (cmd) {
    case 'start':
      return start();
    case 'test':
      return test();
    case 'migrate':
      stopServices = await ensureServices(cfg);
      await prepareDatabase(cfg.databaseUrl, false);
      return shutdown(0);
    case 'seed':
      stopServices = await ensureServices(cfg);
      await prepareDatabase(cfg.databaseUrl, true);
      return shutdown(0);
    case 'migration':
      return shutdown(await run(process.execPath, ['--import', 'tsx', 'tools/db/create-migration.ts', ...rest]));
    case 'admin': {
      // `npm run admin -- --email you@example.com [--name NAME]`: an admin account (or a new
      // one-time password for an existing one), straight into the registry.
      stopServices = await ensureServices(cfg);
      await prepareDatabase(cfg.databaseUrl, false);
      const email = rest[rest.indexOf('--email') + 1];
      if (!rest.includes('--email') || !email) {
        log('usage: npm run admin -- --email you@example.com [--name "Your Name"]');
        return shutdown(2);
      }
      const name = rest.includes('--name') ? (rest[rest.indexOf('--name') + 1] ?? 'Admin') : 'Admin';
      const repos = repositories(createDb(cfg.databaseUrl));
      const password = randomPassword();
      const existing = await repos.accounts.userByEmail(email.toLowerCase());
      if (existing) {
        await repos.accounts.updateUser(existing.id, { role: 'admin', disabledAt: null });
        await setPassword(repos, existing.id, password);
      } else await createUser(repos, { email, name, role: 'admin', password });
      log(`admin ${email.toLowerCase()}: one-time password ${password} (shown once)`);
      return shutdown(0);
    }
    case 'lint':
      await run('npx', ['nx', 'show', 'projects']);
      return shutdown(await run('npx', ['eslint', '--max-warnings=0', '.']));
    case 'bench': {
      stopServices = await ensureServices(cfg);
      await prepareDatabase(cfg.testDatabaseUrl, false);
      return shutdown(await run(process.execPath, ['--import', 'tsx', 'tools/bench/run.ts', ...rest], { DATABASE_URL: cfg.testDatabaseUrl, REDIS_URL: cfg.redisUrl }));
    }
    default:
      log(`unknown command ${cmd}: use start, test, bench, migrate, seed, migration, lint, admin`);
      return shutdown(2);
  }
}

main().catch((e: unknown) => {
  log(`failed: ${(e as Error).message}`);
  void shutdown(1);
});
