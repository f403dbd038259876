/**
 * Integration tests run against the project's real PostgreSQL and Redis. `npm test` starts them
 * and hands over DATABASE_URL (a dedicated, freshly migrated test database) and REDIS_URL; a
 * bare `npx vitest` gets the same set-up here.
 */
import { join } from 'node:path';
import { applyMigrations } from '../../libs/db/src/migrate';
import { ensureDatabase, ensureServices, root, serviceConfig } from '../bootstrap/services';

export default async function setup() {
  if (process.env.DATABASE_URL && process.env.REDIS_URL) return;
  const cfg = serviceConfig({ ...process.env, DATABASE_URL: undefined, REDIS_URL: undefined });
  const stop = await ensureServices(cfg);
  await ensureDatabase(cfg.testDatabaseUrl);
  await applyMigrations(cfg.testDatabaseUrl, join(root, 'prisma/migrations'));
  process.env.DATABASE_URL = cfg.testDatabaseUrl;
  process.env.REDIS_URL = cfg.redisUrl;
  return stop;
}
