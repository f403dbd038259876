import { DataTable, fmtDate, fmtInt, fmtNum } from '@ctxlab/ui';
import type { Metadata } from 'next';
import Link from 'next/link';
import { PageHead } from '../../src/components/EntityList';
import { Panel } from '../../src/components/Panel';
import { AddMemberForm, CreateTeamForm, MemberControls, TeamWeightForm } from '../../src/components/TeamsAdmin';
import { fmtGpuHours } from '../../src/lib/costs';
import { api, currentActor } from '../../src/server/api';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Teams' };

/** Teams: their fair-share weights, members and quotas; admins create teams, and admins of ctxlab or of a team manage its members. */
export default async function TeamsPage() {
  const me = await currentActor();
  const admin = me.role === 'admin';
  const a = await api();
  const [list, mine, users] = await Promise.all([a.teams.list(), a.teams.mine(), admin ? a.users.list() : Promise.resolve(null)]);
  const teams = await Promise.all(list.map((t) => a.teams.get({ id: t.id })));
  const myRole = new Map(mine.map((m) => [m.team.id, m.role]));
  const totalWeight = list.reduce((s, t) => s + t.weight, 0);
  return (
    <>
      <PageHead
        title="Teams"
        sub={<>Jobs are charged to a team. When teams wait for the same GPUs, each gets a share in proportion to its weight; quotas cap what a team may use. <Link href="/scheduler">GPU queue</Link> · <Link href="/costs">Costs</Link></>}
      />
      {admin && (
        <Panel id="team-new-h" title="Create a team">
          <CreateTeamForm />
        </Panel>
      )}
      <Panel id="teams-h" title="All teams" testId="teams-list">
        <DataTable
          caption="Teams with their weight, share of the GPUs when all wait, members, jobs and quotas"
          rows={list}
          empty={admin ? 'No teams yet: create one above.' : 'No teams yet: an admin creates them.'}
          columns={[
            { header: 'Team', rowHeader: true, cell: (t) => <a href={`#team-${t.id}`}>{t.name}</a> },
            { header: 'Weight', numeric: true, cell: (t) => fmtNum(t.weight, t.weight % 1 === 0 ? 0 : 2) },
            { header: 'Share when all wait', numeric: true, cell: (t) => (totalWeight > 0 ? `${((t.weight / totalWeight) * 100).toFixed(0)}%` : '—') },
            { header: 'Members', numeric: true, cell: (t) => fmtInt(t._count.members) },
            { header: 'Jobs', numeric: true, cell: (t) => fmtInt(t._count.jobs) },
            { header: 'Quotas', cell: (t) => (t.quotas.length ? t.quotas.map((q) => `${q.gpuType}: ${[q.gpuHours === null ? null : `${fmtGpuHours(q.gpuHours)} GPU-h/${q.period}`, q.maxGpus === null ? null : `≤ ${q.maxGpus} at once`].filter(Boolean).join(', ')}`).join(' · ') : <span className="muted">none</span>) },
            { header: 'You', cell: (t) => myRole.get(t.id) ?? <span className="muted">not in it</span> },
          ]}
        />
      </Panel>
      {teams.map((t) => {
        const manage = admin || myRole.get(t.id) === 'admin';
        const team = { id: t.id, name: t.name };
        return (
          <Panel key={t.id} id={`team-${t.id}`} title={`Team ${t.name}`} testId={`team-${t.name}`} head={admin ? <TeamWeightForm teamId={t.id} teamName={t.name} weight={t.weight} /> : <span className="progress-line">weight {fmtNum(t.weight, t.weight % 1 === 0 ? 0 : 2)}</span>}>
            {t.description && <p className="panel-note" style={{ marginTop: 0 }}>{t.description}</p>}
            <DataTable
              caption={`Members of ${t.name}`}
              dense
              rows={t.members}
              rowKey={(m) => m.userId}
              empty="No members yet."
              columns={[
                { header: 'Name', rowHeader: true, cell: (m) => <>{m.user.name}{m.userId === me.id ? ' (you)' : ''}</> },
                { header: 'Email', cell: (m) => m.user.email },
                { header: 'Role', cell: (m) => (manage ? <MemberControls team={team} member={{ userId: m.userId, name: m.user.name, role: m.role }} /> : m.role) },
                { header: 'Since', cell: (m) => fmtDate(m.createdAt) },
              ]}
            />
            {manage && <AddMemberForm team={team} users={users ? users.filter((u) => !u.disabledAt).map((u) => ({ id: u.id, name: u.name, email: u.email })) : null} />}
          </Panel>
        );
      })}
    </>
  );
}
