import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashSecret, looksLikeToken, newSecret } from './tokens';

describe('newSecret', () => {
  it.each(['ctx_sess', 'ctx_tok'] as const)('issues a %s token, its SHA-256 and a display prefix', (prefix) => {
    const s = newSecret(prefix);
    expect(s.token).toMatch(new RegExp(`^${prefix}_[A-Za-z0-9_-]{43}$`));
    expect(Buffer.from(s.token.slice(prefix.length + 1), 'base64url')).toHaveLength(32);
    expect(s.hash).toBe(createHash('sha256').update(s.token).digest('hex'));
    expect(s.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(s.prefix).toBe(s.token.slice(0, 12));
    expect(s.prefix.startsWith(prefix)).toBe(true);
  });

  it('never repeats', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => newSecret('ctx_tok').token));
    expect(tokens.size).toBe(1000);
  });

  it('refuses unknown prefixes', () => {
    expect(() => newSecret('nope' as 'ctx_tok')).toThrow(/unknown secret prefix/);
  });
});

describe('hashSecret', () => {
  it('matches the hash newSecret stored', () => {
    const s = newSecret('ctx_sess');
    expect(hashSecret(s.token)).toBe(s.hash);
    expect(hashSecret(`${s.token}x`)).not.toBe(s.hash);
  });
});

describe('looksLikeToken', () => {
  it('accepts issued tokens', () => {
    expect(looksLikeToken(newSecret('ctx_sess').token)).toBe(true);
    expect(looksLikeToken(newSecret('ctx_tok').token)).toBe(true);
  });

  it.each([
    ['other prefix', `ctx_key_${'A'.repeat(43)}`],
    ['too short', `ctx_tok_${'A'.repeat(42)}`],
    ['too long', `ctx_tok_${'A'.repeat(44)}`],
    ['padding', `ctx_tok_${'A'.repeat(42)}=`],
    ['whitespace', ` ctx_tok_${'A'.repeat(43)}`],
    ['empty', ''],
    ['not a string', 42],
  ])('rejects %s', (_label, value) => {
    expect(looksLikeToken(value)).toBe(false);
  });
});
