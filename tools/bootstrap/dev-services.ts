/**
 * Development aid: starts PostgreSQL and Redis as `npm test` would, migrates the test database,
 * and keeps them up until interrupted, so single test files can run with `npx vitest run FILE`.
 *   node --import tsx tools/bootstrap/dev-services.ts
 */
import { join } from 'node:path';
import { applyMigrations } from '@ctxlab/db/migrate';
import { ensureDatabase, ensureServices, root, serviceConfig } from './services';

const cfg = serviceConfig();
const stop = await ensureServices(cfg);
await ensureDatabase(cfg.testDatabaseUrl);
await applyMigrations(cfg.testDatabaseUrl, join(root, 'prisma/migrations'));
console.log(`DATABASE_URL=${cfg.testDatabaseUrl} REDIS_URL=${cfg.redisUrl}`);
const bye = () => {
  stop();
  process.exit(0);
};
process.on('SIGINT', bye);
process.on('SIGTERM', bye);
setInterval(() => undefined, 1 << 30);
