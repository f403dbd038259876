import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretDecryptionError, decryptSecret, encryptSecret, parseSecretKey, redact } from './secrets';

const key = randomBytes(32);

describe('parseSecretKey', () => {
  it('returns null when unset or blank', () => {
    expect(parseSecretKey(undefined)).toBeNull();
    expect(parseSecretKey('')).toBeNull();
    expect(parseSecretKey('  \n')).toBeNull();
  });

  it('accepts 64 hex characters', () => {
    const hex = key.toString('hex');
    expect(parseSecretKey(hex)?.equals(key)).toBe(true);
    expect(parseSecretKey(`${hex.toUpperCase()}\n`)?.equals(key)).toBe(true);
  });

  it('accepts base64 and base64url of 32 bytes, padded or not', () => {
    expect(parseSecretKey(key.toString('base64'))?.equals(key)).toBe(true);
    expect(parseSecretKey(key.toString('base64').replace(/=+$/, ''))?.equals(key)).toBe(true);
    expect(parseSecretKey(key.toString('base64url'))?.equals(key)).toBe(true);
  });

  it.each([
    ['too short hex', 'ab'.repeat(31)],
    ['16-byte base64', randomBytes(16).toString('base64')],
    ['48-byte base64', randomBytes(48).toString('base64')],
    ['a passphrase', 'my super secret passphrase'],
    ['non-hex 64 chars', 'z'.repeat(64)],
  ])('throws a clear error naming CTXLAB_SECRET_KEY for %s, without echoing the value', (_label, raw) => {
    let message = '';
    try {
      parseSecretKey(raw);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/CTXLAB_SECRET_KEY must be 32 random bytes/);
    expect(message).not.toContain(raw);
  });
});

describe('encryptSecret / decryptSecret', () => {
  it('round-trips, including empty and non-ASCII secrets', () => {
    for (const plain of ['sk-proj-abc123', '', 'pässwörd 🔑', 'x'.repeat(10_000)]) {
      const stored = encryptSecret(plain, key);
      expect(stored).toMatch(/^v1:[A-Za-z0-9+/=]{16}:[A-Za-z0-9+/=]{24}:[A-Za-z0-9+/=]*$/);
      expect(decryptSecret(stored, key)).toBe(plain);
    }
  });

  it('uses a fresh IV every time', () => {
    expect(encryptSecret('same', key)).not.toBe(encryptSecret('same', key));
  });

  it('does not contain the plaintext', () => {
    expect(encryptSecret('sk-live-visible', key)).not.toContain('sk-live');
  });

  it('throws a clear error under the wrong key', () => {
    const stored = encryptSecret('sk-proj-abc123', key);
    expect(() => decryptSecret(stored, randomBytes(32))).toThrow(SecretDecryptionError);
    expect(() => decryptSecret(stored, randomBytes(32))).toThrow(/altered, or encrypted with a different CTXLAB_SECRET_KEY/);
  });

  it('detects tampering with the ciphertext, tag or IV', () => {
    const stored = encryptSecret('sk-proj-abc123', key);
    const [v, iv, tag, ct] = stored.split(':') as [string, string, string, string];
    const flip = (b64: string) => {
      const buf = Buffer.from(b64, 'base64');
      buf[0] = buf[0]! ^ 1;
      return buf.toString('base64');
    };
    for (const altered of [[v, iv, tag, flip(ct)], [v, iv, flip(tag), ct], [v, flip(iv), tag, ct]]) {
      expect(() => decryptSecret(altered.join(':'), key)).toThrow(/altered/);
    }
  });

  it.each([['plain text'], ['v2:a:b:c'], ['v1:AAAA:AAAA:AAAA'], ['v1:::'], ['v1:!!:??:**']])('refuses a value not in the stored format (%s)', (stored) => {
    expect(() => decryptSecret(stored, key)).toThrow(/not in the v1:iv:tag:ciphertext format/);
  });

  it('refuses a key of the wrong size', () => {
    expect(() => encryptSecret('x', randomBytes(16))).toThrow(/32 bytes/);
  });
});

describe('redact', () => {
  it('keeps a vendor prefix and the last 4 characters of long secrets', () => {
    expect(redact('sk-proj-1234567890abcdefghijwxyz')).toBe('sk-…wxyz');
    expect(redact('ghp_0123456789abcdefghijklmnopqrstuv')).toBe('ghp_…stuv');
  });

  it('keeps only the tail when there is no prefix', () => {
    expect(redact('0123456789abcdefghij')).toBe('…ghij');
  });

  it('reveals less of short secrets and nothing of very short ones', () => {
    expect(redact('abcdefghij')).toBe('…ij');
    expect(redact('abcdefg')).toBe('…');
    expect(redact('sk-abcdefghijkl')).toBe('…jkl');
  });

  it('handles empty values', () => {
    expect(redact('')).toBe('');
    expect(redact(null)).toBe('');
    expect(redact(undefined)).toBe('');
  });
});
