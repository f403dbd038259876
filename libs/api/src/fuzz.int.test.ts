/**
 * Every procedure, over HTTP, as a viewer, a member and an admin, with inputs generated from its
 * own schema and hostile values spliced in (NUL bytes, 2^31, 1e12, NaN, huge arrays, deep nesting,
 * 1 MB strings, wrong types). A bad input is never a 500, the process stays up, and the health
 * endpoint answers within a second all along.
 */
import fc from 'fast-check';
import superjson from 'superjson';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { z } from 'zod';
import { seed } from '@ctxlab/testing/seed';
import { startApiServerProcess } from '@ctxlab/testing/api-server';
import { resetDb, testRepos, testSettings, testToken } from '@ctxlab/testing/db';
import { apiDeps, createCaller } from './index';
import { appRouter } from './root';
import { fuzzInputs, type InputPools } from './testing/fuzz-inputs';

type Proc = { _def: { type: 'query' | 'mutation'; inputs: z.ZodType[]; meta?: { role?: string; public?: boolean; machine?: string } } };
const procedures = (appRouter as unknown as { _def: { procedures: Record<string, Proc> } })._def.procedures;
const ROLES = ['viewer', 'member', 'admin'] as const;
const RANK = { viewer: 0, member: 1, admin: 2 } as const;
const prefix = `${process.env.CTXLAB_TEST_REDIS_PREFIX ?? 'test'}-fuzz-${process.pid}`;

/** Inputs per procedure and role allowed to call it; a refused role gets a few (it stops at the role check). */
const RUNS_ALLOWED = 16;
const RUNS_REFUSED = 2;
/** Procedures without input run the same code whatever is sent. */
const RUNS_NO_INPUT = 1;
/** Requests in flight at once: enough to race, few enough for a 2-core machine. */
const CONCURRENCY = 6;
/** The health poller's period and the answer time it must stay under. */
const HEALTH_EVERY_MS = 100;
const HEALTH_WITHIN_MS = 1000;

/** Polls health until told to stop, then posts every answer time and failure. */
const HEALTH_POLLER = `
const { parentPort, workerData } = require('node:worker_threads');
const health = [];
const failures = [];
let stop = false;
parentPort.once('message', () => (stop = true));
(async () => {
  while (!stop) {
    const t0 = performance.now();
    try {
      const r = await fetch(workerData.url, { signal: AbortSignal.timeout(30000) });
      if (r.status !== 200) failures.push('health answered ' + r.status);
      await r.arrayBuffer();
    } catch (e) {
      failures.push('health failed: ' + e.message);
    }
    health.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, workerData.every));
  }
  parentPort.postMessage({ health, failures });
})();
`;

