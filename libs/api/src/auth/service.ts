/**
 * Accounts, sessions and API tokens. Sessions and tokens are opaque 256-bit secrets; the database
 * keeps only their SHA-256, so a leaked table signs nobody in. Passwords are scrypt hashes.
 * Failed sign-ins are counted in Redis per account and per address and refused past a limit.
 */
import { DomainError, badRequest, conflict, notFound } from '@ctxlab/contracts';
import { hashPassword, hashSecret, looksLikeToken, newSecret, passwordProblem, verifyPassword } from '@ctxlab/security';
import type { Repositories } from '@ctxlab/db';
import { ready } from '@ctxlab/queue';
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';

export type Role = 'viewer' | 'member' | 'admin';
export const ROLE_RANK: Record<Role, number> = { viewer: 0, member: 1, admin: 2 };
export const lowerRole = (a: Role, b: Role): Role => (ROLE_RANK[a] <= ROLE_RANK[b] ? a : b);

export const SESSION_COOKIE = 'ctxlab_session';
export const SESSION_TTL_MS = 14 * 24 * 3600 * 1000;
/** A session used after this long has its expiry pushed out again (sliding expiry, one write per hour at most). */
const SESSION_REFRESH_MS = 3600 * 1000;
const TOKEN_TOUCH_MS = 60 * 1000;

/** Failed sign-ins allowed per account and per client address in the window, before refusing. */
export const SIGN_IN_LIMITS = { perAccount: 5, perAddress: 20, windowSeconds: 15 * 60 };

export interface AuthActor {
  id: string;
  name: string;
  role: Role;
  via: 'session' | 'token';
  /** The token's id, when the caller used one. */
  tokenId?: string;
}

const normEmail = (e: string) => e.trim().toLowerCase();

/** What the functions here need: the accounts repository. */
type AccountsRepos = Pick<Repositories, 'accounts'>;

export async function resolveSession(repos: AccountsRepos, secret: string): Promise<AuthActor | null> {
  // Anything not shaped like an issued session id cannot match one: no lookup.
  if (!looksLikeToken(secret) || !secret.startsWith('ctx_sess_')) return null;
  const s = await repos.accounts.sessionWithUser(hashSecret(secret));
  if (!s || s.expiresAt.getTime() <= Date.now() || s.user.disabledAt) return null;
  if (Date.now() - s.lastSeenAt.getTime() > SESSION_REFRESH_MS) {
    await repos.accounts.refreshSession(s.id, new Date(Date.now() + SESSION_TTL_MS)).catch(() => undefined);
  }
  return { id: s.user.id, name: s.user.name, role: s.user.role, via: 'session' };
}

/** A token acts with the lower of its own role and its user's current role. */
export async function resolveApiToken(repos: AccountsRepos, secret: string): Promise<AuthActor | null> {
  if (!looksLikeToken(secret) || !secret.startsWith('ctx_tok_')) return null;
  const t = await repos.accounts.tokenByHash(hashSecret(secret));
  if (!t || t.revokedAt || (t.expiresAt && t.expiresAt.getTime() <= Date.now()) || t.user.disabledAt) return null;
  if (!t.lastUsedAt || Date.now() - t.lastUsedAt.getTime() > TOKEN_TOUCH_MS) {
    await repos.accounts.touchToken(t.id).catch(() => undefined);
  }
  return { id: t.user.id, name: `${t.user.name} (token ${t.name})`, role: lowerRole(t.role, t.user.role), via: 'token', tokenId: t.id };
}

async function countFailure(redis: Redis, keys: string[]) {
  const m = redis.multi();
  for (const k of keys) m.incr(k).expire(k, SIGN_IN_LIMITS.windowSeconds);
  await m.exec();
}

/**
 * Checks email and password and opens a session. Wrong email and wrong password give the same
 * answer; past the limit the answer is TOO_MANY_REQUESTS, whatever the password.
 */
export async function signIn(
  deps: { repos: AccountsRepos; redis: Redis },
  input: { email: string; password: string; ip?: string | null; userAgent?: string | null },
): Promise<{ secret: string; expiresAt: Date; user: { id: string; name: string; email: string; role: Role } }> {
  const email = normEmail(input.email);
  // The rate limit lives in Redis: without it, sign-in is refused rather than unlimited.
  await ready(deps.redis).catch(() => {
    throw new DomainError('UNAVAILABLE', 'sign-in is unavailable: Redis (which counts failed attempts) cannot be reached; try again shortly');
  });
  const accountKey = `ctxlab:auth:fail:account:${email}`;
  const addressKey = `ctxlab:auth:fail:address:${input.ip ?? 'unknown'}`;
  const [a, b] = (await deps.redis.mget(accountKey, addressKey)).map((x) => Number(x ?? 0));
  if ((a ?? 0) >= SIGN_IN_LIMITS.perAccount || (b ?? 0) >= SIGN_IN_LIMITS.perAddress) {
    const ttl = Math.max(await deps.redis.ttl(accountKey), await deps.redis.ttl(addressKey), 1);
    throw new DomainError('TOO_MANY_REQUESTS', `too many failed sign-ins; try again in ${Math.ceil(ttl / 60)} minute(s)`);
  }
  const user = await deps.repos.accounts.userByEmail(email);
  const ok = user ? await verifyPassword(input.password, user.passwordHash) : (await verifyPassword(input.password, DUMMY_HASH), false);
  if (!user || !ok || user.disabledAt) {
    await countFailure(deps.redis, [accountKey, addressKey]);
    throw new DomainError('UNAUTHORIZED', user?.disabledAt && ok ? 'this account is disabled; ask an admin' : 'wrong email or password');
  }
  await deps.redis.del(accountKey);
  const { token, hash } = newSecret('ctx_sess');
  const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
  await deps.repos.accounts.openSession({ id: hash, userId: user.id, expiresAt, userAgent: input.userAgent?.slice(0, 300) ?? null });
  return { secret: token, expiresAt, user: { id: user.id, name: user.name, email: user.email, role: user.role } };
}

