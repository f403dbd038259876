import { createClient } from '@ctxlab/api/client';
import { startOpenAITestServer } from '@ctxlab/niah/testing';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { resolve } from 'node:path';
import { startWorker, stopWorker } from '@ctxlab/testing/worker';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '@ctxlab/testing/seed';
import { validateModelCard } from '@ctxlab/hub';
import { decoderTensors, writeShardedCheckpoint } from '@ctxlab/hub/testing';
import { MISTRAL_7B_V02 } from '@ctxlab/longctx';
import { startApiServer } from '@ctxlab/testing/api-server';
import { resetDb, testRepos, testToken } from '@ctxlab/testing/db';

const run = promisify(execFile);
const main = resolve(import.meta.dirname, 'main.ts');
// Every HTTP call carries an admin's API token, as a team's scripts do (CTXLAB_TOKEN).
let token = '';
beforeAll(async () => {
  token = (await testToken('admin')).token;
});

describe('ctxlab CLI against the API over HTTP', () => {
  let server: Awaited<ReturnType<typeof startApiServer>>;
  const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', main, ...args], { env: { ...process.env, CTXLAB_URL: server.url, CTXLAB_TOKEN: token } });

  beforeAll(async () => {
    await resetDb();
    await seed(testRepos().db);
    server = await startApiServer();
  });
  afterAll(() => server.close());

  it('plan recipe prints the stage table and totals', async () => {
    const { stdout } = await cli('plan', 'recipe', 'gradient-llama3-70b-1048k');
    expect(stdout).toContain('83,886,080');
    expect(stdout).toContain('33,554,432');
    expect(stdout).toMatch(/total: 432,013,312 tokens/);
  });

  it('plan recipe warns when a published time implies MFU above 1, and takes the tokens a stage really trained on', async () => {
    const full = (await cli('plan', 'recipe', 'baai-llama3-8b-80k-qlora')).stdout;
    expect(full).toContain('4.03 / 3.96');
    expect(full).toMatch(/warning: stage 1 \(80K\): the published 480 wall minutes .* imply MFU 4\.03/);
    const stated = (await cli('plan', 'recipe', 'baai-llama3-8b-80k-qlora', '--trained-tokens', '300000000')).stdout;
    expect(stated).toContain('0.74 / 0.73');
    expect(stated).not.toContain('warning:');
  });

  it('plan memory prices the optimizer precision it is told', async () => {
    const gib = async (...o: string[]) => Number(/training memory per GPU +([\d.]+) GiB/.exec((await cli('plan', 'memory', '--model', 'Meta-Llama-3-8B-Instruct', '--tp', '1', '--seq', '8192', '--ring-gpus', '1', ...o)).stdout)?.[1]);
    const master = await gib();
    const bf16 = await gib('--optimizer', 'bf16');
    expect(master - bf16).toBeGreaterThan(50);
  });

  it('dispatch stage prints the exact training command (dry run)', async () => {
    const { stdout } = await cli('dispatch', 'stage', '--recipe', 'gradient-llama3-70b-1048k', '--stage', '4', '--model', 'file:///a/524K', '--dataset', 'file:///d/1048K', '--output', 'file:///a/1048K');
    expect(stdout).toContain('accelerate launch');
    expect(stdout).toContain('--rope-theta 3580165449');
    expect(stdout).toContain('--seq-length 1048576');
  });

  it('plan theta --json is machine-readable', async () => {
    const { stdout } = await cli('plan', 'theta', '--model', 'Meta-Llama-3-70B-Instruct', '--target', '1048576', '--rule', 'critical-dim', '--json');
    expect(JSON.parse(stdout).theta).toBe(3_580_165_449);
  });

  it('plan serve shows the vLLM command', async () => {
    const { stdout } = await cli('plan', 'serve', '--model', 'llama3-8B-360Zhinao-360k-Instruct', '--gpu-mem', '80', '--tp', '8', '--util', '0.6', '--max-model-len', '365000');
    expect(stdout).toMatch(/^FITS/);
    expect(stdout).toContain('vllm serve');
  });

  it('models list and a bad request exit non-zero with the reason', async () => {
    const { stdout } = await cli('models', 'list', '--search', 'Gradient');
    expect(stdout).toContain('Llama-3-70B-Instruct-Gradient-1048k');
    const bad = await cli('plan', 'theta', '--model', 'ghost', '--target', '1000', '--rule', 'ntk').then(() => null, (e: { code: number; stderr: string }) => e);
    expect(bad?.code).toBe(1);
    expect(bad?.stderr).toMatch(/BAD_REQUEST: model\.modelName: no model named ghost/);
  });

  it('models import reads a Hugging Face folder (headers only) and models card writes its card and heatmaps', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'hub-')), 'Mistral-7B-Instruct-v0.2');
    await writeShardedCheckpoint(dir, decoderTensors(MISTRAL_7B_V02), 3);
    copyFileSync(join(dirname(createRequire(import.meta.url).resolve('@ctxlab/hub/testing')), 'fixtures', 'mistral-7b-instruct-v0.2', 'config.json'), join(dir, 'config.json'));
    const dry = await cli('models', 'import', dir, '--tokenizer', 'llama2', '--license', 'apache-2.0', '--dry-run');
    expect(dry.stdout).toMatch(/would import \(dry run\) model Mistral-7B-Instruct-v0\.2: mistral, 32 layers, hidden 4096, 32\/8 heads, θ 1,000,000, 32,768 positions · 7\.24 B parameters in 3 weight file\(s\)/);
    const { stdout } = await cli('models', 'import', `file://${dir}`, '--tokenizer', 'llama2', '--license', 'apache-2.0', '--json');
    const r = JSON.parse(stdout);
    expect(r).toMatchObject({ kind: 'model', created: { name: 'Mistral-7B-Instruct-v0.2' }, model: { license: 'apache-2.0', config: { architecture: 'mistral', tokenizer: 'llama2' } } });
    expect(r.hub.weights.params).toBe(7_241_732_096);
    const out = mkdtempSync(join(tmpdir(), 'card-'));
    const card = await cli('models', 'card', 'Mistral-7B-Instruct-v0.2', '--out', out);
    expect(card.stdout).toContain(join(out, 'README.md'));
    const readme = readFileSync(join(out, 'README.md'), 'utf8');
    expect(validateModelCard(readme).filter((i) => i.severity === 'error')).toEqual([]);
    expect(readme).toMatch(/^---\nlicense: apache-2.0\n/);
    expect(readme).toContain('7,241,732,096');
    const bad = await cli('models', 'import', join(dir, 'nope')).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(bad?.stderr).toMatch(/nope: not a directory/);
  });

  it('recipes run starts the seeded lab recipe from a model; runs lists it; cancel and resume work by run name', async () => {
    const started = (await cli('recipes', 'run', 'lab-progressive', '--from', 'lab-stage1', '--name', 'cli-run')).stdout;
    expect(started).toContain('started recipe run cli-run: lab-progressive v1 from lab-stage1, 3 stage(s)');
    expect((await cli('recipes', 'runs', 'lab-progressive')).stdout).toMatch(/cli-run +│? *lab-progressive v1 +│? *queued +│? *1\/3/);
    const cancelled = (await cli('recipes', 'cancel', 'cli-run')).stdout;
    expect(cancelled).toMatch(/^cli-run: cancelled — cancelled by /);
    expect(cancelled).toMatch(/1 lab-512 .*pending/);
    expect((await cli('recipes', 'resume', 'cli-run')).stdout).toContain('resumed cli-run (retry)');
    expect((await cli('recipes', 'cancel', 'cli-run', '--json')).stdout).toContain('"status": "cancelled"');
    const bad = await cli('recipes', 'run', 'lab-progressive', '--from', 'ghost').then(() => null, (e: { code: number; stderr: string }) => e);
    expect(bad?.code).toBe(1);
    expect(bad?.stderr).toMatch(/no model named ghost/);
    const again = await cli('recipes', 'run', 'lab-progressive', '--from', 'lab-stage1', '--name', 'cli-run').then(() => null, (e: { code: number; stderr: string }) => e);
    expect(again?.stderr).toMatch(/BAD_REQUEST: name: a recipe run named cli-run already exists/);
  });
});

