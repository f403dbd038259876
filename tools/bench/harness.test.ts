import { checkOutboundUrl } from '@ctxlab/security';
import { startOpenAITestServer } from '@ctxlab/niah/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareBenchEnv } from './harness';

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
