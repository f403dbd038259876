import { createClient } from '@ctxlab/api/client';
import { startOpenAITestServer } from '@ctxlab/niah/testing';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startApiServer } from '@ctxlab/testing/api-server';
import { testToken } from '@ctxlab/testing/db';
import { startWorker, stopWorker } from '@ctxlab/testing/worker';

const run = promisify(execFile);
const main = resolve(import.meta.dirname, 'main.ts');
const fixtures = resolve(import.meta.dirname, '../../../libs/ruler/src/testing/fixtures');

describe('ctxlab datasets import-qa and evals start --suite', () => {
  it('imports SQuAD and HotpotQA files, runs RULER with qa tasks to the end and prints the per-length averages and effective length', async () => {
    const model = await startOpenAITestServer({ model: 'suite-model', tokenizer: 'byte' });
    const server = await startApiServer();
    const worker = startWorker('');
    try {
      const token = (await testToken('admin')).token;
      const env = { ...process.env, CTXLAB_URL: server.url, CTXLAB_TOKEN: token };
      const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', main, ...args], { env });
      const dataset = `qa-${process.pid}`;
      const imported = await cli('datasets', 'import-qa', `${fixtures}/squad-v2.json`, '--format', 'squad', '--hotpotqa', `${fixtures}/hotpotqa.json`, '--name', dataset);
      expect(imported.stdout).toMatch(new RegExp(`^imported ${dataset}: squad \\d+ questions, \\d+ documents; hotpotqa \\d+ questions`));
      const bad = await cli('datasets', 'import-qa', `${fixtures}/hotpotqa.json`, '--format', 'squad', '--name', `${dataset}-bad`).catch((e: { code: number; stderr: string }) => e);
      expect(bad).toMatchObject({ code: 1 });

      await cli('health', '--wait');
      const endpoint = `suite-ep-${process.pid}`;
      await createClient(server.url, { token }).endpoints.create.mutate({ name: endpoint, url: model.url, servedModelName: 'suite-model' });
      const refused = await cli('evals', 'start', '--suite', 'ruler', '--endpoint', endpoint, '--tasks', 'vt', '--lengths', '1024', '--tokenizer', 'byte').catch((e: { code: number; stderr: string }) => e);
      expect((refused as { stderr: string }).stderr).toMatch(/spec\.lengths: task vt cannot fit in 1,024 byte tokens/);

      const { stdout } = await cli('evals', 'start', '--suite', 'ruler', '--endpoint', endpoint, '--tasks', 'niah_single_1,vt,qa_1,qa_2', '--lengths', '2048,3072', '--samples', '1', '--tokenizer', 'byte', '--qa-dataset', dataset, '--wait');
      // The test model reads numeric needles only: niah_single_1 scores 100, vt 0; the qa scores depend on the fixtures.
      expect(stdout).toMatch(/^RULER average per length: 2048 \d+\.\d · 3072 \d+\.\d; average \d+\.\d; effective length (\d+|none above 85\.6); failed 0\nsucceeded$/m);
      const topics = await cli('evals', 'start', '--suite', 'topic', '--endpoint', endpoint, '--topics', '2,3', '--length', '2048', '--samples', '1', '--tokenizer', 'byte', '--wait');
      expect(topics.stdout).toMatch(/^topic retrieval accuracy per topic count: 2 topics 0\.0 · 3 topics 0\.0; average 0\.0; failed 0\nsucceeded$/m);
    } finally {
      await stopWorker(worker);
      await server.close();
      await model.close();
    }
  }, 180_000);
});
