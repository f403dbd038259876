// Lint runs in `npm test`. The module-boundary rule is the architecture made executable:
// every project is tagged on two axes (type:, scope:) and each allowed edge is written out.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const serverOnly = ['pg', '@prisma/*', 'bullmq', 'ioredis', 'onnxruntime-node', 'next', 'next/*'];
// Prisma's model delegates (prisma/schema.prisma) and their operations: a call such as
// `x.evalCell.findMany(…)` outside libs/db is a query outside the repositories.
const PRISMA_DELEGATES = ['model', 'lineageEdge', 'adapter', 'recipe', 'dataset', 'datasetDocument', 'endpoint', 'evalRun', 'evalCell', 'job', 'jobEvent', 'user', 'session', 'apiToken', 'auditEvent', 'allowedHost'];
const PRISMA_OPERATIONS = ['findMany', 'findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'create', 'createMany', 'createManyAndReturn', 'update', 'updateMany', 'updateManyAndReturn', 'upsert', 'delete', 'deleteMany', 'count', 'aggregate', 'groupBy'];

export default [
  {
    ignores: ['**/node_modules/**', '**/.next/**', '**/dist/**', 'libs/db/src/generated/**', '.data/**', '.tools/**', '**/next-env.d.ts', 'bench/results/**'],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mjs'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            // type: what kind of code may use what kind of code
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:api', 'type:domain', 'type:data-access', 'type:pure', 'type:ui', 'type:util'] },
            { sourceTag: 'type:api', onlyDependOnLibsWithTags: ['type:domain', 'type:data-access', 'type:pure', 'type:util'] },
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', 'type:data-access', 'type:pure', 'type:util'] },
            { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:data-access', 'type:pure', 'type:util'] },
            { sourceTag: 'type:pure', onlyDependOnLibsWithTags: ['type:pure', 'type:util'], bannedExternalImports: serverOnly },
            { sourceTag: 'type:ui', onlyDependOnLibsWithTags: ['type:ui', 'type:util'], bannedExternalImports: ['pg', '@prisma/*', 'bullmq', 'ioredis', 'onnxruntime-node'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'], bannedExternalImports: [...serverOnly, 'react', '@trpc/*'] },
            // scope: which app's code may use which
            { sourceTag: 'scope:portal', onlyDependOnLibsWithTags: ['scope:portal', 'scope:shared'] },
            { sourceTag: 'scope:worker', onlyDependOnLibsWithTags: ['scope:worker', 'scope:shared'] },
            { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:cli', 'scope:shared'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
          ],
        },
      ],
    },
  },
  {
    // Repositories (libs/db) are the only code that touches Prisma: elsewhere the client is neither
    // reached through `.db` nor queried through a model delegate or a raw query.
    files: ['**/*.ts', '**/*.tsx'],
    ignores: ['libs/db/**', '**/*.test.ts', '**/*.test.tsx', '**/bench/**', '**/e2e/**', 'tools/testing/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[property.name='db']", message: 'only repositories (libs/db) touch Prisma: call a repository method instead of reaching for .db' },
        { selector: `MemberExpression[property.name=/^(${PRISMA_DELEGATES.join('|')})$/][parent.type='MemberExpression'][parent.property.name=/^(${PRISMA_OPERATIONS.join('|')})$/]`, message: 'only repositories (libs/db) touch Prisma: move this query into a repository' },
        { selector: "MemberExpression[property.name=/^\\$(transaction|queryRaw|executeRaw|queryRawUnsafe|executeRawUnsafe)$/]", message: 'only repositories (libs/db) touch Prisma: transactions and raw SQL belong in a repository' },
      ],
    },
  },
  {
    // Tests and benchmarks reach the shared test/bench harness under tools/, which is not a project.
    files: ['**/*.test.ts', '**/*.test.tsx', '**/bench/**/*.ts', '**/e2e/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
];