describe('ctxlab without a token', () => {
  it('is refused with a message that says how to get one', async () => {
    const server = await startApiServer();
    try {
      const e = await run(process.execPath, ['--import', 'tsx', main, 'models', 'list'], { env: { ...process.env, CTXLAB_URL: server.url, CTXLAB_TOKEN: '' } }).then(() => null, (x: { code: number; stderr: string }) => x);
      expect(e?.code).toBe(1);
      expect(e?.stderr).toMatch(/UNAUTHORIZED: sign in, or send an API token as Authorization: Bearer <token> — set CTXLAB_TOKEN to an API token/);
    } finally {
      await server.close();
    }
  });
});

describe('ctxlab datasets import', () => {
  it('imports a folder of .txt files through the API', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'essays-'));
    writeFileSync(join(dir, 'a.txt'), 'The first essay. It has sentences.');
    writeFileSync(join(dir, 'b.txt'), 'The second essay. It has more sentences.');
    const server = await startApiServer();
    try {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', main, 'datasets', 'import', dir, '--name', 'my-essays', '--json'], { env: { ...process.env, CTXLAB_URL: server.url, CTXLAB_TOKEN: token } });
      const d = JSON.parse(stdout);
      expect(d).toMatchObject({ name: 'my-essays', documents: 2, kind: 'haystack' });
      expect(d.tokenCounts.llama3).toBeGreaterThan(5);
    } finally {
      await server.close();
    }
  });
});

