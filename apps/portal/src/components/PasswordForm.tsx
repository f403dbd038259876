'use client';

import { useId, useState, type FormEvent } from 'react';
import { browserApi } from '../lib/client';
import { ErrorCallout, useAction } from './FormErrors';

/** Change your password (at least 12 characters); every session of the account ends. */
export function PasswordForm() {
  const uid = useId();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const { error, run } = useAction();
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    await run(async () => {
      await browserApi().auth.changePassword.mutate({ currentPassword: current, newPassword: next });
      window.location.assign('/sign-in');
    });
  };
  return (
    <form onSubmit={submit} aria-label="Change password" noValidate>
      <div className="form-grid">
        <div className="field"><label htmlFor={`${uid}-c`}>Current password</label><input id={`${uid}-c`} type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} /></div>
        <div className="field"><label htmlFor={`${uid}-n`}>New password (12+ characters)</label><input id={`${uid}-n`} type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} /></div>
      </div>
      <ErrorCallout message={error} />
      <div className="form-actions"><button type="submit" className="btn">Change password</button></div>
    </form>
  );
}
