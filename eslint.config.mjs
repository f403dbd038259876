// Lint runs in `npm test`. The module-boundary rule is the architecture made executable:
// every project is tagged on two axes (type:, scope:) and each allowed edge is written out.
//
// type: what kind of code may use what kind of code.
//   app          apps/* (processes)
//   api          libs/api (tRPC routers, the one authenticated-procedure builder)
//   domain       libs/jobs, libs/dispatch, libs/inference (server-side services)
//   data-access  libs/db (the only code that touches Prisma), libs/queue (the only code that uses BullMQ)
//   pure         libs/longctx, niah, ruler, capability, tokenizers: no I/O stack, run anywhere
//   ui           libs/ui (React)
//   util         libs/contracts: zod and nothing else (no node: built-ins, no npm package but zod)
//   node-util    libs/security: Node-only leaves (node:crypto, node:dns, node:net, undici) and nothing
//                of the server stack; server code (app, api, domain) may use it, code that may end up
//                in a browser bundle (pure, ui, util) may not
//   testing      tools/testing (@ctxlab/testing: database, worker, API server, sweeps for tests) and
//                tools/bench (@ctxlab/bench: the benchmark harness and runner); only tests, benchmarks
//                and browser tests import them (a narrow `allow` in their block below)
// scope: which app's code may use which. Every lib one app alone may use carries that app's scope:
//   portal       apps/portal, libs/ui (React components)
//   worker       apps/worker, apps/model-server, libs/inference (onnxruntime-node sessions)
//   cli          apps/cli
//   shared       every other lib, usable by all
import { builtinModules } from 'node:module';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const serverOnly = ['pg', '@prisma/*', 'bullmq', 'ioredis', 'onnxruntime-node', 'next', 'next/*'];
// Only type:data-access (libs/db's repositories) imports Prisma's packages; the generated client
// itself (libs/db/src/generated) is refused everywhere else by `no-restricted-imports` below.
const prisma = ['@prisma/*'];
// Prisma's model delegates (prisma/schema.prisma) and their operations: a call such as
// `x.evalCell.findMany(…)` outside libs/db is a query outside the repositories.
const PRISMA_DELEGATES = ['model', 'lineageEdge', 'adapter', 'recipe', 'dataset', 'datasetDocument', 'endpoint', 'evalRun', 'evalCell', 'job', 'jobEvent', 'user', 'session', 'apiToken', 'auditEvent', 'allowedHost'];
const PRISMA_OPERATIONS = ['findMany', 'findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'create', 'createMany', 'createManyAndReturn', 'update', 'updateMany', 'updateManyAndReturn', 'upsert', 'delete', 'deleteMany', 'count', 'aggregate', 'groupBy'];

// The harness packages, the only imports the boundary rule lets tests, benchmarks and browser tests
// make outside their own project's constraints. (Nx reads each entry as a regular expression, hence
// the anchors.) The harness imports the code under test, so tests → harness → project closes a
// cycle in the project graph: cycles through a type:testing project are not cycles of the product.
const HARNESS = ['^@ctxlab/testing/[a-z-]+$', '^@ctxlab/bench$'];
const ignoredCircularDependencies = [['tag:type:testing', '*']];

/** The type/scope matrix; `test` adds what test files of any project use besides zod: the test runner. */
function depConstraints({ test }) {
  const testRunner = test ? ['vitest', 'fast-check'] : [];
  return [
    // type: what kind of code may use what kind of code
    // (an app may also *start* another app as a process, e.g. the worker the model server, by the
    // latter's package entry and an Nx implicitDependency; an *import* of an app Nx refuses anyway)
    { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:app', 'type:api', 'type:domain', 'type:data-access', 'type:pure', 'type:ui', 'type:util', 'type:node-util'], bannedExternalImports: prisma },
    { sourceTag: 'type:api', onlyDependOnLibsWithTags: ['type:domain', 'type:data-access', 'type:pure', 'type:util', 'type:node-util'], bannedExternalImports: prisma },
    { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', 'type:data-access', 'type:pure', 'type:util', 'type:node-util'], bannedExternalImports: prisma },
    { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:data-access', 'type:pure', 'type:util'] },
    { sourceTag: 'type:pure', onlyDependOnLibsWithTags: ['type:pure', 'type:util'], bannedExternalImports: serverOnly },
    { sourceTag: 'type:ui', onlyDependOnLibsWithTags: ['type:ui', 'type:util'], bannedExternalImports: ['pg', '@prisma/*', 'bullmq', 'ioredis', 'onnxruntime-node'] },
    { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'], allowedExternalImports: ['zod', ...testRunner] },
    { sourceTag: 'type:node-util', onlyDependOnLibsWithTags: ['type:node-util', 'type:util'], bannedExternalImports: [...serverOnly, 'react', 'react-dom', '@trpc/*'] },
    { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:testing', 'type:api', 'type:domain', 'type:data-access', 'type:pure', 'type:util', 'type:node-util'], bannedExternalImports: prisma },
    // scope: which app's code may use which
    { sourceTag: 'scope:portal', onlyDependOnLibsWithTags: ['scope:portal', 'scope:shared'] },
    { sourceTag: 'scope:worker', onlyDependOnLibsWithTags: ['scope:worker', 'scope:shared'] },
    { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:cli', 'scope:shared'] },
    { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
  ];
}

const boundaries = ({ allow = [], test = false } = {}) => [
  'error',
  { enforceBuildableLibDependency: false, allow, ignoredCircularDependencies, depConstraints: depConstraints({ test }) },
];

// Imports the boundary rule cannot see: Node's built-ins are no project and no npm package.
const generatedPrisma = { group: ['**/generated/prisma', '**/generated/prisma/**'], message: 'only repositories (libs/db) touch Prisma: the generated client is theirs' };
const notInContracts = 'libs/contracts is zod only (it is imported by the portal, the CLI and the worker alike): put Node code in libs/security or a server lib';

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
      '@nx/enforce-module-boundaries': boundaries(),
    },
  },
  {
    // Tests, benchmarks and browser tests keep the boundaries of the project they are in; besides,
    // they may use the test runner and the harness packages (@ctxlab/testing, @ctxlab/bench), and
    // nothing else: no relative path into tools/ or another project. Test helpers beside the code
    // (a lib's src/testing/ folder or testing.ts) are test code too.
    files: ['**/*.test.ts', '**/*.test.tsx', '**/bench/**/*.ts', '**/e2e/**/*.ts', 'libs/*/src/testing/**/*.ts', 'libs/*/src/**/testing.ts'],
    rules: { '@nx/enforce-module-boundaries': boundaries({ allow: HARNESS, test: true }) },
  },
  {
    // Cross-library tests, each named: the pure NIAH client against the outbound guard it is used
    // with (libs/security), capability's perplexity against the lab model's engine (libs/inference).
    files: ['libs/niah/src/client.test.ts'],
    rules: { '@nx/enforce-module-boundaries': boundaries({ allow: [...HARNESS, '^@ctxlab/security$'], test: true }) },
  },
  {
    files: ['libs/capability/src/perplexity/perplexity.test.ts'],
    rules: { '@nx/enforce-module-boundaries': boundaries({ allow: [...HARNESS, '^@ctxlab/inference$'], test: true }) },
  },
  {
    // The harness itself reaches the bootstrap's service manager and portal build stamp (tools/bootstrap)
    // and the registry's seed (prisma/seed.ts), neither a project; tests get them through the harness.
    files: ['tools/testing/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': boundaries({ allow: [...HARNESS, '^\\.\\./bootstrap/(services|portal-build)$', '^\\.\\./\\.\\./prisma/seed$'], test: true }) },
  },
  {
    // The generated Prisma client is libs/db's alone.
    files: ['**/*.ts', '**/*.tsx'],
    ignores: ['libs/db/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [generatedPrisma] }] },
  },
  {
    // libs/contracts imports zod and its own files, nothing else: the boundary rule's
    // allowedExternalImports covers npm packages; Node's built-ins and undici are refused here.
    files: ['libs/contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...builtinModules.filter((m) => !m.startsWith('_')), 'undici'].map((name) => ({ name, message: notInContracts })),
          patterns: [{ group: ['node:*', 'undici/*'], message: notInContracts }, generatedPrisma],
        },
      ],
    },
  },
  {
    // Repositories (libs/db) are the only code that touches Prisma: elsewhere the client is neither
    // reached through `.db` nor queried through a model delegate or a raw query.
    files: ['**/*.ts', '**/*.tsx'],
    ignores: ['libs/db/**', '**/*.test.ts', '**/*.test.tsx', '**/e2e/**', 'tools/testing/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[property.name='db']", message: 'only repositories (libs/db) touch Prisma: call a repository method instead of reaching for .db' },
        { selector: `MemberExpression[property.name=/^(${PRISMA_DELEGATES.join('|')})$/][parent.type='MemberExpression'][parent.property.name=/^(${PRISMA_OPERATIONS.join('|')})$/]`, message: 'only repositories (libs/db) touch Prisma: move this query into a repository' },
        { selector: "MemberExpression[property.name=/^\\$(transaction|queryRaw|executeRaw|queryRawUnsafe|executeRawUnsafe)$/]", message: 'only repositories (libs/db) touch Prisma: transactions and raw SQL belong in a repository' },
      ],
    },
  },
];
