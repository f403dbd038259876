'use client';

import { fmtDate } from '@ctxlab/ui';
import { useRouter } from 'next/navigation';
import { useId, useState, type FormEvent } from 'react';
import { browserApi, errorMessage, fieldErrors } from '../lib/client';
import { ErrorCallout, useAction } from './FormErrors';

interface User { id: string; email: string; name: string; role: string; disabledAt: Date | null; lastSignInAt: Date | null }

/** Accounts: create (a one-time password is shown once), change role, disable, reset the password. */
export function UsersPanel({ users, meId }: { users: User[]; meId: string }) {
  const uid = useId();
  const router = useRouter();
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState('member');
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const run = async (fn: () => Promise<unknown>) => {
    setError(null);
    setNotice(null);
    try {
      await fn();
      router.refresh();
    } catch (e) {
      setErrors(fieldErrors(e));
      setError(errorMessage(e));
    }
  };
  const create = (ev: FormEvent) => {
    ev.preventDefault();
    void run(async () => {
      const r = await browserApi().users.create.mutate({ email, name, role: role as 'member' });
      setNotice(`Created ${r.user.email}. One-time password (shown once): ${r.oneTimePassword ?? '(the one you set)'}`);
      setEmail('');
      setName('');
    });
  };
  return (
    <>
      <form onSubmit={create} aria-label="Create a user" noValidate>
        <div className="form-grid">
          <div className="field"><label htmlFor={`${uid}-e`}>Email</label><input id={`${uid}-e`} type="email" value={email} onChange={(e) => setEmail(e.target.value)} aria-invalid={Boolean(errors.email)} /></div>
          <div className="field"><label htmlFor={`${uid}-n`}>Name</label><input id={`${uid}-n`} value={name} onChange={(e) => setName(e.target.value)} aria-invalid={Boolean(errors.name)} /></div>
          <div className="field"><label htmlFor={`${uid}-r`}>Role</label><select id={`${uid}-r`} value={role} onChange={(e) => setRole(e.target.value)}><option>viewer</option><option>member</option><option>admin</option></select></div>
        </div>
        <div className="form-actions"><button type="submit" className="btn">Create user</button></div>
      </form>
      {notice && <div className="callout ok" role="status" data-testid="user-notice"><p>{notice}</p></div>}
      <ErrorCallout message={error} />
      <table className="data" aria-label="Users">
        <thead><tr><th>Name</th><th>Email</th><th>Role</th><th>Last sign-in</th><th>Status</th><th /></tr></thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id}>
              <th scope="row">{u.name}{u.id === meId ? ' (you)' : ''}</th>
              <td>{u.email}</td>
              <td>
                <select aria-label={`Role of ${u.email}`} value={u.role} onChange={(e) => void run(() => browserApi().users.update.mutate({ id: u.id, role: e.target.value as 'viewer' }))}>
                  <option>viewer</option><option>member</option><option>admin</option>
                </select>
              </td>
              <td>{u.lastSignInAt ? fmtDate(u.lastSignInAt) : 'never'}</td>
              <td>{u.disabledAt ? 'disabled' : 'active'}</td>
              <td className="btn-group">
                <button type="button" className="btn small secondary" onClick={() => void run(() => browserApi().users.update.mutate({ id: u.id, disabled: !u.disabledAt }))}>{u.disabledAt ? 'Enable' : 'Disable'}</button>
                <button type="button" className="btn small secondary" onClick={() => void run(async () => setNotice(`New one-time password for ${u.email} (shown once): ${(await browserApi().users.resetPassword.mutate({ id: u.id })).oneTimePassword}`))}>Reset password</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** Internal hosts endpoints may point at (a GPU box on the lab network, the local model server). */
export function AllowedHostsPanel({ hosts }: { hosts: { host: string; note: string | null; createdBy: string; createdAt: Date }[] }) {
  const uid = useId();
  const router = useRouter();
  const [host, setHost] = useState('');
  const [note, setNote] = useState('');
  const { error, setError, run } = useAction();
  const add = async (ev: FormEvent) => {
    ev.preventDefault();
    await run(async () => {
      await browserApi().allowedHosts.add.mutate({ host, ...(note ? { note } : {}) });
      setHost('');
      setNote('');
      router.refresh();
    });
  };
  return (
    <>
      <form onSubmit={add} aria-label="Allow a host" noValidate>
        <div className="form-grid">
          <div className="field"><label htmlFor={`${uid}-h`}>Host, address or CIDR</label><input id={`${uid}-h`} value={host} onChange={(e) => setHost(e.target.value)} placeholder="gpu-box.lab.internal:8000 or 10.0.0.0/8:8000-8100" title="Add :PORT or :FIRST-LAST to open only those ports; without one, every port of the host is open (Redis and PostgreSQL on it too)." /></div>
          <div className="field"><label htmlFor={`${uid}-n`}>Why</label><input id={`${uid}-n`} value={note} onChange={(e) => setNote(e.target.value)} /></div>
        </div>
        <div className="form-actions"><button type="submit" className="btn">Allow</button></div>
      </form>
      <ErrorCallout message={error} />
      <table className="data" aria-label="Allowed hosts">
        <thead><tr><th>Host</th><th>Why</th><th>By</th><th>Since</th><th /></tr></thead>
        <tbody>
          {hosts.length === 0 && <tr><td colSpan={5} className="empty">None: endpoints may only point at public addresses.</td></tr>}
          {hosts.map((h) => (
            <tr key={h.host}>
              <th scope="row" className="mono">{h.host}</th><td>{h.note ?? ''}</td><td>{h.createdBy}</td><td>{fmtDate(h.createdAt)}</td>
              <td><button type="button" className="btn small danger" onClick={async () => { await browserApi().allowedHosts.remove.mutate({ host: h.host }).catch((e) => setError(errorMessage(e))); router.refresh(); }}>Remove</button></td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
