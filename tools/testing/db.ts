import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiDeps, createApiToken, createCaller, createUser } from '@ctxlab/api';
import { createDb, repositories } from '@ctxlab/db';
import { seed } from './seed';

/** The test database's settings, as the test runner provides them. */
export function testSettings() {
  const databaseUrl = process.env.DATABASE_URL;
  const redisUrl = process.env.REDIS_URL;
  if (!databaseUrl || !redisUrl) throw new Error('DATABASE_URL and REDIS_URL must be set: run the tests with npm test');
  // Imported tokenizers and other file:// artifacts of tests go to a scratch folder, not the checkout's .data/.
  return { databaseUrl, redisUrl, artifactsDir: join(tmpdir(), `ctxlab-test-artifacts-${process.getuid?.() ?? 0}`) };
}

/**
 * The repositories over the test database, plus the Prisma client itself: tests read what the code
 * under test wrote straight from PostgreSQL (production code only ever sees the repositories).
 */
export function testRepos() {
  const db = createDb(testSettings().databaseUrl);
  return { ...repositories(db), db };
}

/** Empties every registry table (a test file starts from a clean registry). */
export async function resetDb() {
  const db = createDb(testSettings().databaseUrl);
  await db.$executeRawUnsafe(
    'TRUNCATE "JobEvent", "EvalCell", "EvalRun", "LineageEdge", "Adapter", "Endpoint", "Dataset", "Recipe", "Job", "Model", "AuditEvent", "AllowedHost", "GpuQuota", "TeamMember", "Team", "GpuPool", "GpuPrice" RESTART IDENTITY CASCADE',
  );
}

/**
 * A person with the given role and an API token for them, straight into the registry (the way
 * `npm start` makes the first admin): what HTTP tests send as Authorization: Bearer / CTXLAB_TOKEN.
 */
export async function testToken(role: 'viewer' | 'member' | 'admin' = 'admin', email = `${role}-${process.pid}-${Math.random().toString(36).slice(2, 8)}@test.local`) {
  const repos = testRepos();
  const user = await createUser(repos, { email, name: `${role} tester`, role, password: 'correct horse battery staple' });
  const { token, record } = await createApiToken(repos, user.id, { name: `${role} test token`, role });
  return { token, tokenId: record.id, userId: user.id, email, password: 'correct horse battery staple' };
}

/** The API with no actor, as the worker and scripts' set-up call it (on the queues under `queuePrefix` when given). */
export const internalApi = (queuePrefix?: string) =>
  createCaller({ ...apiDeps({ ...testSettings(), ...(queuePrefix ? { queuePrefix } : {}) }), actor: null, source: 'internal' });

/** An empty registry with the field's published work seeded (prisma/seed.ts): where API tests start. */
export async function resetAndSeed() {
  await resetDb();
  await seed(testRepos().db);
}