// Verifying against a real hash when the account does not exist keeps both answers equally slow.
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

export async function signOut(repos: AccountsRepos, secret: string) {
  await repos.accounts.endSession(hashSecret(secret));
}

export async function createUser(repos: AccountsRepos, input: { email: string; name: string; role: Role; password: string }) {
  const problem = passwordProblem(input.password);
  if (problem) throw badRequest(`password: ${problem}`, 'password');
  const email = normEmail(input.email);
  const passwordHash = await hashPassword(input.password);
  // The unique index decides, not a lookup first: of two requests racing for one email, one
  // account is made and the other is told so.
  const u = await repos.accounts.createUser({ email, name: input.name.trim(), role: input.role, passwordHash }).catch((e: unknown) => {
    throw e instanceof DomainError && e.code === 'CONFLICT' ? conflict(`a user with email ${email} already exists`, 'email') : e;
  });
  return publicUser(u);
}

export function publicUser(u: { id: string; email: string; name: string; role: Role; disabledAt: Date | null; lastSignInAt: Date | null; createdAt: Date }) {
  return { id: u.id, email: u.email, name: u.name, role: u.role, disabledAt: u.disabledAt, lastSignInAt: u.lastSignInAt, createdAt: u.createdAt };
}

export async function setPassword(repos: AccountsRepos, userId: string, password: string) {
  const problem = passwordProblem(password);
  if (problem) throw badRequest(`password: ${problem}`, 'password');
  // A new password signs out every browser.
  await repos.accounts.setPasswordHash(userId, await hashPassword(password));
}

/** A readable random password for first admins and resets (22 characters, 128 bits). */
export const randomPassword = () => randomBytes(16).toString('base64url');

/** On an empty registry of people: the first admin, with a one-time password to print. */
export async function ensureFirstAdmin(repos: AccountsRepos, email = 'admin@localhost'): Promise<{ email: string; password: string } | null> {
  if ((await repos.accounts.countUsers()) > 0) return null;
  const password = randomPassword();
  await createUser(repos, { email, name: 'Admin', role: 'admin', password });
  return { email, password };
}

/** A new API token: the secret is returned once; the database keeps its hash. */
export async function createApiToken(repos: AccountsRepos, userId: string, input: { name: string; role: Role; expiresInDays?: number | undefined }) {
  const user = await repos.accounts.userById(userId);
  if (!user) throw notFound('user', userId);
  if (ROLE_RANK[input.role] > ROLE_RANK[user.role]) throw new DomainError('FORBIDDEN', `a token cannot have more rights than its user: ${user.name} is ${user.role}, the token asked for ${input.role}`, 'role');
  const { token, hash, prefix } = newSecret('ctx_tok');
  const row = await repos.accounts.createToken({
    userId, name: input.name.trim(), role: input.role, tokenHash: hash, prefix, expiresAt: input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : null,
  });
  return { token, record: publicToken(row) };
}

export function publicToken(t: { id: string; userId: string; name: string; role: Role; prefix: string; lastUsedAt: Date | null; expiresAt: Date | null; revokedAt: Date | null; createdAt: Date }) {
  return { id: t.id, userId: t.userId, name: t.name, role: t.role, prefix: t.prefix, lastUsedAt: t.lastUsedAt, expiresAt: t.expiresAt, revokedAt: t.revokedAt, createdAt: t.createdAt };
}

/** Reads the session secret from a Cookie header. */
export function sessionFromCookie(cookieHeader: string | null | undefined): string | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === SESSION_COOKIE) return decodeURIComponent(v.join('='));
  }
  return null;
}

/** Set-Cookie for a session: http-only, SameSite=Lax, Secure unless served over plain http to a non-loopback host. */
export function sessionCookie(secret: string, expiresAt: Date, requestUrl: string): string {
  const u = new URL(requestUrl);
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
  const secure = u.protocol === 'https:' || loopback;
  return `${SESSION_COOKIE}=${encodeURIComponent(secret)}; Path=/; HttpOnly; SameSite=Lax; Expires=${expiresAt.toUTCString()}${secure ? '; Secure' : ''}`;
}

export function clearSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Expires=Thu, 01 Jan 1970 00:00:00 GMT`;
}
