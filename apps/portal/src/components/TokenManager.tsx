'use client';

import { fmtDate } from '@ctxlab/ui';
import { useRouter } from 'next/navigation';
import { useId, useState, type FormEvent } from 'react';
import { browserApi, errorMessage } from '../lib/client';
import { ErrorCallout, useAction } from './FormErrors';

export interface TokenRow { id: string; name: string; role: string; prefix: string; lastUsedAt: Date | null; expiresAt: Date | null; revokedAt: Date | null; createdAt: Date; user?: { name: string; email: string } }

/** API tokens for scripts: create (the secret is shown once), list, revoke. */
export function TokenManager({ tokens, roles, showOwner = false, allowCreate = true }: { tokens: TokenRow[]; roles: string[]; showOwner?: boolean; allowCreate?: boolean }) {
  const uid = useId();
  const router = useRouter();
  const [name, setName] = useState('');
  const [role, setRole] = useState(roles[roles.length - 1] ?? 'viewer');
  const [days, setDays] = useState('90');
  const [secret, setSecret] = useState<string | null>(null);
  const { error, setError, busy, run } = useAction();
  const create = async (ev: FormEvent) => {
    ev.preventDefault();
    await run(async () => {
      setSecret(null);
      const r = await browserApi().tokens.create.mutate({ name, role: role as 'viewer', ...(days ? { expiresInDays: Number(days) } : {}) });
      setSecret(r.token);
      setName('');
      router.refresh();
    });
  };
  const revoke = async (id: string) => {
    if (!window.confirm('Revoke this token? Scripts using it stop working on their next call.')) return;
    try {
      await browserApi().tokens.revoke.mutate({ id });
      router.refresh();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <>
      {allowCreate && (
        <form onSubmit={create} aria-label="Create an API token" noValidate>
          <div className="form-grid">
            <div className="field"><label htmlFor={`${uid}-n`}>Token name</label><input id={`${uid}-n`} value={name} onChange={(e) => setName(e.target.value)} placeholder="nightly NIAH sweeps" /></div>
            <div className="field"><label htmlFor={`${uid}-r`}>Role</label><select id={`${uid}-r`} value={role} onChange={(e) => setRole(e.target.value)}>{roles.map((r) => <option key={r} value={r}>{r}</option>)}</select></div>
            <div className="field"><label htmlFor={`${uid}-d`}>Expires after (days)</label><input id={`${uid}-d`} type="number" min={1} value={days} onChange={(e) => setDays(e.target.value)} placeholder="never" /></div>
          </div>
          <div className="form-actions"><button type="submit" className="btn" disabled={busy}>{busy ? 'Creating…' : 'Create token'}</button></div>
        </form>
      )}
      {secret && (
        <div className="callout ok" role="status" data-testid="new-token">
          <p>Copy it now — it is not shown again. Scripts send it as <code>CTXLAB_TOKEN</code> (Authorization: Bearer).</p>
          <p><code className="mono">{secret}</code></p>
        </div>
      )}
      <ErrorCallout message={error} />
      <table className="data" aria-label="API tokens">
        <thead><tr><th>Name</th>{showOwner && <th>Owner</th>}<th>Role</th><th>Prefix</th><th>Last used</th><th>Expires</th><th>Status</th><th /></tr></thead>
        <tbody>
          {tokens.length === 0 && <tr><td colSpan={showOwner ? 8 : 7} className="empty">No tokens.</td></tr>}
          {tokens.map((t) => (
            <tr key={t.id}>
              <th scope="row">{t.name}</th>
              {showOwner && <td>{t.user ? `${t.user.name} (${t.user.email})` : ''}</td>}
              <td>{t.role}</td>
              <td className="mono">{t.prefix}…</td>
              <td>{t.lastUsedAt ? fmtDate(t.lastUsedAt) : 'never'}</td>
              <td>{t.expiresAt ? fmtDate(t.expiresAt) : 'never'}</td>
              <td>{t.revokedAt ? `revoked ${fmtDate(t.revokedAt)}` : 'active'}</td>
              <td>{!t.revokedAt && <button type="button" className="btn small danger" onClick={() => revoke(t.id)} aria-label={`Revoke token ${t.name}`}>Revoke</button>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
