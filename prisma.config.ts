import { defineConfig } from 'prisma/config';

// Only `prisma generate` runs through the Prisma CLI here (it needs no native engine).
// Migrations are applied by tools/db/migrate.ts, which is offline-safe.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations', seed: 'tsx prisma/seed.ts' },
});
