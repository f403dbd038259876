import { createDb, repositories } from '@ctxlab/db';
import { Redis } from 'ioredis';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetDb, testSettings, testToken } from '@ctxlab/testing/db';
import { startWorker, stopWorker } from '@ctxlab/testing/worker';
import { apiDeps, createCaller, handleTrpcRequest } from '../index';
import { appRouter } from '../root';
import type { Actor } from '../trpc';
import { createUser, resolveSession, signIn, signOut, SIGN_IN_LIMITS } from './service';

/**
 * Who may call what. Written out by hand — the readable matrix — and checked against the
 * procedures themselves: a procedure added without a line here fails the test.
 */
const MATRIX: Record<string, 'public' | 'viewer' | 'member' | 'admin' | 'infra'> = {
  health: 'public', 'auth.me': 'public', workerHealth: 'viewer', 'infra.capacity': 'infra',
  'models.list': 'viewer', 'models.get': 'viewer', 'models.lineage': 'viewer', 'models.scorecard': 'viewer', 'models.create': 'member', 'models.update': 'member', 'models.addLineage': 'member', 'models.archive': 'admin', 'models.import': 'member', 'models.card': 'viewer',
  'adapters.list': 'viewer', 'adapters.get': 'viewer', 'adapters.create': 'member', 'adapters.update': 'member', 'adapters.archive': 'admin', 'adapters.card': 'viewer', 'adapters.download': 'viewer',
  'recipes.list': 'viewer', 'recipes.get': 'viewer', 'recipes.versions': 'viewer', 'recipes.create': 'member', 'recipes.update': 'member', 'recipes.archive': 'admin',
  'recipes.run': 'member', 'recipes.runs': 'viewer', 'recipes.runGet': 'viewer', 'recipes.runEvents': 'viewer', 'recipes.runCancel': 'member', 'recipes.runResume': 'member',
  'datasets.list': 'viewer', 'datasets.get': 'viewer', 'datasets.create': 'member', 'datasets.update': 'member', 'datasets.importCorpus': 'member', 'datasets.importBenchmark': 'member', 'datasets.prepare': 'member', 'datasets.lineage': 'viewer', 'datasets.download': 'viewer', 'datasets.archive': 'admin',
  'endpoints.list': 'viewer', 'endpoints.get': 'viewer', 'endpoints.create': 'admin', 'endpoints.update': 'admin', 'endpoints.archive': 'admin',
  'evals.list': 'viewer', 'evals.get': 'viewer', 'evals.heatmap': 'viewer', 'evals.cells': 'viewer', 'evals.exportTo': 'member', 'evals.events': 'viewer', 'evals.suiteResults': 'viewer', 'evals.benchmarkResults': 'viewer', 'evals.create': 'member', 'evals.update': 'member', 'evals.start': 'member', 'evals.startSuite': 'member', 'evals.suiteEstimate': 'viewer', 'evals.startCheck': 'member', 'evals.archive': 'admin',
  'jobs.list': 'viewer', 'jobs.get': 'viewer', 'jobs.events': 'viewer', 'jobs.cancel': 'member', 'jobs.retry': 'member',
  'planner.gpus': 'viewer', 'planner.theta': 'viewer', 'planner.memory': 'viewer', 'planner.serving': 'viewer', 'planner.adapter': 'viewer', 'planner.recipe': 'viewer',
  'dispatch.render': 'viewer', 'dispatch.renderStage': 'viewer',
  'gpu.start': 'member', 'gpu.serveModel': 'member', 'gpu.extractAdapter': 'member', 'gpu.mergeAdapter': 'member',
  // Membership changes are open to a team's own admins too: the procedure checks the team role.
  'teams.list': 'viewer', 'teams.get': 'viewer', 'teams.mine': 'viewer', 'teams.create': 'admin', 'teams.update': 'admin', 'teams.setMember': 'viewer', 'teams.removeMember': 'viewer',
  'scheduler.queue': 'viewer', 'scheduler.setPriority': 'member', 'scheduler.overrideQuota': 'admin', 'scheduler.setQuota': 'admin', 'scheduler.removeQuota': 'admin',
  'scheduler.prices': 'viewer', 'scheduler.setPrice': 'admin', 'scheduler.removePrice': 'admin',
  'costs.report': 'viewer', 'costs.model': 'viewer',
  'portal.dashboard': 'viewer', 'portal.modelFacets': 'viewer', 'portal.evalRuns': 'viewer', 'portal.evalEstimate': 'viewer', 'portal.evalResult': 'viewer', 'portal.evalResultDetails': 'viewer', 'portal.evalCell': 'viewer',
  'portal.compare': 'viewer', 'portal.jobsBoard': 'viewer', 'portal.job': 'viewer', 'portal.endpointHealth': 'member',
  'auth.changePassword': 'viewer', 'tokens.list': 'viewer', 'tokens.create': 'viewer', 'tokens.revoke': 'viewer',
  'users.list': 'admin', 'users.create': 'admin', 'users.update': 'admin', 'users.resetPassword': 'admin',
  'audit.list': 'admin', 'allowedHosts.list': 'admin', 'allowedHosts.add': 'admin', 'allowedHosts.remove': 'admin',
};

