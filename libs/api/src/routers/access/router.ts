/**
 * People and credentials: who am I, users (admin), API tokens (yours; admins see all), the audit
 * log (admin) and the outbound allow-list (admin). Sign-in and sign-out are the portal's
 * /api/auth routes, which set and clear the session cookie.
 */
import { DomainError, nonNegativeInt, notFound, text } from '@ctxlab/contracts';
import { allowEntryProblem, verifyPassword } from '@ctxlab/security';
import { z } from 'zod';
import { createApiToken, createUser, publicToken, publicUser, randomPassword, ROLE_RANK, setPassword } from '../../auth/service';
import { adminProcedure, publicProcedure, router, viewerProcedure } from '../../trpc';

const role = z.enum(['viewer', 'member', 'admin']);
const email = text().trim().toLowerCase().email('must be an email address').max(254);

export const authRouter = router({
  /** The caller, or null when not signed in. */
  me: publicProcedure.query(({ ctx }) => (ctx.actor ? { id: ctx.actor.id, name: ctx.actor.name, role: ctx.actor.role, via: ctx.actor.via ?? 'internal' } : null)),
  changePassword: viewerProcedure
    .input(z.object({ currentPassword: text().min(1).max(1024), newPassword: text().max(1024) }))
    .mutation(async ({ ctx, input }) => {
      const u = await ctx.repos.accounts.userById(ctx.actor.id);
      if (!u) throw new DomainError('PRECONDITION_FAILED', 'only people with an account have a password');
      if (!(await verifyPassword(input.currentPassword, u.passwordHash))) throw new DomainError('BAD_REQUEST', 'currentPassword: that is not your current password', 'currentPassword');
      await setPassword(ctx.repos, u.id, input.newPassword);
      return { ok: true as const, signedOut: 'every session of this account (sign in again)' };
    }),
});

export const usersRouter = router({
  list: adminProcedure.query(async ({ ctx }) => (await ctx.repos.accounts.listUsers()).map(publicUser)),
  /** A new account; without a password one is generated and returned once. */
  create: adminProcedure
    .input(z.object({ email, name: text().trim().min(1, 'must not be empty').max(200), role: role.default('viewer'), password: text().max(1024).optional() }))
    .mutation(async ({ ctx, input }) => {
      const password = input.password ?? randomPassword();
      const user = await createUser(ctx.repos, { ...input, password });
      return { user, ...(input.password ? {} : { oneTimePassword: password }) };
    }),
  update: adminProcedure
    .input(z.object({ id: text().min(1).max(64), role: role.optional(), disabled: z.boolean().optional(), name: text().trim().min(1).max(200).optional() }))
    .mutation(async ({ ctx, input }) => {
      const u = await ctx.repos.accounts.userById(input.id);
      if (!u) throw notFound('user', input.id);
      const demoting = (input.role && input.role !== 'admin') || input.disabled;
      if (u.role === 'admin' && demoting && (await ctx.repos.accounts.countActiveAdmins()) <= 1) {
        throw new DomainError('PRECONDITION_FAILED', 'this is the last admin: make someone else admin first');
      }
      const updated = await ctx.repos.accounts.updateUser(u.id, {
        ...(input.role ? { role: input.role } : {}),
        ...(input.name ? { name: input.name } : {}),
        ...(input.disabled === undefined ? {} : { disabledAt: input.disabled ? new Date() : null }),
      });
      // Disabled: every session ends now. Tokens stop working through the user check.
      if (input.disabled) await ctx.repos.accounts.endSessionsOf(u.id);
      return publicUser(updated);
    }),
  /** A new one-time password for someone who lost theirs; their sessions end. */
  resetPassword: adminProcedure.input(z.object({ id: text().min(1).max(64) })).mutation(async ({ ctx, input }) => {
    if (!(await ctx.repos.accounts.userById(input.id))) throw notFound('user', input.id);
    const password = randomPassword();
    await setPassword(ctx.repos, input.id, password);
    return { oneTimePassword: password };
  }),
});

export const tokensRouter = router({
  /** Your tokens (admins: everyone's with `all`). Secrets are never shown again. */
  list: viewerProcedure.input(z.object({ all: z.boolean().default(false) }).default({ all: false })).query(async ({ ctx, input }) => {
    const all = input.all && ctx.actor.role === 'admin';
    const rows = await ctx.repos.accounts.listTokens(all ? undefined : ctx.actor.id);
    return rows.map((t) => ({ ...publicToken(t), user: t.user }));
  }),
  /** A token for scripts (CTXLAB_TOKEN), with at most your own role. The secret is in this answer only. */
  create: viewerProcedure
    .input(z.object({ name: text().trim().min(1, 'must not be empty').max(100), role: role.optional(), expiresInDays: z.number().int().min(1).max(3650).optional() }))
    .mutation(async ({ ctx, input }) => {
      if (ctx.actor.via !== 'session' && ctx.actor.via !== 'internal') throw new DomainError('FORBIDDEN', 'tokens are created from a signed-in session, not with another token');
      return createApiToken(ctx.repos, ctx.actor.id, { name: input.name, role: input.role ?? ctx.actor.role, expiresInDays: input.expiresInDays });
    }),
  /** Stops a token on its next use. Yours, or anyone's for admins. */
  revoke: viewerProcedure.input(z.object({ id: text().min(1).max(64) })).mutation(async ({ ctx, input }) => {
    const t = await ctx.repos.accounts.tokenById(input.id);
    if (!t || (t.userId !== ctx.actor.id && ROLE_RANK[ctx.actor.role] < ROLE_RANK.admin)) throw notFound('token', input.id);
    return publicToken(await ctx.repos.accounts.revokeToken(t.id, t.revokedAt ?? new Date()));
  }),
});

export const auditRouter = router({
  /** Newest first; filter by actor, action prefix (e.g. "jobs.") or entity id. */
  list: adminProcedure
    .input(z.object({ actorId: text().max(64).optional(), action: text().max(100).optional(), entityId: text().max(64).optional(), limit: z.number().int().min(1).max(500).default(100), offset: nonNegativeInt.default(0) }).default({ limit: 100, offset: 0 }))
    .query(({ ctx, input }) => ctx.repos.accounts.listAudit(input)),
});

/** Checked by the outbound guard's own parser, so every saved entry is one the guard can apply. */
const hostEntry = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .transform((h) => h.toLowerCase())
  .superRefine((h, ctx) => {
    const problem = allowEntryProblem(h);
    if (problem) ctx.addIssue({ code: 'custom', message: `${problem} (a hostname, *.suffix, an IP address or a CIDR such as 10.0.0.0/8, optionally with a port or port range: 127.0.0.1:8765, 10.0.0.0/8:8000-8100)` });
  });

export const allowedHostsRouter = router({
  list: adminProcedure.query(({ ctx }) => ctx.repos.accounts.listAllowedHosts()),
  /** Lets endpoints point at an internal host (a GPU box on the lab network, the local model server). */
  add: adminProcedure
    .input(z.object({ host: hostEntry, note: text().max(300).optional() }))
    // Two admins adding one host at once: adding is idempotent, so the loser updates the winner's row.
    .mutation(({ ctx, input }) => ctx.repos.accounts.allowHost({ host: input.host, note: input.note ?? null, createdBy: ctx.actor.name })),
  remove: adminProcedure.input(z.object({ host: text().min(1).max(253) })).mutation(async ({ ctx, input }) => {
    if ((await ctx.repos.accounts.removeAllowedHost(input.host.toLowerCase())) === 0) throw notFound('allowed host', input.host);
    return { removed: input.host.toLowerCase() };
  }),
});
