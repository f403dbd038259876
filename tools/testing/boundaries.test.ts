import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

/** The architecture's import rules, checked the way `npm test`'s lint step checks them. */
describe('module boundaries', () => {
  let eslint: ESLint;
  beforeAll(() => {
    // The rule reads Nx's cached project graph; this computes it.
    execFileSync(process.execPath, [resolve(root, 'node_modules/nx/dist/bin/nx.js'), 'show', 'projects'], { cwd: root, env: { ...process.env, NX_DAEMON: 'false' }, stdio: 'ignore' });
    eslint = new ESLint({ cwd: root });
  }, 60_000);

  async function violations(file: string, code: string) {
    const [r] = await eslint.lintText(code, { filePath: resolve(root, file) });
    // no-restricted-imports: what the boundary rule cannot see (Node's built-ins in libs/contracts, the generated Prisma client).
    return r!.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries' || m.ruleId === 'no-restricted-imports').map((m) => m.message);
  }

  it.each([
    ['libs/contracts/src/x.ts', "import { createDb } from '@ctxlab/db';\nexport const x = createDb;"],
    ['libs/contracts/src/x.ts', "import pg from 'pg';\nexport const x = pg;"],
    ['libs/longctx/src/x.ts', "import { createDb } from '@ctxlab/db';\nexport const x = createDb;"],
    ['libs/db/src/x.ts', "import { appRouter } from '@ctxlab/api';\nexport const x = appRouter;"],
    ['libs/queue/src/x.ts', "import { checkWorkers } from '@ctxlab/jobs';\nexport const x = checkWorkers;"],
    ['libs/ui/src/x.ts', "import { createDb } from '@ctxlab/db';\nexport const x = createDb;"],
    ['libs/api/src/x.ts', "import { Heatmap } from '@ctxlab/ui';\nexport const x = Heatmap;"],
    ['libs/niah/src/x.ts', "import { generate } from '@ctxlab/inference';\nexport const x = generate;"],
    // libs/contracts is zod only; Node code lives in libs/security, which browser-bound code may not use
    ['libs/contracts/src/x.ts', "import { lookup } from 'node:dns';\nexport const x = lookup;"],
    ['libs/contracts/src/x.ts', "import { randomBytes } from 'crypto';\nexport const x = randomBytes;"],
    ['libs/contracts/src/x.ts', "import { fetch } from 'undici';\nexport const x = fetch;"],
    ['libs/niah/src/x.ts', "import { hashPassword } from '@ctxlab/security';\nexport const x = hashPassword;"],
    ['libs/ui/src/x.ts', "import { hashPassword } from '@ctxlab/security';\nexport const x = hashPassword;"],
    // Prisma is libs/db's alone
    ['libs/api/src/x.ts', "import { PrismaClient } from '@prisma/client';\nexport const x = PrismaClient;"],
    ['apps/worker/src/x.ts', "import { PrismaPg } from '@prisma/adapter-pg';\nexport const x = PrismaPg;"],
    ['libs/jobs/src/x.ts', "import type { Prisma } from '@ctxlab/db/src/generated/prisma/client';\nexport type X = Prisma.JsonValue;"],
    // scopes: the CLI has no React components, shared libs no onnxruntime sessions
    ['apps/cli/src/x.ts', "import { Heatmap } from '@ctxlab/ui';\nexport const x = Heatmap;"],
    ['libs/jobs/src/x.ts', "import { generate } from '@ctxlab/inference';\nexport const x = generate;"],
    // the harness: only through its package, and only from tests and benchmarks
    ['libs/niah/bench/x.bench.ts', "import { time } from '../../../tools/bench/harness';\nexport const x = time;"],
    ['libs/api/src/x.int.test.ts', "import { resetDb } from '../../../tools/testing/db';\nexport const x = resetDb;"],
    ['libs/api/src/x.ts', "import { resetDb } from '@ctxlab/testing/db';\nexport const x = resetDb;"],
    // a test keeps its project's boundaries
    ['libs/longctx/src/x.test.ts', "import { createDb } from '@ctxlab/db';\nexport const x = createDb;"],
  ])('%s may not: %s', async (file, code) => {
    expect(await violations(file, code)).not.toEqual([]);
  }, 60_000);

  it.each([
    ['libs/db/src/x.ts', "import { notFound } from '@ctxlab/contracts';\nexport const x = notFound;"],
    ['libs/api/src/x.ts', "import { createDb } from '@ctxlab/db';\nexport const x = createDb;"],
    ['apps/worker/src/x.ts', "import { QUEUES } from '@ctxlab/queue';\nexport const x = QUEUES;"],
    ['apps/portal/src/x.ts', "import { Heatmap } from '@ctxlab/ui';\nexport const x = Heatmap;"],
    ['libs/api/src/x.ts', "import { hashPassword } from '@ctxlab/security';\nexport const x = hashPassword;"],
    ['apps/cli/src/x.ts', "import { timedFetch } from '@ctxlab/security';\nexport const x = timedFetch;"],
    ['libs/db/src/x.ts', "import { PrismaPg } from '@prisma/adapter-pg';\nexport const x = PrismaPg;"],
    ['apps/worker/src/x.ts', "import { generate } from '@ctxlab/inference';\nexport const x = generate;"],
    ['libs/niah/bench/x.bench.ts', "import { time } from '@ctxlab/bench';\nexport const x = time;"],
    ['libs/api/src/x.int.test.ts', "import { resetDb } from '@ctxlab/testing/db';\nexport const x = resetDb;"],
    ['libs/contracts/src/x.test.ts', "import { expect } from 'vitest';\nimport { z } from 'zod';\nexport const x = [expect, z];"],
  ])('%s may: %s', async (file, code) => {
    expect(await violations(file, code)).toEqual([]);
  }, 60_000);
});