type Proc = { _def: { type: 'query' | 'mutation'; meta?: { role?: string; public?: boolean; machine?: string } } };
const procedures = (appRouter as unknown as { _def: { procedures: Record<string, Proc> } })._def.procedures;
const RANK = { viewer: 0, member: 1, admin: 2 } as const;
const prefix = `access-${process.pid}`;
const INFRA = 'infra-token-for-access-tests';
const deps = () => apiDeps({ ...testSettings(), queuePrefix: prefix, infraToken: INFRA });

function call(caller: unknown, path: string, input: unknown): Promise<unknown> {
  const fn = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], caller) as (i: unknown) => Promise<unknown>;
  return fn(input);
}

const http = (path: string, opts: { token?: string; cookie?: string; input?: unknown } = {}) => {
  const type = procedures[path]!._def.type;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.cookie) headers.cookie = opts.cookie;
  const input = encodeURIComponent(JSON.stringify({ json: opts.input ?? null }));
  const req = type === 'query'
    ? new Request(`http://localhost/api/trpc/${path}?input=${input}`, { headers })
    : new Request(`http://localhost/api/trpc/${path}`, { method: 'POST', headers, body: JSON.stringify({ json: opts.input ?? null }) });
  return handleTrpcRequest(req, deps());
};
const codeOf = async (r: Response) => ((await r.json()) as { error?: { json?: { data?: { code?: string }; message?: string } } }).error?.json;

