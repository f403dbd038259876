import { createDb, repositories } from '@ctxlab/db';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testSettings } from '@ctxlab/testing/db';
import { clientAddress, parseTrustedProxies } from './client-address';
import { createUser, SIGN_IN_LIMITS, signIn } from './service';

describe('the per-address sign-in limit with forwarded headers', () => {
  const settings = testSettings();
  const redis = new Redis(settings.redisUrl);
  const db = createDb(settings.databaseUrl);
  const run = randomBytes(3).toString('hex');
  // Documentation addresses, one set per run, so no other test's counts mix in.
  const attacker = `198.51.100.${randomBytes(1)[0]! % 200}`;
  const proxy = '10.77.0.2';
  const emails = Array.from({ length: SIGN_IN_LIMITS.perAddress + 1 }, (_, i) => `victim${i}-${run}@xff.test`);
  const keys = () => redis.keys('ctxlab:auth:fail:address:*').then((k) => k.filter((x) => x.endsWith(attacker) || x.includes('203.0.113.')));

  beforeAll(async () => {
    await redis.del(...(await keys()), `ctxlab:auth:fail:address:${attacker}`);
    await createUser(repositories(db), { email: emails.at(-1)!, name: 'Victim', role: 'viewer', password: 'correct horse battery staple' });
  });
  afterAll(async () => {
    const k = await keys();
    if (k.length) await redis.del(...k);
    redis.disconnect();
  });

  const attempt = (email: string, password: string, ip: string) => signIn({ repos: repositories(db), redis }, { email, password, ip });

  it('an untrusted peer that changes X-Forwarded-For on every attempt stays locked after 20 failures', async () => {
    const trusted = parseTrustedProxies(proxy);
    // Each failure on a different account (the per-account limit never trips) and a new forged header.
    for (let i = 0; i < SIGN_IN_LIMITS.perAddress; i++) {
      const ip = clientAddress({ peer: attacker, forwardedFor: `203.0.113.${i}` }, trusted);
      await expect(attempt(emails[i]!, 'wrong password!!', ip)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    }
    const ip = clientAddress({ peer: attacker, forwardedFor: '203.0.113.250' }, trusted);
    await expect(attempt(emails.at(-1)!, 'correct horse battery staple', ip)).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    // Behind the trusted proxy, the address it forwarded is the one limited: another client still signs in.
    const other = clientAddress({ peer: proxy, forwardedFor: `${attacker}, 203.0.113.251` }, trusted);
    expect(other).toBe('203.0.113.251');
    expect((await attempt(emails.at(-1)!, 'correct horse battery staple', other)).user.email).toBe(emails.at(-1));
    const same = clientAddress({ peer: proxy, forwardedFor: `203.0.113.252, ${attacker}` }, trusted);
    await expect(attempt(emails.at(-1)!, 'correct horse battery staple', same)).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
  });
});
