import { createClient } from '@ctxlab/api/client';
import { startOpenAITestServer } from '@ctxlab/niah/testing';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startApiServer } from '@ctxlab/testing/api-server';
import { testToken } from '@ctxlab/testing/db';
import { startWorker, stopWorker } from '@ctxlab/testing/worker';

const run = promisify(execFile);
const main = resolve(import.meta.dirname, 'main.ts');

describe('ctxlab evals start --corpus NAME', () => {
  it('sweeps over a dataset imported with `ctxlab datasets import` as the haystack; an unknown name is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'essays-'));
    const essay = (topic: string) => Array.from({ length: 200 }, (_, i) => `The ${topic} lighthouse keeper wrote entry ${i} about quokkas.`).join(' ');
    writeFileSync(join(dir, 'a.txt'), essay('Zanzibar'));
    writeFileSync(join(dir, 'b.txt'), essay('Reykjavik'));
    const model = await startOpenAITestServer({ model: 'corpus-model' });
    const server = await startApiServer();
    const worker = startWorker('');
    const dataset = `lighthouse-${process.pid}`;
    try {
      const token = (await testToken('admin')).token;
      const env = { ...process.env, CTXLAB_URL: server.url, CTXLAB_TOKEN: token };
      const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', main, ...args], { env });
      await cli('datasets', 'import', dir, '--name', dataset);
      await cli('health', '--wait');
      const endpoint = `corpus-ep-${process.pid}`;
      await createClient(server.url, { token }).endpoints.create.mutate({ name: endpoint, url: model.url, servedModelName: 'corpus-model' });

      const refused = await cli('evals', 'start', '--endpoint', endpoint, '--lengths', '300', '--depths', '0', '--corpus', 'no-such-dataset').catch((e: { code: number; stderr: string }) => e);
      expect(refused).toMatchObject({ code: 1 });
      expect((refused as { stderr: string }).stderr).toMatch(/spec\.corpus: no shipped corpus or imported dataset is named no-such-dataset/);

      const { stdout } = await cli('evals', 'start', '--endpoint', endpoint, '--lengths', '300,600', '--depths', '0,1', '--corpus', dataset, '--wait', '--json');
      expect(JSON.parse(stdout).status).toBe('succeeded');
      const prompts = model.requests.filter((q) => q.path.endsWith('/chat/completions')).map((q) => JSON.stringify(q.body));
      expect(prompts).toHaveLength(4);
      expect(prompts.every((p) => p.includes('lighthouse keeper wrote entry'))).toBe(true);
    } finally {
      await stopWorker(worker);
      await server.close();
      await model.close();
    }
  }, 120_000);
});
