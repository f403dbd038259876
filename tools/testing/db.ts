import { createDb, repositories } from '@ctxlab/db';

/** The test database's settings, as the test runner provides them. */
export function testSettings() {
  const databaseUrl = process.env.DATABASE_URL;
  const redisUrl = process.env.REDIS_URL;
  if (!databaseUrl || !redisUrl) throw new Error('DATABASE_URL and REDIS_URL must be set: run the tests with npm test');
  return { databaseUrl, redisUrl };
}

export function testRepos() {
  return repositories(createDb(testSettings().databaseUrl));
}

/** Empties every registry table (a test file starts from a clean registry). */
export async function resetDb() {
  const db = createDb(testSettings().databaseUrl);
  await db.$executeRawUnsafe(
    'TRUNCATE "JobEvent", "EvalCell", "EvalRun", "LineageEdge", "Adapter", "Endpoint", "Dataset", "Recipe", "Job", "Model" RESTART IDENTITY CASCADE',
  );
}
