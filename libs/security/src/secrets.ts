/**
 * Encryption of secrets the platform must be able to read back (endpoint API keys), with
 * AES-256-GCM under a key from the CTXLAB_SECRET_KEY environment variable.
 *
 * Stored form: `v1:ivB64:tagB64:ciphertextB64` (standard base64). The version tag leaves room to
 * rotate algorithm or key later; GCM's tag detects any change to the stored value and a wrong key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** The environment variable the key comes from; named in every key error. */
export const SECRET_KEY_ENV = 'CTXLAB_SECRET_KEY';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';
const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const B64URL = /^[A-Za-z0-9_-]*$/;

/** Stored secret could not be decrypted: altered, truncated, or encrypted under another key. */
export class SecretDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretDecryptionError';
  }
}

/**
 * Parses the encryption key from its environment value. Returns null when it is unset or blank
 * (the caller decides whether that is fatal), the 32-byte key for 64 hex characters or base64
 * (standard or URL-safe) of 32 bytes, and throws an Error naming CTXLAB_SECRET_KEY — without
 * echoing the value — for anything else.
 */
export function parseSecretKey(raw: string | undefined): Buffer | null {
  if (raw === undefined) return null;
  const text = raw.trim();
  if (text === '') return null;
  if (HEX_KEY.test(text)) return Buffer.from(text, 'hex');
  const padded = text.replace(/=+$/, '');
  if ((B64.test(text) || B64URL.test(text)) && padded.length === 43) {
    const key = Buffer.from(padded.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === KEY_BYTES) return key;
  }
  throw new Error(
    `${SECRET_KEY_ENV} must be 32 random bytes written as 64 hex characters or as base64 ` +
      `(generate one with \`openssl rand -hex 32\`); the value set has ${text.length} characters and is neither.`,
  );
}

/** Encrypts a secret for storage. Each call uses a fresh random IV, so equal inputs encrypt differently. */
export function encryptSecret(plain: string, key: Buffer): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(VERSION));
  const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), ciphertext.toString('base64')].join(':');
}

/**
 * Decrypts a value made by `encryptSecret`. Throws SecretDecryptionError when the value is not in
 * the stored format, was altered, or was encrypted under a different key.
 */
export function decryptSecret(stored: string, key: Buffer): string {
  checkKey(key);
  const parts = typeof stored === 'string' ? stored.split(':') : [];
  const [version, ivText, tagText, ctText] = parts;
  if (parts.length !== 4 || version !== VERSION || ivText === undefined || tagText === undefined || ctText === undefined || ![ivText, tagText, ctText].every((p) => B64.test(p))) {
    throw new SecretDecryptionError('stored secret is not in the v1:iv:tag:ciphertext format');
  }
  const iv = Buffer.from(ivText, 'base64');
  const tag = Buffer.from(tagText, 'base64');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new SecretDecryptionError('stored secret is not in the v1:iv:tag:ciphertext format');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(VERSION));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(ctText, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretDecryptionError(`stored secret cannot be decrypted: it was altered, or encrypted with a different ${SECRET_KEY_ENV}`);
  }
}

/**
 * A secret made safe for logs and screens: at most its last 4 characters survive (fewer for short
 * secrets, none below 8), behind a short vendor-style prefix such as `sk-` when the secret is long
 * enough that the prefix gives nothing away. `redact('sk-proj-abc…wxyz')` → `sk-…wxyz`.
 */
export function redact(s: string | null | undefined): string {
  if (s === null || s === undefined || s === '') return '';
  const chars = [...s];
  if (chars.length < 8) return '…';
  const keep = Math.min(4, Math.floor(chars.length / 4));
  const tail = chars.slice(-keep).join('');
  const prefix = chars.length >= 24 ? /^[A-Za-z]{2,4}[-_]/.exec(s)?.[0] ?? '' : '';
  return `${prefix}…${tail}`;
}

function checkKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) throw new TypeError(`the secret key must be ${KEY_BYTES} bytes; load it with parseSecretKey(process.env.${SECRET_KEY_ENV})`);
}
