import type { Metadata } from 'next';
import Link from 'next/link';
import type { ReactNode } from 'react';
import './globals.css';

export const metadata: Metadata = { title: 'ctxlab', description: 'Long-context model lab: registry, planner, NIAH evals, GPU jobs' };

const sections = [
  ['/models', 'Models'],
  ['/adapters', 'Adapters'],
  ['/recipes', 'Recipes'],
  ['/datasets', 'Datasets'],
  ['/endpoints', 'Endpoints'],
  ['/evals', 'Evals'],
  ['/jobs', 'Jobs'],
] as const;

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <div className="shell">
          <nav className="nav" aria-label="Sections">
            <Link href="/" className="brand">ctxlab</Link>
            {sections.map(([href, label]) => (
              <Link key={href} href={href}>{label}</Link>
            ))}
          </nav>
          <main>{children}</main>
        </div>
      </body>
    </html>
  );
}
