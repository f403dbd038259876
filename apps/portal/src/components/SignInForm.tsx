'use client';

import { useId, useState, type FormEvent } from 'react';
import { ErrorCallout, useAction } from './FormErrors';

/** Email and password to /api/auth/sign-in, which sets the http-only session cookie. */
export function SignInForm({ next }: { next: string }) {
  const uid = useId();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { error, setError, busy, setBusy, run } = useAction();
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    await run(async () => {
      const r = await fetch('/api/auth/sign-in', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
      if (!r.ok) {
        setError(((await r.json().catch(() => null)) as { error?: string } | null)?.error ?? `sign-in failed (HTTP ${r.status})`);
        setBusy(false);
        return;
      }
      window.location.assign(next);
    }, { stay: true, failure: () => 'The portal could not be reached. Check your connection and try again.' });
  };
  return (
    <form onSubmit={submit} aria-label="Sign in" noValidate>
      <div className="field"><label htmlFor={`${uid}-email`}>Email</label><input id={`${uid}-email`} type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} required /></div>
      <div className="field"><label htmlFor={`${uid}-pw`}>Password</label><input id={`${uid}-pw`} type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required /></div>
      <ErrorCallout message={error} />
      <div className="form-actions"><button type="submit" className="btn" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button></div>
    </form>
  );
}
