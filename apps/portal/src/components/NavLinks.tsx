'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';

const groups = [
  ['Registry', [['/models', 'Models'], ['/adapters', 'Adapters'], ['/recipes', 'Recipes'], ['/datasets', 'Datasets'], ['/endpoints', 'Endpoints']]],
  ['Plan', [['/planner', 'Planner']]],
  ['Run', [['/evals', 'Evals'], ['/evals/new', 'Start an eval'], ['/jobs', 'Jobs']]],
  ['Compute', [['/scheduler', 'GPU queue'], ['/costs', 'Costs'], ['/teams', 'Teams']]],
] as const;

/** The section links; the current one is marked for screen readers (aria-current) and by style. */
export function NavLinks({ admin = false }: { admin?: boolean }) {
  const path = usePathname() ?? '/';
  const current = (href: string) => path === href || (path.startsWith(`${href}/`) && !(href === '/evals' && path.startsWith('/evals/new')));
  return (
    <>
      <Link href="/" className="nav-link" aria-current={path === '/' ? 'page' : undefined}>Overview</Link>
      {groups.map(([group, links]) => (
        <div key={group}>
          <div className="nav-group">{group}</div>
          {links.map(([href, label]) => (
            <Link key={href} href={href} className="nav-link" aria-current={current(href) ? 'page' : undefined}>{label}</Link>
          ))}
        </div>
      ))}
      {admin && (
        <div>
          <div className="nav-group">Team</div>
          <Link href="/admin" className="nav-link" aria-current={current('/admin') ? 'page' : undefined}>Admin</Link>
        </div>
      )}
    </>
  );
}
