'use client';

import Link from 'next/link';
import { useState } from 'react';

/** Who is signed in, their role, and Sign out (ends the session server-side). */
export function UserMenu({ name, role }: { name: string; role: string }) {
  const [busy, setBusy] = useState(false);
  const signOut = async () => {
    setBusy(true);
    await fetch('/api/auth/sign-out', { method: 'POST' }).catch(() => undefined);
    window.location.assign('/sign-in');
  };
  return (
    <div className="user-menu" data-testid="user-menu">
      <div className="user-name">{name}</div>
      <div className="user-role">{role}</div>
      <div className="btn-group">
        <Link className="btn small secondary" href="/account">Account</Link>
        <button type="button" className="btn small secondary" onClick={signOut} disabled={busy}>{busy ? 'Signing out…' : 'Sign out'}</button>
      </div>
    </div>
  );
}
