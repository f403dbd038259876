import { describe, expect, it } from 'vitest';
import { PASSWORD_HASH_DEFAULTS, hashPassword, needsRehash, passwordProblem, verifyPassword } from './passwords';

/** Cheap costs for tests that are about format and flow rather than strength. */
const fast = { N: 2 ** 10, r: 8, p: 1 };

describe('hashPassword / verifyPassword', () => {
  it('hashes with the default costs in the self-describing format and verifies', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    await expect(verifyPassword('correct horse battery staple', stored)).resolves.toBe(true);
    await expect(verifyPassword('correct horse battery stapler', stored)).resolves.toBe(false);
  });

  it('salts every hash', async () => {
    const a = await hashPassword('same password here', fast);
    const b = await hashPassword('same password here', fast);
    expect(a).not.toBe(b);
    await expect(verifyPassword('same password here', a)).resolves.toBe(true);
    await expect(verifyPassword('same password here', b)).resolves.toBe(true);
  });

  it('reads the costs from the stored string, so hashes made with other costs still verify', async () => {
    const stored = await hashPassword('an older password', { N: 2 ** 11, r: 4, p: 2, saltBytes: 24, keyBytes: 48 });
    expect(stored.startsWith('scrypt$2048$4$2$')).toBe(true);
    await expect(verifyPassword('an older password', stored)).resolves.toBe(true);
    await expect(verifyPassword('an older passworD', stored)).resolves.toBe(false);
  });

  it('normalises Unicode so composed and decomposed forms verify alike', async () => {
    const stored = await hashPassword('caf\u00e9 au lait please', fast);
    await expect(verifyPassword('cafe\u0301 au lait please', stored)).resolves.toBe(true);
  });

  it.each([
    ['not a hash', 'hello'],
    ['wrong scheme', 'bcrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['N not a power of two', 'scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['N absurdly large', 'scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['r zero', 'scrypt$1024$0$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['non-decimal cost', 'scrypt$0x400$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['bad base64', 'scrypt$1024$8$1$!!!!$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['short key', 'scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA'],
    ['too many fields', 'scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA$x'],
    ['empty', ''],
  ])('returns false rather than throwing for a malformed stored hash (%s)', async (_label, stored) => {
    await expect(verifyPassword('whatever password', stored)).resolves.toBe(false);
  });

  it('returns false for non-string input and over-long passwords', async () => {
    const stored = await hashPassword('a fine long password', fast);
    await expect(verifyPassword(undefined, stored)).resolves.toBe(false);
    await expect(verifyPassword(42, stored)).resolves.toBe(false);
    await expect(verifyPassword('a fine long password', null)).resolves.toBe(false);
    await expect(verifyPassword('x'.repeat(5000), stored)).resolves.toBe(false);
  });

  it('refuses invalid options and over-long passwords when hashing', async () => {
    await expect(hashPassword('long enough password', { N: 1000 })).rejects.toThrow(/power of two/);
    await expect(hashPassword('long enough password', { saltBytes: 4 })).rejects.toThrow(/saltBytes/);
    await expect(hashPassword('x'.repeat(1025), fast)).rejects.toThrow(/longer than 1024/);
  });
});

describe('needsRehash', () => {
  it('is false for a hash made with the target costs and true when costs change', async () => {
    const stored = await hashPassword('correct horse battery', fast);
    expect(needsRehash(stored, fast)).toBe(false);
    expect(needsRehash(stored)).toBe(true);
    expect(needsRehash(stored, { ...fast, N: 2 ** 11 })).toBe(true);
    expect(needsRehash(stored, { ...fast, keyBytes: 64 })).toBe(true);
    expect(needsRehash(stored, { ...fast, saltBytes: 32 })).toBe(true);
  });

  it('defaults to the default costs and treats malformed strings as needing a rehash', () => {
    const salt = Buffer.alloc(16).toString('base64').replace(/=+$/, '');
    const key = Buffer.alloc(32).toString('base64').replace(/=+$/, '');
    const { N, r, p } = PASSWORD_HASH_DEFAULTS;
    expect(needsRehash(`scrypt$${N}$${r}$${p}$${salt}$${key}`)).toBe(false);
    expect(needsRehash('garbage')).toBe(true);
    expect(needsRehash(undefined)).toBe(true);
  });
});

describe('passwordProblem', () => {
  it('accepts 12 to 1024 characters', () => {
    expect(passwordProblem('abcdefghijkl')).toBeNull();
    expect(passwordProblem('x'.repeat(1024))).toBeNull();
  });

  it('refuses short passwords with a message a person can act on', () => {
    expect(passwordProblem('hunter2')).toMatch(/at least 12 characters; this password has 7/);
    expect(passwordProblem('')).toBe('Enter a password.');
    expect(passwordProblem(undefined)).toBe('Enter a password.');
  });

  it('counts characters, not UTF-16 units', () => {
    // Eleven emoji are 22 UTF-16 code units but only 11 characters.
    expect(passwordProblem('😀'.repeat(11))).toMatch(/has 11/);
    expect(passwordProblem('😀'.repeat(12))).toBeNull();
  });

  it('refuses passwords over 1024 characters', () => {
    expect(passwordProblem('x'.repeat(1025))).toMatch(/at most 1024 characters/);
  });
});
