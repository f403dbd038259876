import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer } from '@ctxlab/testing/api-server';
import { internalApi, resetDb, testRepos, testToken } from '@ctxlab/testing/db';

const run = promisify(execFile);
const main = resolve(import.meta.dirname, 'main.ts');
// Its own queue prefix: the admitted job goes on a queue no worker reads, so it holds its GPU for the whole file.
const prefix = `cli-sched-${process.pid}`;
const repos = testRepos();

/**
 * Teams, quotas, prices, the GPU queue and the cost accounts from the CLI, against the API over
 * HTTP. The local executor reports one a100-80gb GPU and no worker runs: the first GPU job takes
 * it, the second waits.
 */
describe('ctxlab teams, quotas, prices, queue and costs', () => {
  let server: Awaited<ReturnType<typeof startApiServer>>;
  let env: NodeJS.ProcessEnv;
  let member: Awaited<ReturnType<typeof testToken>>;
  const dir = mkdtempSync(join(tmpdir(), 'cli-sched-'));
  const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', main, ...args], { env });
  const fails = (...args: string[]) => cli(...args).then(() => null, (e: { code: number; stderr: string }) => e);
  /** A 1-GPU LoRA extraction as a dispatch file; each name is its own job. */
  const jobFile = (name: string) => {
    const file = join(dir, `${name}.json`);
    const out = `file://${join(dir, name)}`;
    writeFileSync(file, JSON.stringify({ spec: { kind: 'lora-extract', finetuned: `file://${dir}/ft`, base: `file://${dir}/base`, output: out, maxRank: 8, cuda: true, gpuType: 'A100-80GB' }, executor: 'local' }));
    return file;
  };

  beforeAll(async () => {
    await resetDb();
    const admin = await testToken('admin');
    member = await testToken('member');
    env = { ...process.env, CTXLAB_URL: '', CTXLAB_TOKEN: admin.token };
    await repos.scheduling.reportPools('local', [{ gpuType: 'a100-80gb', gpus: 1, nodes: 1, foreignUsed: 0 }], 'cli test');
    server = await startApiServer({ queuePrefix: prefix });
    env.CTXLAB_URL = server.url;
  });
  afterAll(async () => {
    await repos.scheduling.forgetPools('local');
    await server?.close();
  });

  it('teams create, list, add-member, show and weight', async () => {
    expect((await cli('teams', 'create', 'alpha', '--weight', '2', '--description', 'long-context research')).stdout).toMatch(/^created team alpha \(weight 2, id \S+\)/);
    await cli('teams', 'create', 'beta');
    const list = (await cli('teams', 'list')).stdout;
    expect(list).toMatch(/alpha\s+2\s+0\s+0\s+—\s+long-context research/);
    expect(list).toMatch(/beta\s+1\s+0\s+0/);
    expect((await cli('teams', 'add-member', 'alpha', member.userId, '--role', 'admin')).stdout.trim()).toBe(`${member.userId} is an admin of alpha`);
    expect((await cli('teams', 'add-member', 'beta', member.email)).stdout.trim()).toBe(`${member.email} is a member of beta`);
    expect((await cli('teams', 'show', 'alpha')).stdout).toMatch(new RegExp(`member tester\\s+${member.email.replace(/\./g, '\\.')}\\s+admin\\s+${member.userId}`));
    expect((await cli('teams', 'weight', 'beta', '1.5')).stdout.trim()).toBe('team beta: weight 1.5');
    expect((await cli('teams', 'remove-member', 'beta', member.userId)).stdout.trim()).toBe(`${member.userId} is no longer in beta`);
    const teams = JSON.parse((await cli('teams', 'list', '--json')).stdout);
    expect(teams.map((t: { name: string; weight: number; _count: { members: number } }) => [t.name, t.weight, t._count.members])).toEqual([['alpha', 2, 1], ['beta', 1.5, 0]]);
    const bad = await fails('teams', 'add-member', 'alpha', member.userId, '--role', 'owner');
    expect(bad?.code).toBe(1);
    expect(bad?.stderr).toMatch(/--role must be viewer, member or admin; got owner/);
  });

  it('prices set, list and remove', async () => {
    expect((await cli('prices', 'set', 'a100-80gb', '2', '--note', 'on-demand')).stdout.trim()).toBe('a100-80gb: 2.00 USD an hour');
    expect((await cli('prices', 'set', 'cpu', '0.05', '--currency', 'eur', '--peak-flops', '1e12')).stdout.trim()).toBe('cpu: 0.05 EUR an hour · peak 1 TFLOP/s');
    const list = (await cli('prices', 'list')).stdout;
    expect(list).toMatch(/a100-80gb\s+2\.00 USD\s+—\s+on-demand\s+admin tester/);
    expect(list).toMatch(/cpu\s+0\.05 EUR\s+1 TFLOP\/s/);
    expect((await cli('prices', 'remove', 'cpu')).stdout).toContain('cpu: no price');
    expect(JSON.parse((await cli('prices', 'list', '--json')).stdout)).toMatchObject([{ gpuType: 'a100-80gb', pricePerHour: 2, currency: 'USD', note: 'on-demand' }]);
    const bad = await fails('prices', 'set', 'a100-80gb', 'cheap');
    expect(bad?.stderr).toMatch(/PRICE_PER_HOUR must be a number; got cheap/);
  });

  it('quotas set (with a clear error when it would limit nothing), list and remove', async () => {
    const bad = await fails('quotas', 'set', 'beta', 'a100-80gb');
    expect(bad?.code).toBe(1);
    expect(bad?.stderr.trim()).toBe('ctxlab: quotas set beta a100-80gb: give --gpu-hours H, --max-gpus N or both (a quota limits GPU-hours per period, GPUs at once, or both)');
    expect((await fails('quotas', 'set', 'beta', 'a100-80gb', '--max-gpus', '1', '--period', 'year'))?.stderr).toMatch(/--period must be day, week or month; got year/);
    expect((await fails('quotas', 'set', 'gamma', 'a100-80gb', '--max-gpus', '1'))?.stderr).toMatch(/NOT_FOUND: .*gamma/);
    expect((await cli('quotas', 'set', 'beta', 'a100-80gb', '--gpu-hours', '100', '--max-gpus', '1')).stdout.trim()).toBe('team beta: a100-80gb: 100 GPU-hours a month, 1 GPU at once');
    expect((await cli('quotas', 'set', 'alpha', 'h100-sxm-80gb', '--gpu-hours', '10', '--period', 'week')).stdout.trim()).toBe('team alpha: h100-sxm-80gb: 10 GPU-hours a week');
    expect((await cli('quotas', 'list')).stdout).toMatch(/beta\s+a100-80gb\s+month\s+100\s+0\s+1/);
    expect((await cli('quotas', 'remove', 'alpha', 'h100-sxm-80gb')).stdout.trim()).toBe('team alpha: no quota on h100-sxm-80gb');
  });

  it('queue shows the pool, the job holding its GPU and the one waiting; priority and override act on the waiting one', async () => {
    const first = JSON.parse((await cli('dispatch', 'start', jobFile('first'), '--team', 'alpha', '--json')).stdout);
    expect(first.job).toMatchObject({ gpus: 1, gpuType: 'a100-80gb', priority: 'normal' });
    expect(first.job.admittedAt).not.toBeNull();
    const second = JSON.parse((await cli('dispatch', 'start', jobFile('second'), '--team', 'beta', '--priority', 'low', '--json')).stdout);
    expect(second.job).toMatchObject({ priority: 'low', admittedAt: null });
    expect((await fails('dispatch', 'start', jobFile('third'), '--priority', 'urgent'))?.stderr).toMatch(/--priority must be high, normal or low; got urgent/);

    const q = JSON.parse((await cli('queue', '--json')).stdout);
    expect(Object.keys(q).sort()).toEqual(['decidedAt', 'holding', 'passMs', 'pools', 'quotas', 'teams', 'waiting']);
    expect(q.pools).toMatchObject([{ executor: 'local', gpuType: 'a100-80gb', gpus: 1, held: 1, free: 0, waitingJobs: 1, waitingGpus: 1 }]);
    expect(q.holding).toMatchObject([{ id: first.job.id, team: 'alpha', kind: 'lora-extract', gpus: 1, status: 'queued' }]);
    expect(q.waiting).toMatchObject([{ id: second.job.id, team: 'beta', priority: 'low', position: 1, waitKind: 'capacity' }]);
    expect(q.waiting[0].reason).toContain('waiting for 1 free a100-80gb GPU');
    expect(q.quotas).toMatchObject([{ team: 'beta', gpuType: 'a100-80gb', gpuHours: 100, maxGpus: 1, usedGpuHours: 0 }]);

    const text = (await cli('queue')).stdout;
    expect(text).toMatch(/local\/a100-80gb\s+1\s+1\s+0\s+1\s+1/);
    expect(text).toMatch(new RegExp(`1\\s+${second.job.id}\\s+low\\s+beta\\s+lora-extract\\s+—\\s+1×a100-80gb\\s+waiting for 1 free a100-80gb GPU`));
    expect(text).toMatch(new RegExp(`holding GPUs \\(1\\)\\n.*\\n.*\\n${first.job.id}\\s+alpha\\s+lora-extract`));
    expect(text).toMatch(/beta\s+a100-80gb\s+month from \d{4}-\d\d-01\s+0\.00 \/ 100 \(0%\)\s+0 \/ 1/);

    expect((await cli('queue', 'priority', second.job.id, 'high')).stdout.trim()).toBe(`job ${second.job.id}: priority high · now #1 for a100-80gb`);
    expect((await fails('queue', 'priority', first.job.id, 'low'))?.stderr).toMatch(/PRECONDITION_FAILED: job \S+ is admitted: only a job waiting for GPUs changes priority/);
    expect((await fails('queue', 'priority', second.job.id, 'urgent'))?.stderr).toMatch(/priority must be high, normal or low; got urgent/);
    expect((await cli('queue', 'override', second.job.id, '--reason', 'deadline')).stdout).toContain(`job ${second.job.id}: admitted past its team's quota`);
    expect(JSON.parse((await cli('queue', 'override', second.job.id, '--off', '--json')).stdout)).toMatchObject({ id: second.job.id, quotaOverride: false });
  });

  it('queue --watch redraws until Ctrl-C and then exits cleanly', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', main, 'queue', '--watch', '--json'], { env });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const deadline = Date.now() + 30_000;
    while (stdout.split('\n').filter(Boolean).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const views = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(views.length).toBeGreaterThanOrEqual(2);
    expect(views[0].pools[0]).toMatchObject({ gpuType: 'a100-80gb' });
  });

  it('costs: totals, per team, month and device, and a model over its lineage', async () => {
    // One GPU-hour on the executor's clock: 2.00 USD at the price set above.
    const [job] = (await repos.scheduling.queueView()).filter((j) => j.admittedAt);
    const now = Date.now();
    await repos.jobs.markGpuTime(job!.id, 'start', new Date(now - 2 * 3_600_000));
    await repos.jobs.markGpuTime(job!.id, 'end', new Date(now - 3_600_000));
    const from = new Date(now - 86_400_000).toISOString();
    const r = JSON.parse((await cli('costs', '--from', from, '--json')).stdout);
    expect(Object.keys(r).sort()).toEqual(['byDevice', 'byMonth', 'byTeam', 'estimates', 'from', 'jobs', 'prices', 'team', 'to', 'totals']);
    expect(r.totals.jobs).toBe(1);
    expect(r.totals.gpuHours).toBeCloseTo(1, 5);
    expect(r.totals.cost.USD).toBeCloseTo(2, 5);
    expect(r.byTeam).toMatchObject([{ key: 'alpha', jobs: 1 }]);
    expect(r.byDevice).toMatchObject([{ key: 'a100-80gb', jobs: 1 }]);
    expect(r.estimates).toEqual([]);
    const text = (await cli('costs', '--from', from)).stdout;
    expect(text).toMatch(/total: 1 job · 1\.00 GPU-hours · 2\.00 USD\n/);
    expect(text).toMatch(/per team\nteam\s+jobs\s+GPU-hours\s+cost\s+unpriced GPU-hours\n.*\nalpha\s+1\s+1\s+2\.00 USD\s+0/);
    expect(text).toContain('planner estimate vs actual (finished training jobs)\nnone in this range');
    expect(JSON.parse((await cli('costs', '--from', from, '--team', 'beta', '--json')).stdout).totals).toMatchObject({ jobs: 0, gpuHours: 0 });
    expect((await fails('costs', '--from', 'last tuesday'))?.stderr).toMatch(/--from must be a date or time \(ISO 8601, e\.g\. 2025-01-01 or 2025-01-01T12:00Z\); got last tuesday/);
    expect((await fails('costs', '--team', 'gamma'))?.stderr).toMatch(/BAD_REQUEST: team: no team is called or has the id gamma/);
    const config = { numLayers: 4, hiddenSize: 128, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 384, vocabSize: 259, ropeTheta: 10_000, maxPositionEmbeddings: 512, tokenizer: 'byte' };
    const model = await internalApi(prefix).models.create({ name: 'cli-cost-model', config });
    expect((await cli('costs', 'model', 'cli-cost-model')).stdout).toBe('cli-cost-model: 0 jobs · 0.00 GPU-hours · —\nno GPU work in its lineage\n');
    expect(JSON.parse((await cli('costs', 'model', model.id, '--json')).stdout)).toMatchObject({ modelId: model.id, model: 'cli-cost-model', total: { jobs: 0 }, jobs: [] });
    expect((await fails('costs', 'model', 'ghost'))?.stderr).toMatch(/no model named or with the id ghost/);
  });
});
