import { startOpenAITestServer, type OpenAITestServer } from '@ctxlab/niah/testing';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const main = resolve(import.meta.dirname, 'main.ts');

describe('ctxlab niah against a local OpenAI-compatible server', () => {
  let server: OpenAITestServer;
  beforeAll(async () => {
    server = await startOpenAITestServer({ model: 'm' });
  });
  afterAll(() => server.close());
  const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', main, 'niah', ...args], { env: { ...process.env }, timeout: 60_000 });
  const grid = ['--lengths', '300,600,900', '--depths', '0,0.5,1', '--concurrency', '3'];

  it('runs, writes results, CSV, heatmap and the original harness layout; a rerun resumes without redoing cells', async () => {
    const out = mkdtempSync(join(tmpdir(), 'niah-'));
    const first = await cli('run', '--endpoint', server.url, '--model', 'm', '--out', out, ...grid, '--json');
    expect(JSON.parse(first.stdout)).toMatchObject({ total: 9, scored: 9, failed: 0, average: 100 });
    expect(readFileSync(join(out, 'heatmap.svg'), 'utf8')).toContain('<svg');
    expect(readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n')).toHaveLength(10);
    const gk = JSON.parse(readFileSync(join(out, 'gkamradt', readFileSyncDir(out)), 'utf8'));
    expect(gk).toHaveProperty('context_length');
    expect(gk).toHaveProperty('depth_percent');

    // Drop three finished cells (as if the run had been killed): only those run again.
    const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n');
    writeFileSync(join(out, 'results.jsonl'), `${lines.slice(0, 6).join('\n')}\n{"cellId":"L9`);
    const before = server.requests.filter((r) => r.path.endsWith('/completions')).length;
    const again = await cli('run', '--endpoint', server.url, '--model', 'm', '--out', out, ...grid, '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ total: 9, scored: 9 });
    expect(server.requests.filter((r) => r.path.endsWith('/completions')).length - before).toBe(3);
  }, 90_000);

  it('--corpus DIR sweeps over a folder of .txt files as the haystack (run and plan)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'essays-'));
    const essay = (topic: string) => Array.from({ length: 200 }, (_, i) => `The ${topic} lighthouse keeper wrote entry ${i} about quokkas.`).join(' ');
    writeFileSync(join(dir, 'a.txt'), essay('Zanzibar'));
    writeFileSync(join(dir, 'b.txt'), essay('Reykjavik'));
    const out = mkdtempSync(join(tmpdir(), 'niah-'));
    const before = server.requests.length;
    const r = await cli('run', '--endpoint', server.url, '--model', 'm', '--out', out, '--lengths', '300,600', '--depths', '0,1', '--corpus', dir, '--json');
    expect(JSON.parse(r.stdout)).toMatchObject({ total: 4, scored: 4, failed: 0, average: 100 });
    const prompts = server.requests.slice(before).filter((q) => q.path.endsWith('/chat/completions')).map((q) => JSON.stringify(q.body));
    expect(prompts).toHaveLength(4);
    expect(prompts.every((p) => p.includes('lighthouse keeper wrote entry'))).toBe(true);
    const plan = await cli('plan', '--lengths', '300,600', '--depths', '0,1', '--corpus', dir, '--json');
    expect(JSON.parse(plan.stdout).cells).toBe(4);
  }, 90_000);

  it('failed requests are recorded and never scored', async () => {
    const out = mkdtempSync(join(tmpdir(), 'niah-'));
    server.setBehaviour({ kind: 'status', status: 503, message: 'overloaded' });
    try {
      const r = await cli('run', '--endpoint', server.url, '--model', 'm', '--out', out, '--lengths', '300', '--depths', '0,1', '--json');
      expect(JSON.parse(r.stdout)).toMatchObject({ total: 2, scored: 0, failed: 2, average: null });
      const rows = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(rows.every((x) => x.score === null && /503/.test(x.error))).toBe(true);
    } finally {
      server.setBehaviour({ kind: 'answer' });
    }
  }, 90_000);

  it('plan shows the grid and the prefill our order saves against the naive order', async () => {
    const r = await cli('plan', '--lengths', '2000,4000', '--depths', '0,0.5,1', '--json');
    const p = JSON.parse(r.stdout);
    expect(p.cells).toBe(6);
    expect(p.prefill.ours).toBeLessThanOrEqual(p.prefill.naive);
  }, 60_000);

  it('an unreachable endpoint or a bad grid is a clear error', async () => {
    const e = await cli('run', '--endpoint', 'http://127.0.0.1:9', '--model', 'm', '--out', mkdtempSync(join(tmpdir(), 'niah-')), ...grid).catch((x: { stderr: string }) => x);
    expect((e as { stderr: string }).stderr).toMatch(/endpoint http:\/\/127\.0\.0\.1:9 is unreachable/);
    const g = await cli('plan', '--lengths', '300', '--depths', '2').catch((x: { stderr: string }) => x);
    expect((g as { stderr: string }).stderr).toMatch(/a depth is a fraction from 0 to 1/);
  }, 60_000);
});

function readFileSyncDir(out: string): string {
  return readdirSync(join(out, 'gkamradt'))[0]!;
}
