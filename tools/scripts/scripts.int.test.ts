import { createClient } from '@ctxlab/api/client';
import { startOpenAITestServer, type OpenAITestServer } from '@ctxlab/niah/testing';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer } from '@ctxlab/testing/api-server';
import { resetDb, testToken } from '@ctxlab/testing/db';
import { startWorker, stopWorker } from '@ctxlab/testing/worker';

const run = promisify(execFile);
const script = (name: string) => resolve(import.meta.dirname, `${name}.ts`);

/** The team's client scripts against the API over HTTP, with API tokens, and a worker doing the sweeps. */
describe('client scripts (tools/scripts)', () => {
  let server: Awaited<ReturnType<typeof startApiServer>>;
  let a: OpenAITestServer;
  let b: OpenAITestServer;
  let worker: ReturnType<typeof startWorker>;
  let member: string;
  beforeAll(async () => {
    await resetDb();
    server = await startApiServer();
    a = await startOpenAITestServer({ model: 'model-a' });
    b = await startOpenAITestServer({ model: 'model-b', blindSpots: [{ minTokens: 700, minDepth: 0, maxDepth: 1 }] });
    worker = startWorker('');
    const admin = createClient(server.url, { token: (await testToken('admin')).token });
    await admin.endpoints.create.mutate({ name: 'ep-a', url: a.url, servedModelName: 'model-a' });
    await admin.endpoints.create.mutate({ name: 'ep-b', url: b.url, servedModelName: 'model-b' });
    member = (await testToken('member')).token;
  });
  afterAll(async () => {
    await stopWorker(worker);
    await server.close();
    await a.close();
    await b.close();
  });
  const env = (token?: string) => ({ ...process.env, CTXLAB_URL: server.url, ...(token ? { CTXLAB_TOKEN: token } : { CTXLAB_TOKEN: '' }) });

  it('sweeps several endpoints and waits for all, then exports a run as CSV and JSON Lines', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script('sweep-endpoints'), '--endpoints', 'ep-a,ep-b', '--lengths', '400,800', '--depths', '0,1', '--name', 'nightly'], { env: env(member) });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^ep-a\tsucceeded\taverage 100\.0\t.*\/evals\/\S+$/);
    expect(lines[1]).toMatch(/^ep-b\tsucceeded\taverage 50\.0\t/);
    const runId = lines[0]!.split('/evals/')[1]!;
    const dir = mkdtempSync(join(tmpdir(), 'export-'));
    await run(process.execPath, ['--import', 'tsx', script('export-cells'), runId, '--out', join(dir, 'cells.csv')], { env: env(member) });
    const csv = readFileSync(join(dir, 'cells.csv'), 'utf8').trim().split('\r\n');
    expect(csv[0]).toBe('contextLength,depth,sample,promptTokens,score,latencyMs,error,needle,expected,response');
    expect(csv).toHaveLength(5);
    const jsonl = (await run(process.execPath, ['--import', 'tsx', script('export-cells'), runId, '--format', 'jsonl'], { env: env(member) })).stdout.trim().split('\n').map((l) => JSON.parse(l) as { score: number });
    expect(jsonl.map((c) => c.score)).toEqual([100, 100, 100, 100]);
  }, 120_000);

  it('say what is wrong: no token, a revoked token, an unknown endpoint', async () => {
    const none = await run(process.execPath, ['--import', 'tsx', script('export-cells'), 'x'], { env: env() }).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(none?.stderr).toMatch(/set CTXLAB_TOKEN to an API token/);
    const t = await testToken('viewer');
    const api = createClient(server.url, { token: t.token });
    await api.tokens.revoke.mutate({ id: t.tokenId });
    const revoked = await run(process.execPath, ['--import', 'tsx', script('export-cells'), 'x'], { env: env(t.token) }).then(() => null, (e: { stderr: string }) => e);
    expect(revoked?.stderr).toMatch(/the API token is not valid/);
    const unknown = await run(process.execPath, ['--import', 'tsx', script('sweep-endpoints'), '--endpoints', 'ep-a,nope', '--lengths', '400'], { env: env(member) }).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(unknown?.code).toBe(2);
    expect(unknown?.stderr).toMatch(/no endpoint named nope/);
  }, 60_000);
});
