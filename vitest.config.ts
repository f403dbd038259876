import { defineConfig } from 'vitest/config';

// Unit tests run in parallel; integration tests (*.int.test.ts) share the project's
// PostgreSQL and Redis, so they run one file at a time against a dedicated test database.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{apps,libs,tools}/**/src/**/*.test.{ts,tsx}', 'prisma/**/*.test.ts', 'tools/**/*.test.ts', 'infra/**/*.test.ts'],
          exclude: ['**/*.int.test.{ts,tsx}', '**/*.e2e.test.ts', '**/node_modules/**'],
          environment: 'node',
          // Files run in parallel on two cores; a test that loads the Llama-3 vocabulary first takes seconds.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'int',
          include: ['{apps,libs,tools}/**/*.int.test.{ts,tsx}', 'prisma/**/*.int.test.ts'],
          exclude: ['**/node_modules/**'],
          environment: 'node',
          globalSetup: ['tools/testing/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
