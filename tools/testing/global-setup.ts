/**
 * Integration tests run against the project's real PostgreSQL and Redis. `npm test` starts them
 * and hands over DATABASE_URL (a dedicated, freshly migrated test database) and REDIS_URL; a
 * bare `npx vitest` gets the same set-up here.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { applyMigrations } from '@ctxlab/db/migrate';
import { ensureDatabase, ensureServices, root, serviceConfig } from '../bootstrap/services';

export default async function setup() {
  // The test doubles (OpenAI-compatible servers, Kubernetes API) listen on loopback: allow-listed
  // for the whole run, as an operator would allow a lab's own hosts. The guard itself is tested
  // with empty allow-lists. Stored API keys are encrypted with a key made for this run.
  process.env.CTXLAB_OUTBOUND_ALLOW ??= '127.0.0.1,localhost';
  process.env.CTXLAB_SECRET_KEY ??= randomBytes(32).toString('hex');
  if (process.env.DATABASE_URL && process.env.REDIS_URL) return;
  const cfg = serviceConfig({ ...process.env, DATABASE_URL: undefined, REDIS_URL: undefined });
  const stop = await ensureServices(cfg);
  await ensureDatabase(cfg.testDatabaseUrl);
  await applyMigrations(cfg.testDatabaseUrl, join(root, 'prisma/migrations'));
  process.env.DATABASE_URL = cfg.testDatabaseUrl;
  process.env.REDIS_URL = cfg.redisUrl;
  return stop;
}
