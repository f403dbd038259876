/**
 * Password hashing with scrypt (memory-hard, built into Node's crypto module).
 *
 * Stored hashes are self-describing — `scrypt$N$r$p$saltB64$hashB64` — so verification reads the
 * cost parameters from the stored string and costs can be raised later without invalidating
 * existing hashes; `needsRehash` tells a login flow when to re-hash with the current costs.
 *
 * Passwords are normalised to Unicode NFKC before hashing (as NIST SP 800-63B recommends), so the
 * same password typed on different keyboards or platforms verifies.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** Fewest characters (Unicode code points) a new password may have. */
export const PASSWORD_MIN_LENGTH = 12;
/** Most characters a password may have; bounds the work an attacker can make a login do. */
export const PASSWORD_MAX_LENGTH = 1024;

/** scrypt cost parameters and sizes. */
export interface PasswordHashOptions {
  /** CPU/memory cost; a power of two greater than 1. */
  N?: number;
  /** Block size. */
  r?: number;
  /** Parallelisation. */
  p?: number;
  /** Salt length in bytes. */
  saltBytes?: number;
  /** Derived key length in bytes. */
  keyBytes?: number;
}

/** The costs new hashes get: N=2^15, r=8, p=1 (about 32 MiB and tens of milliseconds per hash). */
export const PASSWORD_HASH_DEFAULTS: Readonly<Required<PasswordHashOptions>> = Object.freeze({
  N: 2 ** 15,
  r: 8,
  p: 1,
  saltBytes: 16,
  keyBytes: 32,
});

/**
 * Upper bounds accepted when reading a stored hash. A stored string outside them is treated as
 * malformed rather than run, so a corrupted or planted row cannot make verification allocate
 * gigabytes or spin for minutes.
 */
const LIMITS = { maxN: 2 ** 20, maxR: 32, maxP: 16, maxMemory: 1024 ** 3, minSalt: 8, maxSalt: 64, minKey: 16, maxKey: 64 } as const;

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;
const DECIMAL = /^[1-9][0-9]{0,9}$/;

interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

/**
 * Why a password cannot be used, as a sentence a person can act on, or null when it is acceptable.
 * Length is counted in characters (Unicode code points) after normalisation.
 */
export function passwordProblem(pw: unknown): string | null {
  if (typeof pw !== 'string' || pw.length === 0) return 'Enter a password.';
  const length = [...pw.normalize('NFKC')].length;
  if (length < PASSWORD_MIN_LENGTH) {
    return `Use at least ${PASSWORD_MIN_LENGTH} characters; this password has ${length}. A few unrelated words make a long password that is easy to remember.`;
  }
  if (length > PASSWORD_MAX_LENGTH) return `Use at most ${PASSWORD_MAX_LENGTH} characters; this password has ${length}.`;
  return null;
}

/**
 * Hashes a password into `scrypt$N$r$p$saltB64$hashB64` (unpadded standard base64).
 * Applies no strength policy beyond the maximum length — check `passwordProblem` first when a
 * person chooses a password. Throws a RangeError for invalid options or an over-long password.
 */
export async function hashPassword(password: string, opts: PasswordHashOptions = {}): Promise<string> {
  if (typeof password !== 'string') throw new TypeError('password must be a string');
  const { N, r, p, saltBytes, keyBytes } = { ...PASSWORD_HASH_DEFAULTS, ...opts };
  checkCosts(N, r, p);
  if (!Number.isInteger(saltBytes) || saltBytes < 16 || saltBytes > LIMITS.maxSalt) throw new RangeError(`saltBytes must be an integer from 16 to ${LIMITS.maxSalt}`);
  if (!Number.isInteger(keyBytes) || keyBytes < LIMITS.minKey || keyBytes > LIMITS.maxKey) throw new RangeError(`keyBytes must be an integer from ${LIMITS.minKey} to ${LIMITS.maxKey}`);
  const normalized = password.normalize('NFKC');
  if ([...normalized].length > PASSWORD_MAX_LENGTH) throw new RangeError(`password is longer than ${PASSWORD_MAX_LENGTH} characters`);
  const salt = randomBytes(saltBytes);
  const hash = await derive(normalized, salt, keyBytes, N, r, p);
  return ['scrypt', N, r, p, b64(salt), b64(hash)].join('$');
}

