/**
 * Opaque bearer secrets: session ids and API tokens.
 *
 * A secret is `${prefix}_${base64url(32 random bytes)}`. Only its SHA-256 is stored, so a leaked
 * database does not yield usable tokens; the first 12 characters are kept for display ("which
 * token is this?") and reveal nothing useful. The typed prefix makes leaked tokens easy to spot
 * in logs and by secret scanners.
 */
import { createHash, randomBytes } from 'node:crypto';

/** The kinds of secret this platform issues: browser sessions and API tokens. */
export type SecretPrefix = 'ctx_sess' | 'ctx_tok';

export const SECRET_PREFIXES: readonly SecretPrefix[] = Object.freeze(['ctx_sess', 'ctx_tok'] as const);

/** Random bytes in every secret (256 bits). */
export const SECRET_BYTES = 32;

/** How many leading characters of a token are kept for display. */
export const DISPLAY_PREFIX_LENGTH = 12;

export interface NewSecret {
  /** The secret itself; shown to its owner once and never stored. */
  token: string;
  /** Hex SHA-256 of the token: what the database stores and looks up by. */
  hash: string;
  /** The token's first 12 characters, safe to store and display. */
  prefix: string;
}

/** base64url of 32 bytes is 43 characters, without padding. */
const TOKEN_PATTERN = /^ctx_(?:sess|tok)_[A-Za-z0-9_-]{43}$/;

/** Issues a new secret of the given kind. */
export function newSecret(prefix: SecretPrefix): NewSecret {
  if (!SECRET_PREFIXES.includes(prefix)) throw new TypeError(`unknown secret prefix ${String(prefix)}`);
  const token = `${prefix}_${randomBytes(SECRET_BYTES).toString('base64url')}`;
  return { token, hash: hashSecret(token), prefix: token.slice(0, DISPLAY_PREFIX_LENGTH) };
}

/** Hex SHA-256 of a presented token, to look it up by. A fast hash suffices: tokens carry 256 bits of entropy. */
export function hashSecret(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * True when a value has the exact shape of a token this platform issues. Use it to reject junk
 * cheaply before a database lookup, and to spot tokens pasted where they should not be.
 */
export function looksLikeToken(s: unknown): s is string {
  return typeof s === 'string' && TOKEN_PATTERN.test(s);
}
