import type { Db } from '../client';
import { guard } from '../errors';
import type { Prisma } from '../generated/prisma/client';

/** People and access: users, sessions, API tokens, the audit log and the outbound allow-list. */
export function accountsRepo(db: Db) {
  return {
    /** A user by id, or null. */
    userById: (id: string) => db.user.findUnique({ where: { id } }),
    /** A user by (already normalised) email, or null. */
    userByEmail: (email: string) => db.user.findUnique({ where: { email } }),
    /** Every user, oldest first. */
    listUsers: () => db.user.findMany({ orderBy: { createdAt: 'asc' } }),
    /** How many users there are. */
    countUsers: () => db.user.count(),
    /** How many admins are not disabled. */
    countActiveAdmins: () => db.user.count({ where: { role: 'admin', disabledAt: null } }),
    /** The oldest admin that is not disabled, or null. */
    firstActiveAdmin: () => db.user.findFirst({ where: { role: 'admin', disabledAt: null }, orderBy: { createdAt: 'asc' } }),
    /** A new user; a taken email is a CONFLICT (the unique index decides). */
    createUser: (data: Pick<Prisma.UserCreateInput, 'email' | 'name' | 'role' | 'passwordHash'>) => guard('user', () => db.user.create({ data })),
    /** Changes a user's role, name or disabled time. */
    updateUser: (id: string, patch: Pick<Prisma.UserUpdateInput, 'role' | 'name' | 'disabledAt'>) => db.user.update({ where: { id }, data: patch }),
    /** Sets a user's password hash and, in the same transaction, ends every session of theirs. */
    async setPasswordHash(userId: string, passwordHash: string) {
      await db.$transaction([db.user.update({ where: { id: userId }, data: { passwordHash } }), db.session.deleteMany({ where: { userId } })]);
    },

    /** A session by its id (the secret's hash) with its user, or null. */
    sessionWithUser: (id: string) => db.session.findUnique({ where: { id }, include: { user: true } }),
    /** Pushes a session's expiry out to `expiresAt` and marks it seen now. */
    refreshSession: (id: string, expiresAt: Date) => db.session.update({ where: { id }, data: { lastSeenAt: new Date(), expiresAt } }),
    /** Opens a session and stamps the user's last sign-in, in one transaction. */
    async openSession(s: { id: string; userId: string; expiresAt: Date; userAgent: string | null }) {
      await db.$transaction([db.session.create({ data: s }), db.user.update({ where: { id: s.userId }, data: { lastSignInAt: new Date() } })]);
    },
    /** Ends the session with this id (the secret's hash), if there is one. */
    async endSession(id: string) {
      await db.session.deleteMany({ where: { id } });
    },
    /** Ends every session of a user. */
    async endSessionsOf(userId: string) {
      await db.session.deleteMany({ where: { userId } });
    },

    /** An API token by its secret's hash, with its user, or null. */
    tokenByHash: (tokenHash: string) => db.apiToken.findUnique({ where: { tokenHash }, include: { user: true } }),
    /** An API token by id, or null. */
    tokenById: (id: string) => db.apiToken.findUnique({ where: { id } }),
    /** A user's tokens (everyone's without a user), newest first, with the owner's name and email. */
    listTokens: (userId?: string) =>
      db.apiToken.findMany({ where: userId === undefined ? {} : { userId }, orderBy: { createdAt: 'desc' }, include: { user: { select: { name: true, email: true } } } }),
    /** A new API token (its hash; the secret is the caller's). */
    createToken: (data: Pick<Prisma.ApiTokenUncheckedCreateInput, 'userId' | 'name' | 'role' | 'tokenHash' | 'prefix' | 'expiresAt'>) => db.apiToken.create({ data }),
    /** Marks a token used now. */
    touchToken: (id: string) => db.apiToken.update({ where: { id }, data: { lastUsedAt: new Date() } }),
    /** Sets a token's revocation time. */
    revokeToken: (id: string, revokedAt: Date) => db.apiToken.update({ where: { id }, data: { revokedAt } }),
    /** Revokes, now, a user's unrevoked tokens of this name. */
    async revokeTokensNamed(userId: string, name: string) {
      await db.apiToken.updateMany({ where: { userId, name, revokedAt: null }, data: { revokedAt: new Date() } });
    },

    /** Appends an audit event. */
    async recordAudit(data: Pick<Prisma.AuditEventCreateInput, 'actorId' | 'actorName' | 'via' | 'action' | 'entity' | 'entityId' | 'detail'>) {
      await db.auditEvent.create({ data });
    },
    /** Audit events newest first, filtered by actor, action prefix or entity id, with the total that match. */
    async listAudit(a: { actorId?: string | undefined; action?: string | undefined; entityId?: string | undefined; limit: number; offset: number }) {
      const where = { ...(a.actorId ? { actorId: a.actorId } : {}), ...(a.action ? { action: { startsWith: a.action } } : {}), ...(a.entityId ? { entityId: a.entityId } : {}) };
      const [items, total] = await Promise.all([db.auditEvent.findMany({ where, orderBy: [{ at: 'desc' }, { id: 'desc' }], take: a.limit, skip: a.offset }), db.auditEvent.count({ where })]);
      return { items, total };
    },

    /** Every allow-listed host entry, as saved. */
    async allowedHostEntries() {
      return (await db.allowedHost.findMany({ select: { host: true } })).map((h) => h.host);
    },
    /** The outbound allow-list, by host. */
    listAllowedHosts: () => db.allowedHost.findMany({ orderBy: { host: 'asc' } }),
    /** Adds a host (or updates its note); idempotent, also when two adds of one host race. */
    allowHost(entry: { host: string; note: string | null; createdBy: string }) {
      const upsert = () => db.allowedHost.upsert({ where: { host: entry.host }, create: entry, update: { note: entry.note } });
      // The loser of a race inserts into the winner's row: it updates that row instead.
      return upsert().catch((e: { code?: string }) => (e.code === 'P2002' ? upsert() : Promise.reject(e)));
    },
    /** Removes a host; how many entries went (0 or 1). */
    async removeAllowedHost(host: string) {
      return (await db.allowedHost.deleteMany({ where: { host } })).count;
    },
    /** Adds `entry` (left as it is when present) after removing its creator's older entries with the same note under another host. */
    async replaceAllowedHost(entry: { host: string; note: string; createdBy: string }) {
      await db.allowedHost.deleteMany({ where: { note: entry.note, createdBy: entry.createdBy, host: { not: entry.host } } });
      await db.allowedHost.upsert({ where: { host: entry.host }, create: entry, update: {} });
    },
  };
}
