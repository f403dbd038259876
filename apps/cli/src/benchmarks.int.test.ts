import { createClient } from '@ctxlab/api/client';
import { startOpenAITestServer } from '@ctxlab/niah/testing';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startApiServer } from '@ctxlab/testing/api-server';
import { testToken } from '@ctxlab/testing/db';
import { startWorker, stopWorker } from '@ctxlab/testing/worker';

const run = promisify(execFile);
const main = resolve(import.meta.dirname, 'main.ts');
const fixtures = resolve(import.meta.dirname, '../../../libs/capability/fixtures');

describe('ctxlab datasets import --format and evals start --suite mmlu|longbench', () => {
  it("imports MMLU's data folder and LongBench files as published, refuses a broken file by line and field, and runs MMLU to the end", async () => {
    const model = await startOpenAITestServer({ model: 'bench-cli', tokenizer: 'byte', answer: () => 'B' });
    const server = await startApiServer();
    const worker = startWorker('');
    const tmp = mkdtempSync(join(tmpdir(), 'ctxlab-bench-'));
    try {
      const token = (await testToken('admin')).token;
      const env = { ...process.env, CTXLAB_URL: server.url, CTXLAB_TOKEN: token };
      const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', main, ...args], { env });
      const mmlu = `mmlu-cli-${process.pid}`;
      const imported = await cli('datasets', 'import', `${fixtures}/mmlu/data`, '--format', 'mmlu', '--name', mmlu);
      expect(imported.stdout).toMatch(/astronomy_test +\d+ +/);
      expect(imported.stdout).toMatch(new RegExp(`imported ${mmlu}: mmlu, \\d+ tasks, [\\d,]+ bytes, sha256:[0-9a-f]{64}$`, 'm'));
      const lb = await cli('datasets', 'import', `${fixtures}/longbench`, '--format', 'longbench', '--tasks', 'trec,qasper', '--name', `lb-cli-${process.pid}`);
      expect(lb.stdout).toMatch(/imported lb-cli-\d+: longbench, 2 tasks/);

      writeFileSync(join(tmp, 'qasper.jsonl'), '{"input": "q", "context": "c", "answers": ["a"], "length": 1, "dataset": "qasper", "language": "en", "all_classes": null, "_id": "1"}\n{"input": "q"}\n');
      const bad = await cli('datasets', 'import', tmp, '--format', 'longbench', '--name', `lb-bad-${process.pid}`).catch((e: { code: number; stderr: string }) => e);
      expect(bad).toMatchObject({ code: 1 });
      expect((bad as { stderr: string }).stderr).toMatch(/qasper\.jsonl:2: context: /);

      await cli('health', '--wait');
      const endpoint = `bench-ep-${process.pid}`;
      await createClient(server.url, { token }).endpoints.create.mutate({ name: endpoint, url: model.url, servedModelName: 'bench-cli' });
      const { stdout } = await cli('evals', 'start', '--suite', 'mmlu', '--endpoint', endpoint, '--dataset', mmlu, '--shots', '0,5', '--scoring', 'generate', '--tokenizer', 'byte', '--wait');
      // The test model always answers B: the accuracy is the share of questions whose answer is B.
      expect(stdout).toMatch(/^mmlu accuracy: 0-shot \d+\.\d\d · 5-shot \d+\.\d\d \(answers read by generate\); per task: astronomy [\d.]+\/[\d.]+ · high_school_computer_science [\d.]+\/[\d.]+; \d+ items, failed 0\nsucceeded$/m);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
      await stopWorker(worker);
      await server.close();
      await model.close();
    }
  }, 180_000);
});