/**
 * Checks a password against a stored hash in constant time. Returns false — never throws — for a
 * wrong password, a non-string or over-long password, or a stored string that is malformed or
 * names costs beyond the accepted bounds.
 */
export async function verifyPassword(password: unknown, stored: unknown): Promise<boolean> {
  if (typeof password !== 'string') return false;
  const parsed = parseStored(stored);
  if (!parsed) return false;
  const normalized = password.normalize('NFKC');
  if ([...normalized].length > PASSWORD_MAX_LENGTH) return false;
  let candidate: Buffer;
  try {
    candidate = await derive(normalized, parsed.salt, parsed.hash.length, parsed.N, parsed.r, parsed.p);
  } catch {
    return false;
  }
  return candidate.length === parsed.hash.length && timingSafeEqual(candidate, parsed.hash);
}

/**
 * True when a stored hash should be replaced (after a successful login) by one with the given
 * costs: it is malformed, its N, r, p or key length differ from the target, or its salt is
 * shorter than the target's.
 */
export function needsRehash(stored: unknown, opts: PasswordHashOptions = {}): boolean {
  const parsed = parseStored(stored);
  if (!parsed) return true;
  const target = { ...PASSWORD_HASH_DEFAULTS, ...opts };
  return parsed.N !== target.N || parsed.r !== target.r || parsed.p !== target.p || parsed.hash.length !== target.keyBytes || parsed.salt.length < target.saltBytes;
}

function checkCosts(N: number, r: number, p: number): void {
  if (!Number.isInteger(N) || N < 2 || N > LIMITS.maxN || (N & (N - 1)) !== 0) throw new RangeError(`N must be a power of two from 2 to ${LIMITS.maxN}`);
  if (!Number.isInteger(r) || r < 1 || r > LIMITS.maxR) throw new RangeError(`r must be an integer from 1 to ${LIMITS.maxR}`);
  if (!Number.isInteger(p) || p < 1 || p > LIMITS.maxP) throw new RangeError(`p must be an integer from 1 to ${LIMITS.maxP}`);
  if (memoryFor(N, r, p) > LIMITS.maxMemory) throw new RangeError('N × r × p asks for more than 1 GiB of memory');
}

/** Bytes scrypt needs for these costs (128·N·r for the main buffer, 128·r·p for the blocks). */
function memoryFor(N: number, r: number, p: number): number {
  return 128 * N * r + 128 * r * p;
}

function derive(password: string, salt: Buffer, keyBytes: number, N: number, r: number, p: number): Promise<Buffer> {
  // Node refuses any scrypt call needing more than `maxmem` (32 MiB by default, just under what
  // the default costs need), so allow the computed requirement plus headroom.
  const options: ScryptOptions = { N, r, p, maxmem: memoryFor(N, r, p) + 16 * 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyBytes, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function parseStored(stored: unknown): ParsedHash | null {
  if (typeof stored !== 'string' || stored.length > 512) return null;
  const parts = stored.split('$');
  if (parts.length !== 6) return null;
  const [scheme, nText, rText, pText, saltText, hashText] = parts as [string, string, string, string, string, string];
  if (scheme !== 'scrypt') return null;
  if (![nText, rText, pText].every((t) => DECIMAL.test(t))) return null;
  const N = Number(nText);
  const r = Number(rText);
  const p = Number(pText);
  try {
    checkCosts(N, r, p);
  } catch {
    return null;
  }
  if (!B64.test(saltText) || !B64.test(hashText)) return null;
  const salt = Buffer.from(saltText, 'base64');
  const hash = Buffer.from(hashText, 'base64');
  if (salt.length < LIMITS.minSalt || salt.length > LIMITS.maxSalt) return null;
  if (hash.length < LIMITS.minKey || hash.length > LIMITS.maxKey) return null;
  return { N, r, p, salt, hash };
}

function b64(buf: Buffer): string {
  return buf.toString('base64').replace(/=+$/, '');
}
