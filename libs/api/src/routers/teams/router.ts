import { DomainError, getInput, teamCreateInput, teamMemberInput, teamMemberRemoveInput, teamUpdateInput } from '@ctxlab/contracts';
import type { Context } from '../../trpc';
import { adminProcedure, router, viewerProcedure } from '../../trpc';

/** Membership changes: ctxlab admins, and admins of the team itself. */
async function checkTeamAdmin(ctx: Context & { actor: NonNullable<Context['actor']> }, team: string) {
  const t = await ctx.repos.teams.resolve(team);
  if (ctx.actor.role === 'admin') return t;
  if ((await ctx.repos.teams.roleIn(t.id, ctx.actor.id)) === 'admin') return t;
  throw new DomainError('FORBIDDEN', `managing team ${t.name}'s members takes an admin of the team or of ctxlab`);
}

export const teamsRouter = router({
  list: viewerProcedure.query(({ ctx }) => ctx.repos.teams.list()),
  get: viewerProcedure.input(getInput).query(({ ctx, input }) => ctx.repos.teams.resolve(input.id).then((t) => ctx.repos.teams.get(t.id))),
  /** The caller's teams and their role in each. */
  mine: viewerProcedure.query(({ ctx }) => ctx.repos.teams.teamsOf(ctx.actor.id)),
  create: adminProcedure.input(teamCreateInput).mutation(({ ctx, input }) => ctx.repos.teams.create(input)),
  update: adminProcedure.input(teamUpdateInput).mutation(({ ctx, input }) => ctx.repos.teams.update(input.id, input)),
  setMember: viewerProcedure.input(teamMemberInput).mutation(async ({ ctx, input }) => ctx.repos.teams.setMember((await checkTeamAdmin(ctx, input.team)).id, input.userId, input.role)),
  removeMember: viewerProcedure.input(teamMemberRemoveInput).mutation(async ({ ctx, input }) => ctx.repos.teams.removeMember((await checkTeamAdmin(ctx, input.team)).id, input.userId)),
});