/** What a tRPC client sends; values superjson refuses to walk (too deep, `__proto__` keys) go as plain JSON, as a hand-written client would send them. */
function encode(input: unknown): string {
  try {
    return JSON.stringify(superjson.serialize(input));
  } catch {
    try {
      return JSON.stringify({ json: input });
    } catch {
      return JSON.stringify({ json: input }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    }
  }
}

interface Outcome {
  path: string;
  role: string;
  status: number;
  message: string;
  input: string;
  ms: number;
}

describe('fuzzing every procedure over HTTP', () => {
  let server: Awaited<ReturnType<typeof startApiServerProcess>>;
  const tokens: Record<(typeof ROLES)[number], string> = {} as never;
  let pools: InputPools;

  beforeAll(async () => {
    await resetDb();
    const repos = testRepos();
    await seed(repos.db);
    for (const role of ROLES) tokens[role] = (await testToken(role)).token;
    // A run with a job and cells, so run and cell reads get past "not found".
    const api = createCaller({ ...apiDeps({ ...testSettings(), queuePrefix: prefix }), actor: null, source: 'internal' });
    const model = (await api.models.list({ limit: 1 })).items[0]!;
    const ep = await api.endpoints.create({ name: 'fuzz-endpoint', url: 'http://127.0.0.1:9/v1', servedModelName: 'm', modelId: model.id, maxModelLen: 8192 });
    const started = await api.evals.start({
      name: 'fuzz-run', endpointId: ep.id, spec: { variant: 'value', tokenizer: 'byte', grid: { lengths: { kind: 'list', values: [1000, 2000] }, depths: { kind: 'list', values: [0, 0.5] } } },
    });
    // An imported corpus; it also loads the tokenizers once (a cold start, not something an input causes).
    await api.datasets.importCorpus({ name: 'fuzz-corpus', source: 'fuzz', documents: [{ name: 'a.txt', text: 'The quick brown fox. '.repeat(200) }] });
    await repos.db.evalCell.create({ data: { evalRunId: started.evalRun.id, contextLength: 1000, depth: 0, sample: 0, needle: 'n', expected: 'e', response: 'r', score: 100 } });
    const ids = [
      ...(await repos.db.model.findMany({ select: { id: true }, take: 5 })),
      ...(await repos.db.recipe.findMany({ select: { id: true }, take: 3 })),
      ...(await repos.db.dataset.findMany({ select: { id: true }, take: 3 })),
      ...(await repos.db.adapter.findMany({ select: { id: true }, take: 3 })),
      { id: ep.id }, { id: started.evalRun.id }, { id: started.job.id },
    ].map((r) => r.id);
    pools = { ids, urls: ['http://127.0.0.1:9/v1', 'http://localhost:9', 'https://127.0.0.1:9/', 'http://169.254.169.254/latest/', 'file:///etc/passwd'] };
    // Large headers so that query procedures (inputs in the URL) get the same hostile payloads as mutations.
    // The server runs in a process of its own, as the portal does: what is measured is its answer time,
    // not this process generating and encoding 1 MB inputs. It loads tokenizers and corpora before listening.
    server = await startApiServerProcess({ queuePrefix: prefix, maxHeaderSize: 64 << 20 });
  });

  afterAll(async () => {
    await server?.close();
    // Jobs the mutations queued (no worker serves this prefix): nothing is left behind in Redis.
    const redis = new Redis(testSettings().redisUrl);
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  });

  async function send(path: string, role: string | null, input: unknown): Promise<{ status: number; message: string }> {
    const type = procedures[path]!._def.type;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (role) headers.authorization = `Bearer ${tokens[role as (typeof ROLES)[number]]}`;
    const body = encode(input);
    const res =
      type === 'query'
        ? await fetch(`${server.url}/api/trpc/${path}?input=${encodeURIComponent(body)}`, { headers })
        : await fetch(`${server.url}/api/trpc/${path}`, { method: 'POST', headers, body });
    const text = await res.text();
    let message = '';
    try {
      message = (JSON.parse(text) as { error?: { json?: { message?: string } } }).error?.json?.message ?? '';
    } catch {
      message = text.slice(0, 200);
    }
    return { status: res.status, message };
  }

  it('answers no request with a 500, stays up, and health answers within a second throughout', async () => {
    const work: { path: string; role: (typeof ROLES)[number]; input: unknown }[] = [];
    let seedNo = 1;
    for (const [path, p] of Object.entries(procedures)) {
      const schema = p._def.inputs[0];
      for (const role of ROLES) {
        const need = p._def.meta?.public ? 'viewer' : ((p._def.meta?.role ?? 'viewer') as keyof typeof RANK);
        const runs = !schema ? RUNS_NO_INPUT : RANK[role] >= RANK[need] ? RUNS_ALLOWED : RUNS_REFUSED;
        const inputs = schema ? fc.sample(fuzzInputs(schema, pools), { numRuns: runs, seed: seedNo++ }) : Array.from({ length: runs }, () => undefined);
        for (const input of inputs) work.push({ path, role, input });
      }
    }
    // Interleaved, so that slow procedures overlap with everything else rather than with themselves.
    const shuffled = fc.sample(fc.shuffledSubarray(work, { minLength: work.length, maxLength: work.length }), { numRuns: 1, seed: 42 })[0]!;

    const outcomes: Outcome[] = [];
    // The poller runs on a thread of its own: this thread's work (generating and encoding inputs)
    // must not delay the health answers it times.
    const poller = new Worker(HEALTH_POLLER, { eval: true, workerData: { url: `${server.url}/api/trpc/health`, every: HEALTH_EVERY_MS } });
    const polled = new Promise<{ health: number[]; failures: string[] }>((res, rej) => {
      poller.once('message', res);
      poller.once('error', rej);
    });

    const t0 = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < shuffled.length) {
          const w = shuffled[next++]!;
          let r: { status: number; message: string };
          const s0 = performance.now();
          try {
            r = await send(w.path, w.role, w.input);
          } catch (e) {
            r = { status: 0, message: `no answer: ${(e as Error).message} ${String((e as { cause?: unknown }).cause ?? '')}` };
          }
          let shown: string;
          try {
            shown = JSON.stringify(w.input) ?? 'undefined';
          } catch {
            shown = String(w.input);
          }
          outcomes.push({ path: w.path, role: w.role, status: r.status, message: r.message, input: shown.slice(0, 300), ms: performance.now() - s0 });
        }
      }),
    );
    poller.postMessage('stop');
    const { health, failures: healthFailures } = await polled;
    await poller.terminate();
    const seconds = (Date.now() - t0) / 1000;

    const byStatus = new Map<number, number>();
    for (const o of outcomes) byStatus.set(o.status, (byStatus.get(o.status) ?? 0) + 1);
    const slowest = Math.max(...health);
    const total = outcomes.length + health.length;
    console.log(
      `fuzz: ${total} requests (${outcomes.length} to ${Object.keys(procedures).length} procedures as viewer, member and admin, ${health.length} health polls) in ${seconds.toFixed(1)} s; ` +
        `statuses ${[...byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ')}; slowest health ${slowest.toFixed(0)} ms`,
    );
    if (slowest > HEALTH_WITHIN_MS) {
      // What ran longest, to find what held the process.
      console.log(outcomes.sort((a, b) => b.ms - a.ms).slice(0, 10).map((o) => `${o.ms.toFixed(0)} ms ${o.path} ${o.status} ${o.input.slice(0, 120)}`).join('\n'));
    }
    expect(server.exited()).toBeNull();
    const errors = outcomes.filter((o) => o.status === 500 || o.status === 0);
    expect(errors.map((o) => `${o.path} as ${o.role}: ${o.status} ${o.message} ← ${o.input}`)).toEqual([]);
    expect(healthFailures).toEqual([]);
    expect(health.filter((ms) => ms > HEALTH_WITHIN_MS).map((ms) => `${ms.toFixed(0)} ms`)).toEqual([]);
  }, 300_000);
});