describe('ctxlab evals start --wait', () => {
  it('starts a sweep on a registered endpoint, follows it to the end, and lists its job', async () => {
    const model = await startOpenAITestServer({ model: 'cli-model' });
    const server = await startApiServer();
    const worker = startWorker('');
    try {
      const env = { ...process.env, CTXLAB_URL: server.url, CTXLAB_TOKEN: token };
      await run(process.execPath, ['--import', 'tsx', main, 'health', '--wait'], { env });
      await createClient(server.url, { token }).endpoints.create.mutate({ name: 'cli-ep', url: model.url, servedModelName: 'cli-model' });
      const { stdout } = await run(process.execPath, ['--import', 'tsx', main, 'evals', 'start', '--endpoint', 'cli-ep', '--lengths', '400,800', '--depths', '0,1', '--wait', '--json'], { env });
      const job = JSON.parse(stdout);
      expect(job.status).toBe('succeeded');
      const ev = await run(process.execPath, ['--import', 'tsx', main, 'jobs', 'events', job.id], { env });
      expect(ev.stdout).toMatch(/running→succeeded/);
    } finally {
      await stopWorker(worker);
      await server.close();
      await model.close();
    }
  }, 90_000);
});

describe('ctxlab serve and adapters (the seeded lab models, through a worker on the local executor)', () => {
  it('extracts an adapter with a progress bar, checks perplexity, serves a model until stopped', async () => {
    const server = await startApiServer();
    const dir = mkdtempSync(join(tmpdir(), 'cli-gpu-'));
    const worker = startWorker('', { JOBS_DIR: join(dir, 'jobs'), ARTIFACTS_DIR: join(dir, 'artifacts') });
    try {
      const env = { ...process.env, CTXLAB_URL: server.url, CTXLAB_TOKEN: token };
      const ctxlab = (...args: string[]) => run(process.execPath, ['--import', 'tsx', main, ...args], { env });
      await ctxlab('health', '--wait');
      const out = `file://${join(dir, 'artifacts/lab-s2-r4')}`;
      const x = await ctxlab('adapters', 'extract', '--model', 'lab-stage2', '--base', 'lab-stage1', '--rank', '4', '--name', 'lab-s2-r4', '--output', out, '--wait');
      expect(x.stdout.trim()).toBe('succeeded');
      expect(x.stderr).toMatch(/queued: extract lab-s2-r4 \(rank ≤ 4\) from lab-stage2 − lab-stage1/);
      expect(x.stderr).toMatch(/\d+\/\d+ modules/);
      expect((await ctxlab('adapters', 'list')).stdout).toMatch(/lab-s2-r4\s+4\s+7\s+file:\/\//);

      const ppl = await ctxlab('evals', 'check', 'perplexity', '--model', 'lab-stage1', '--lengths', '256,512,1024', '--samples', '1', '--rule', 'dynamic-ntk:4', '--wait');
      expect(ppl.stdout).toMatch(/length\s+perplexity \(geo\. mean\)\s+θ/);
      expect(ppl.stdout, ppl.stdout).toMatch(/\n\s*1,024\s+\d+\.\d{3}\s+55663\s*\n/);
      expect(ppl.stdout.trim().endsWith('succeeded')).toBe(true);
      expect(ppl.stderr).toMatch(/3\/3 checks/);
      const bad = await ctxlab('evals', 'check', 'perplexity', '--model', 'lab-stage1', '--rule', 'yarn').then(() => null, (e: { stderr: string }) => e);
      expect(bad?.stderr).toMatch(/--rule must be model, fixed:THETA, ntk:TARGET_LENGTH or dynamic-ntk\[:ALPHA\]; got yarn/);

      const port = 18_000 + (process.pid % 900);
      const s = await ctxlab('serve', 'start', 'lab-stage2', '--port', String(port), '--wait');
      expect(s.stdout).toContain(`serving at http://127.0.0.1:${port}/v1 · stop with: ctxlab serve stop lab-stage2`);
      const models = (await (await fetch(`http://127.0.0.1:${port}/v1/models`)).json()) as { data: { id: string }[] };
      expect(models.data.map((m) => m.id)).toEqual(['lab-stage2']);
      const stop = await ctxlab('serve', 'stop', 'lab-stage2');
      expect(stop.stdout).toMatch(/stopped job \S+ \(cancelled\)/);
      const again = await ctxlab('serve', 'stop', 'lab-stage2').then(() => null, (e: { code: number; stderr: string }) => e);
      expect(again?.stderr).toMatch(/nothing is being served for lab-stage2/);
    } finally {
      await stopWorker(worker);
      await server.close();
    }
  }, 180_000);
});
