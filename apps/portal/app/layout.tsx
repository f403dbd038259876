import type { Metadata } from 'next';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { NavLinks } from '../src/components/NavLinks';
import { UserMenu } from '../src/components/UserMenu';
import { maybeActor } from '../src/server/api';
import './globals.css';

export const metadata: Metadata = { title: { default: 'ctxlab', template: '%s · ctxlab' }, description: 'Long-context model lab: registry, planner, NIAH evals, GPU jobs' };

export default async function RootLayout({ children }: { children: ReactNode }) {
  const me = await maybeActor();
  return (
    <html lang="en">
      <body>
        <a href="#content" className="skip-link">Skip to content</a>
        <div className="shell">
          <nav className="nav" aria-label="Sections">
            <Link href="/" className="brand"><span className="brand-mark" aria-hidden="true">∞</span>ctxlab</Link>
            {me ? <NavLinks admin={me.role === 'admin'} /> : null}
            {me ? <UserMenu name={me.name} role={me.role} /> : null}
          </nav>
          <main id="content" tabIndex={-1}>{children}</main>
        </div>
      </body>
    </html>
  );
}
