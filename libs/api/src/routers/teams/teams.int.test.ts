import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetDb, testRepos, testSettings, testToken } from '@ctxlab/testing/db';
import { apiDeps } from '../../deps';
import { createCaller } from '../../index';
import type { Actor } from '../../trpc';

const prefix = `teams-${process.pid}`;
const repos = testRepos();
const deps = () => apiDeps({ ...testSettings(), queuePrefix: prefix });
const as = (actor: Actor | null) => createCaller({ ...deps(), actor, source: actor ? 'http' : 'internal' });
const fail = (p: Promise<unknown>) => p.then(() => null, (e: { code?: string; message: string }) => ({ code: e.code, message: e.message }));

/** Teams on top of roles: who may charge a job to a team, manage its members and change a job's priority. */
describe('teams, their roles and what they allow', () => {
  const people: Record<'alice' | 'bob' | 'carol', Actor> = {} as never;
  let baseId: string;
  const system = as(null);

  beforeAll(async () => {
    await resetDb();
    for (const [name, role] of [['alice', 'member'], ['bob', 'member'], ['carol', 'viewer']] as const) {
      const t = await testToken(role);
      people[name] = { id: t.userId, name, role, via: 'token' };
    }
    await system.teams.create({ name: 'vision', weight: 2 });
    await system.teams.create({ name: 'nlp' });
    await system.teams.setMember({ team: 'vision', userId: people.alice.id, role: 'admin' });
    await system.teams.setMember({ team: 'vision', userId: people.bob.id, role: 'member' });
    await system.teams.setMember({ team: 'nlp', userId: people.bob.id, role: 'member' });
    const config = { numLayers: 4, hiddenSize: 128, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 384, vocabSize: 259, ropeTheta: 10_000, maxPositionEmbeddings: 512, tokenizer: 'byte' };
    baseId = (await system.models.create({ name: 'teams-base', config })).id;
    // The local executor reports its pools (none right now), so GPU jobs on it wait for the scheduler.
    await repos.scheduling.reportPools('local', [], 'test');
  });
  afterAll(() => repos.scheduling.forgetPools('local'));

  const gpuJob = (who: Actor, name: string, extra: { team?: string; priority?: 'high' | 'normal' | 'low' } = {}) =>
    as(who).gpu.start({
      spec: { kind: 'lora-extract', finetuned: 'file:///m/ft', base: 'file:///m/base', output: `file:///m/${name}`, maxRank: 8, cuda: true, gpuType: 'a100-80gb' },
      output: { kind: 'adapter', name, baseModelId: baseId, rank: 8, targetModules: ['q_proj'] },
      ...extra,
    });

  it('charges a job to the team named, to the only team, and asks someone in several which', async () => {
    expect((await gpuJob(people.alice, 'a1')).job.teamId).toBe((await repos.teams.resolve('vision')).id);
    expect(await fail(gpuJob(people.bob, 'b1'))).toEqual({ code: 'BAD_REQUEST', message: 'team: you are in teams vision, nlp: say which one the job is charged to' });
    expect((await gpuJob(people.bob, 'b2', { team: 'nlp' })).job.teamId).toBe((await repos.teams.resolve('nlp')).id);
    expect(await fail(gpuJob(people.alice, 'a2', { team: 'nlp' }))).toEqual({ code: 'FORBIDDEN', message: 'you are not in team nlp: only its members and admins start jobs charged to it' });
    expect(await fail(gpuJob(people.bob, 'b3', { team: 'robotics' }))).toEqual({ code: 'BAD_REQUEST', message: 'team: no team is called or has the id robotics' });
    expect((await as(people.bob).teams.mine()).map((m) => [m.team.name, m.role])).toEqual([['vision', 'member'], ['nlp', 'member']]);
  });

  it("lets a team's admins manage its members, and nobody else below a ctxlab admin", async () => {
    await as(people.alice).teams.setMember({ team: 'vision', userId: people.carol.id, role: 'viewer' });
    expect(await fail(as(people.bob).teams.setMember({ team: 'vision', userId: people.carol.id, role: 'admin' }))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await fail(as(people.alice).teams.setMember({ team: 'nlp', userId: people.carol.id }))).toMatchObject({ code: 'FORBIDDEN', message: "managing team nlp's members takes an admin of the team or of ctxlab" });
    // A viewer of the team cannot charge jobs to it (nor can a ctxlab viewer start any).
    expect(await fail(gpuJob({ ...people.carol, role: 'member' }, 'c1', { team: 'vision' }))).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('you are a viewer of team vision') });
    expect(await fail(as(people.alice).teams.setMember({ team: 'vision', userId: 'nobody' }))).toMatchObject({ code: 'BAD_REQUEST', message: 'user nobody does not exist' });
    await as(people.alice).teams.removeMember({ team: 'vision', userId: people.carol.id });
    expect((await system.teams.get({ id: 'vision' })).members.map((m) => m.user.name).sort()).toEqual(['alice', 'bob'].map((n) => `${people[n as 'alice'].role} tester`).sort());
  });

  it('lets the requester lower a waiting job, and only team admins raise one to high', async () => {
    const { job } = await gpuJob(people.bob, 'p1', { team: 'vision' });
    expect(job.admittedAt).toBeNull();
    expect(await fail(as(people.bob).scheduler.setPriority({ jobId: job.id, priority: 'high' }))).toMatchObject({ code: 'FORBIDDEN', message: 'raising a job to high priority takes an admin of its team' });
    await as(people.bob).scheduler.setPriority({ jobId: job.id, priority: 'low' });
    await as(people.alice).scheduler.setPriority({ jobId: job.id, priority: 'high' });
    expect((await repos.jobs.get(job.id)).priority).toBe('high');
    expect((await repos.jobs.events(job.id)).filter((e) => e.type === 'priority').map((e) => e.message)).toEqual(['priority normal → low (by bob)', 'priority low → high (by alice)']);
    // Without a pool for it, the job waits and says why.
    const q = await system.scheduler.queue();
    expect(q.waiting.find((w) => w.id === job.id)).toMatchObject({ team: 'vision', priority: 'high', gpus: 1, gpuType: 'a100-80gb' });
  });

  it('checks quota and price input, naming the field', async () => {
    expect(await fail(system.scheduler.setQuota({ team: 'vision', gpuType: 'a100-80gb' }))).toMatchObject({ code: 'BAD_REQUEST', message: 'gpuHours: a quota limits GPU-hours, GPUs at once, or both: give gpuHours or maxGpus' });
    expect(await fail(system.scheduler.setPrice({ gpuType: 'A100 80GB', pricePerHour: 2 }))).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('gpuType: a device type') });
    expect(await fail(system.scheduler.setPrice({ gpuType: 'a100-80gb', pricePerHour: 2, currency: 'dollars' }))).toMatchObject({ code: 'BAD_REQUEST', message: 'currency: an ISO 4217 currency code, e.g. USD or EUR' });
    expect(await fail(system.costs.report({ from: new Date('2026-12-02'), to: new Date('2026-12-01') }))).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/^from \(.*\) must be before to/) });
  });

  it("prices a merged model over its lineage: its training, its adapter's extraction and the merge", async () => {
    await system.scheduler.setPrice({ gpuType: 'a100-80gb', pricePerHour: 2, currency: 'USD' });
    await system.scheduler.setPrice({ gpuType: 'cpu', pricePerHour: 0.1, currency: 'USD' });
    const vision = (await repos.teams.resolve('vision')).id;
    const at = (h: number) => new Date(Date.UTC(2026, 11, 1) + h * 3_600_000);
    const ran = async (kind: 'train' | 'lora-extract' | 'lora-merge', gpus: number, hours: number, spec: object = {}) => {
      const { job } = await repos.jobs.create({ kind, spec, gpu: { teamId: vision, priority: 'normal', gpuType: gpus ? 'a100-80gb' : 'cpu', gpus, admitted: true, estimate: kind === 'train' ? { gpuHours: 8, mfu: 0.4 } : undefined } });
      await repos.db.job.update({ where: { id: job.id }, data: { status: 'succeeded', gpuStartedAt: at(0), gpuEndedAt: at(hours) } });
      return job.id;
    };
    const sibling = (await system.models.create({ name: 'teams-sibling', config: { numLayers: 4, hiddenSize: 128, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 384, vocabSize: 259, ropeTheta: 10_000, maxPositionEmbeddings: 512, tokenizer: 'byte' } })).id;
    const long = (await system.models.create({ name: 'teams-long', origin: 'derived', config: { numLayers: 4, hiddenSize: 128, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 384, vocabSize: 259, ropeTheta: 500_000, maxPositionEmbeddings: 4096, tokenizer: 'byte' } })).id;
    const train = await ran('train', 4, 2);
    await repos.models.addLineage({ parentId: baseId, childId: long, kind: 'context-extension', jobId: train });
    const extract = await ran('lora-extract', 1, 1);
    const adapter = await repos.adapters.create({ name: 'teams-lora', baseModelId: baseId, sourceModelId: long, rank: 8, alpha: 8, targetModules: ['q_proj'], dtype: 'bf16', tags: [], jobId: extract });
    const merge = await ran('lora-merge', 0, 0.5, { output: { kind: 'model', adapterId: adapter.id } });
    const merged = (await system.models.create({ name: 'teams-merged', origin: 'derived', config: { numLayers: 4, hiddenSize: 128, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 384, vocabSize: 259, ropeTheta: 500_000, maxPositionEmbeddings: 4096, tokenizer: 'byte' } })).id;
    await repos.models.addLineage({ parentId: sibling, childId: merged, kind: 'lora-merge', jobId: merge });
    await repos.models.addLineage({ parentId: long, childId: merged, kind: 'lora-merge', jobId: merge });
    const cost = await system.costs.model({ modelId: merged });
    // 4 GPUs × 2 h × 2 USD + 1 × 1 h × 2 USD + one cpu device × 0.5 h × 0.1 USD.
    expect(cost.jobs.map((j) => j.jobId).sort()).toEqual([train, extract, merge].sort());
    expect(cost.total.gpuHours).toBeCloseTo(9.5, 9);
    expect(cost.total.cost.USD).toBeCloseTo(16 + 2 + 0.05, 9);
    expect((await system.costs.model({ modelId: long })).total.cost.USD).toBeCloseTo(16, 9);
    // The month's accounts: per team and device, and the training job's estimate beside its actual (8 GPU-hours planned, 8 taken).
    const report = await system.costs.report({ from: at(0), to: at(24), team: 'vision' });
    expect(report.byDevice.map((d) => [d.key, d.gpuHours])).toEqual([['a100-80gb', 9], ['cpu', 0.5]]);
    expect(report.estimates).toEqual([expect.objectContaining({ jobId: train, estimateGpuHours: 8, gpuHours: 8, ratio: 1, impliedMfu: 0.4 })]);
  });
});
