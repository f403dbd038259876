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
    return r!.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
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
  ])('%s may not: %s', async (file, code) => {
    expect(await violations(file, code)).not.toEqual([]);
  }, 60_000);

  it.each([
    ['libs/db/src/x.ts', "import { notFound } from '@ctxlab/contracts';\nexport const x = notFound;"],
    ['libs/api/src/x.ts', "import { createDb } from '@ctxlab/db';\nexport const x = createDb;"],
    ['apps/worker/src/x.ts', "import { QUEUES } from '@ctxlab/queue';\nexport const x = QUEUES;"],
    ['apps/portal/src/x.ts', "import { Heatmap } from '@ctxlab/ui';\nexport const x = Heatmap;"],
  ])('%s may: %s', async (file, code) => {
    expect(await violations(file, code)).toEqual([]);
  }, 60_000);
});