describe('access control', () => {
  let worker: ChildProcess;
  const actors: Record<'viewer' | 'member' | 'admin', Actor> = {} as never;
  beforeAll(async () => {
    await resetDb();
    const db = createDb(testSettings().databaseUrl);
    await db.$executeRawUnsafe('TRUNCATE "User", "Session", "ApiToken" CASCADE');
    for (const role of ['viewer', 'member', 'admin'] as const) {
      const u = await createUser(repositories(db), { email: `${role}@access.test`, name: `${role} person`, role, password: 'correct horse battery staple' });
      actors[role] = { id: u.id, name: u.name, role, via: 'session' };
    }
    worker = startWorker(prefix);
  });
  afterAll(async () => {
    await stopWorker(worker);
  });

  it('every procedure has a line in the matrix, and the matrix is what the procedures declare', () => {
    const declared = Object.fromEntries(Object.entries(procedures).map(([k, p]) => [k, p._def.meta?.public ? 'public' : (p._def.meta?.machine ?? p._def.meta?.role ?? 'none')]));
    expect(declared).toEqual(MATRIX);
  });

  it('calls every procedure as each role: allowed exactly where the matrix says, FORBIDDEN elsewhere', async () => {
    const outcomes: string[] = [];
    for (const [path, need] of Object.entries(MATRIX)) {
      if (need === 'public' || need === 'infra') continue;
      for (const role of ['viewer', 'member', 'admin'] as const) {
        const caller = createCaller({ ...deps(), actor: actors[role], source: 'http' });
        // 12345 is no procedure's input: allowed calls stop at validation (BAD_REQUEST) or, for
        // procedures without input, run harmlessly (reads; the worker answers workerHealth).
        const err = (await call(caller, path, 12345).then(() => null, (e: { code?: string }) => e)) as { code?: string } | null;
        const allowed = RANK[role] >= RANK[need];
        const got = err?.code === 'FORBIDDEN' ? 'forbidden' : err?.code === 'UNAUTHORIZED' ? 'unauthorized' : 'allowed';
        if (got !== (allowed ? 'allowed' : 'forbidden')) outcomes.push(`${path} as ${role}: ${got} (${err?.code ?? 'ok'})`);
      }
    }
    expect(outcomes).toEqual([]);
  }, 120_000);

  it('over HTTP without credentials every procedure but the public ones answers 401 UNAUTHORIZED', async () => {
    const wrong: string[] = [];
    for (const path of Object.keys(MATRIX)) {
      const r = await http(path, { input: 12345 });
      const expected = MATRIX[path] === 'public' ? 200 : 401;
      if (r.status !== expected) wrong.push(`${path}: ${r.status}`);
    }
    expect(wrong).toEqual([]);
    const body = await codeOf(await http('models.list'));
    expect(body?.message).toBe('sign in, or send an API token as Authorization: Bearer <token>');
    expect(await (await http('auth.me')).json()).toMatchObject({ result: { data: { json: null } } });
  }, 60_000);

  it('API tokens: work over HTTP with their role, are capped by the user\'s role, and stop on the next call once revoked', async () => {
    const member = await testToken('member');
    expect((await http('models.list', { token: member.token, input: {} })).status).toBe(200);
    const created = await http('models.create', { token: member.token, input: { name: 'token-made', config: { numLayers: 4, hiddenSize: 128, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 384, vocabSize: 259, ropeTheta: 10_000, maxPositionEmbeddings: 512, tokenizer: 'byte' } } });
    expect(created.status).toBe(200);
    expect((await http('models.archive', { token: member.token, input: { id: 'x' } })).status).toBe(403);
    const me = (await (await http('auth.me', { token: member.token })).json()) as { result: { data: { json: { role: string; via: string } } } };
    expect(me.result.data.json).toMatchObject({ role: 'member', via: 'token' });

    // Demoting the person demotes their tokens.
    const admin = createCaller({ ...deps(), actor: actors.admin, source: 'http' });
    await admin.users.update({ id: member.userId, role: 'viewer' });
    expect((await http('models.create', { token: member.token, input: { name: 'x' } })).status).toBe(403);
    await admin.users.update({ id: member.userId, role: 'member' });

    await admin.tokens.revoke({ id: member.tokenId });
    const after = await http('models.list', { token: member.token, input: {} });
    expect(after.status).toBe(401);
    expect((await codeOf(after))?.message).toBe('the API token is not valid: unknown, revoked or expired');
    expect((await http('models.list', { token: 'ctx_tok_made-up', input: {} })).status).toBe(401);

    // The last use is recorded; the secret never is.
    const db = createDb(testSettings().databaseUrl);
    const row = await db.apiToken.findUniqueOrThrow({ where: { id: member.tokenId } });
    expect(row.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(row)).not.toContain(member.token);
  });

  it('a token cannot outrank its user, and a viewer token cannot mint more tokens', async () => {
    const viewer = createCaller({ ...deps(), actor: actors.viewer, source: 'http' });
    await expect(viewer.tokens.create({ name: 'sneaky', role: 'admin' })).rejects.toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/cannot have more rights than its user/) });
    const t = await viewer.tokens.create({ name: 'ok' });
    expect(t.token).toMatch(/^ctx_tok_/);
    expect(t.record.role).toBe('viewer');
    const viaToken = createCaller({ ...deps(), actor: { ...actors.viewer, via: 'token' }, source: 'http' });
    await expect(viaToken.tokens.create({ name: 'again' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('sessions: sign in, resolve, sign out; repeated failures are rate limited per account', async () => {
    const settings = testSettings();
    const redis = new Redis(settings.redisUrl);
    const db = createDb(settings.databaseUrl);
    try {
      await redis.del('ctxlab:auth:fail:account:member@access.test', 'ctxlab:auth:fail:address:10.9.8.7', 'ctxlab:auth:fail:address:10.9.8.8');
      const ok = await signIn({ repos: repositories(db), redis }, { email: 'Member@Access.Test ', password: 'correct horse battery staple', ip: '10.9.8.7' });
      expect(ok.secret).toMatch(/^ctx_sess_/);
      expect(await resolveSession(repositories(db), ok.secret)).toMatchObject({ role: 'member', via: 'session' });
      const cookie = `ctxlab_session=${encodeURIComponent(ok.secret)}`;
      expect((await http('models.list', { cookie, input: {} })).status).toBe(200);
      await signOut(repositories(db), ok.secret);
      expect(await resolveSession(repositories(db), ok.secret)).toBeNull();
      const ended = await http('models.list', { cookie, input: {} });
      expect(ended.status).toBe(401);
      expect((await codeOf(ended))?.message).toBe('the session has ended: sign in again');

      for (let i = 0; i < SIGN_IN_LIMITS.perAccount; i++) {
        await expect(signIn({ repos: repositories(db), redis }, { email: 'member@access.test', password: 'wrong password!!', ip: '10.9.8.7' })).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: 'wrong email or password' });
      }
      // Now even the right password is refused for a while, from any address.
      await expect(signIn({ repos: repositories(db), redis }, { email: 'member@access.test', password: 'correct horse battery staple', ip: '10.9.8.8' })).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS', message: expect.stringMatching(/too many failed sign-ins; try again in \d+ minute/) });
      // Other accounts are not locked out by it.
      expect((await signIn({ repos: repositories(db), redis }, { email: 'viewer@access.test', password: 'correct horse battery staple', ip: '10.9.8.8' })).user.role).toBe('viewer');
      // An unknown account gets the same answer as a wrong password.
      await expect(signIn({ repos: repositories(db), redis }, { email: 'nobody@access.test', password: 'whatever whatever', ip: '10.9.8.8' })).rejects.toMatchObject({ message: 'wrong email or password' });
    } finally {
      await redis.del('ctxlab:auth:fail:account:member@access.test');
      redis.disconnect();
    }
  });

  it('a disabled user is signed out everywhere and their tokens stop', async () => {
    const t = await testToken('member');
    const admin = createCaller({ ...deps(), actor: actors.admin, source: 'http' });
    await admin.users.update({ id: t.userId, disabled: true });
    expect((await http('models.list', { token: t.token, input: {} })).status).toBe(401);
    await expect(admin.users.update({ id: actors.admin.id, disabled: true })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringMatching(/last admin/) });
  });

  it('the audit log names who did what, and is for admins only', async () => {
    const t = await testToken('member');
    await http('models.create', { token: t.token, input: { name: 'audited-model', config: { numLayers: 4, hiddenSize: 128, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 384, vocabSize: 259, ropeTheta: 10_000, maxPositionEmbeddings: 512, tokenizer: 'byte' } } });
    const admin = createCaller({ ...deps(), actor: actors.admin, source: 'http' });
    const log = await admin.audit.list({ action: 'models.create' });
    const e = log.items.find((x) => (x.detail as { name?: string } | null)?.name === 'audited-model');
    expect(e).toMatchObject({ actorId: t.userId, via: 'token', action: 'models.create', entity: 'models' });
    expect(e?.actorName).toMatch(/member tester \(token member test token\)/);
    expect(e?.entityId).toBeTruthy();
    const member = createCaller({ ...deps(), actor: actors.member, source: 'http' });
    await expect(member.audit.list({})).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('endpoint URLs: internal addresses are refused unless an admin allow-lists the host; API keys are stored encrypted and never returned', async () => {
    const strict = apiDeps({ ...testSettings(), queuePrefix: prefix, outboundAllow: '' });
    const admin = createCaller({ ...strict, actor: actors.admin, source: 'http' });
    const refuse = (url: string) => admin.endpoints.create({ name: `ep-${Math.random().toString(36).slice(2, 7)}`, url, servedModelName: 'm' }).then(() => null, (e: { code: string; message: string }) => e);
    expect(await refuse('http://169.254.169.254/latest/meta-data/')).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/^url: .*169\.254\.169\.254.*metadata/i) });
    expect((await refuse('http://10.1.2.3:8000'))?.message).toMatch(/private/i);
    expect((await refuse('http://127.0.0.1:8000'))?.message).toMatch(/loopback/i);
    expect((await refuse('http://localhost:8000'))?.message).toMatch(/localhost/i);
    expect((await refuse('file:///etc/passwd'))?.message).toMatch(/http or https|only http and https/);

    // Entries the guard could not apply are refused by name, and a bad row already stored is ignored.
    for (const host of ['*.com', 'a..b', 'lab-box/8']) {
      expect(await admin.allowedHosts.add({ host }).then(() => null, (e: { code: string; message: string }) => e)).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining(host) });
    }
    await createDb(testSettings().databaseUrl).allowedHost.create({ data: { host: '*.com', createdBy: 'an older release' } });
    expect((await refuse('http://10.1.2.3:8000'))?.message).toMatch(/private/i);
    await admin.allowedHosts.remove({ host: '*.com' });

    await admin.allowedHosts.add({ host: '127.0.0.1', note: 'the lab model server' });
    const ep = await admin.endpoints.create({ name: 'local-allowed', url: 'http://127.0.0.1:8765/v1', servedModelName: 'm', apiKey: 'sk-secret-value-1234' });
    expect(ep).toMatchObject({ name: 'local-allowed', hasApiKey: true });
    expect(JSON.stringify(ep)).not.toContain('sk-secret');
    expect(JSON.stringify(await admin.endpoints.get({ id: ep.id }))).not.toMatch(/sk-secret|apiKeyEncrypted/);
    expect(JSON.stringify(await admin.endpoints.list({}))).not.toMatch(/sk-secret|apiKeyEncrypted/);
    const stored = await createDb(testSettings().databaseUrl).endpoint.findUniqueOrThrow({ where: { id: ep.id } });
    expect(stored.apiKeyEncrypted).toMatch(/^v1:/);
    expect(stored.apiKeyEncrypted).not.toContain('sk-secret');
    // The audit log keeps that an endpoint was made, not its key.
    expect(JSON.stringify((await admin.audit.list({ action: 'endpoints.create' })).items)).not.toContain('sk-secret');
    await admin.allowedHosts.remove({ host: '127.0.0.1' });
    expect(await refuse('http://127.0.0.1:8765/v1')).toMatchObject({ code: 'BAD_REQUEST' });
  });
});
