import { checkOutboundUrl } from '@ctxlab/security';
import { startOpenAITestServer } from '@ctxlab/niah/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { median, prepareBenchEnv, repeated } from './harness';

/** The allow-list as the API (apiDeps) and the worker (env.ts) read it from the environment. */
const allowFrom = (env: Record<string, string | undefined>) => (env.CTXLAB_OUTBOUND_ALLOW ?? '').split(',').map((x) => x.trim()).filter(Boolean);

describe('prepareBenchEnv', () => {
  let server: Awaited<ReturnType<typeof startOpenAITestServer>>;
  beforeAll(async () => {
    server = await startOpenAITestServer({ model: 'instant' });
  });
  afterAll(() => server.close());

  it('lets the benchmarks reach their loopback model server, which a bare environment refuses', async () => {
    await expect(checkOutboundUrl(server.url, { allow: allowFrom({}) })).rejects.toThrow(/loopback/);
    const env: Record<string, string | undefined> = {};
    prepareBenchEnv(env);
    await expect(checkOutboundUrl(server.url, { allow: allowFrom(env) })).resolves.toMatchObject({ addresses: ['127.0.0.1'] });
  });

  it('keeps the entries an operator already allows, without duplicates', () => {
    const env: Record<string, string | undefined> = { CTXLAB_OUTBOUND_ALLOW: '10.0.0.0/8, 127.0.0.1' };
    prepareBenchEnv(env);
    expect(allowFrom(env)).toEqual(['10.0.0.0/8', '127.0.0.1', 'localhost']);
  });
});

describe('repeated', () => {
  it('warms up untimed, then times at least five runs and keeps what each returned', async () => {
    const seen: number[] = [];
    const r = await repeated((run) => {
      seen.push(run);
      return run * 10;
    }, { runs: 3, warmup: 2 });
    expect(seen).toEqual([-1, -2, 0, 1, 2, 3, 4]);
    expect(r.results).toEqual([0, 10, 20, 30, 40]);
    expect(r.samplesMs).toHaveLength(5);
    expect(r.minMs).toBeLessThanOrEqual(r.medianMs);
    expect(r.medianMs).toBeLessThanOrEqual(r.maxMs);
  });

  it('takes the middle value as the median', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(3);
    expect(median([])).toBeNaN();
  });
});
