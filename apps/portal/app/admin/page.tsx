import { DataTable, fmtDate } from '@ctxlab/ui';
import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { AllowedHostsPanel, UsersPanel } from '../../src/components/AdminPanels';
import { hrefWith, listParams, PageHead, Pager, type SearchParams } from '../../src/components/EntityList';
import { TokenManager } from '../../src/components/TokenManager';
import { api, currentActor } from '../../src/server/api';

export const metadata: Metadata = { title: 'Admin' };
export const dynamic = 'force-dynamic';
const PER_PAGE = 50;

/** Users, every API token, the outbound allow-list and the audit log: admins only. */
export default async function AdminPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const me = await currentActor();
  if (me.role !== 'admin') notFound();
  const sp = await searchParams;
  const { offset } = listParams(sp, PER_PAGE);
  const action = typeof sp.action === 'string' ? sp.action : undefined;
  const a = await api();
  const [users, tokens, hosts, audit] = await Promise.all([a.users.list(), a.tokens.list({ all: true }), a.allowedHosts.list(), a.audit.list({ limit: PER_PAGE, offset, ...(action ? { action } : {}) })]);
  return (
    <>
      <PageHead title="Admin" sub="Who can sign in, with which role; every API token; where endpoints may point; who did what." />
      <section className="panel" aria-labelledby="users-h"><h2 id="users-h">Users</h2><UsersPanel users={users} meId={me.id} /></section>
      <section className="panel" aria-labelledby="tokens-h"><h2 id="tokens-h">API tokens</h2><TokenManager tokens={tokens} roles={['viewer', 'member', 'admin']} showOwner allowCreate={false} /></section>
      <section className="panel" aria-labelledby="hosts-h"><h2 id="hosts-h">Allowed internal hosts</h2><AllowedHostsPanel hosts={hosts} /></section>
      <section className="panel" aria-labelledby="audit-h">
        <div className="panel-head">
          <h2 id="audit-h">Audit log</h2>
          <form className="btn-group" action="/admin"><label htmlFor="audit-action" className="sr-only">Action starts with</label><input id="audit-action" name="action" defaultValue={action ?? ''} placeholder="jobs. / models.create" /><button className="btn small secondary" type="submit">Filter</button></form>
        </div>
        <DataTable
          caption="Audit log, newest first"
          dense
          rows={audit.items}
          empty="Nothing recorded yet."
          columns={[
            { header: 'When', cell: (e) => fmtDate(e.at) },
            { header: 'Who', cell: (e) => e.actorName },
            { header: 'Via', cell: (e) => e.via },
            { header: 'Action', cell: (e) => <code>{e.action}</code> },
            { header: 'Record', cell: (e) => <span className="mono">{e.entityId ?? ''}</span> },
            { header: 'Details', cell: (e) => <span className="mono">{e.detail ? JSON.stringify(e.detail).slice(0, 160) : ''}</span> },
          ]}
        />
        <Pager total={audit.total} at={offset} count={audit.items.length} limit={PER_PAGE} first={offset > 0 ? hrefWith('/admin', { action }) : null} next={offset + audit.items.length < audit.total ? hrefWith('/admin', { action, offset: offset + PER_PAGE }) : null} />
      </section>
    </>
  );
}
