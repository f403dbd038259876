import type { Metadata } from 'next';
import { PageHead } from '../../src/components/EntityList';
import { PasswordForm } from '../../src/components/PasswordForm';
import { TokenManager } from '../../src/components/TokenManager';
import { api, currentActor } from '../../src/server/api';

export const metadata: Metadata = { title: 'Account' };
export const dynamic = 'force-dynamic';

const ROLES = ['viewer', 'member', 'admin'];

export default async function AccountPage() {
  const me = await currentActor();
  const tokens = await (await api()).tokens.list({ all: false });
  return (
    <>
      <PageHead title="Your account" sub={<>{me.name} · {me.role}</>} />
      <section className="panel" aria-labelledby="tok-h">
        <h2 id="tok-h">API tokens</h2>
        <p className="panel-note">For scripts and the <code>ctxlab</code> CLI: <code>CTXLAB_URL=… CTXLAB_TOKEN=ctx_tok_… npx ctxlab …</code>. A token acts with at most your role.</p>
        <TokenManager tokens={tokens} roles={ROLES.slice(0, ROLES.indexOf(me.role) + 1)} />
      </section>
      <section className="panel" aria-labelledby="pw-h">
        <h2 id="pw-h">Password</h2>
        <PasswordForm />
      </section>
    </>
  );
}
