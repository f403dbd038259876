import Link from 'next/link';
import { api } from '../src/server/api';

export const dynamic = 'force-dynamic';

export default async function Home() {
  const a = api();
  const one = { limit: 1 } as const;
  const [models, adapters, recipes, datasets, endpoints, evals, jobs] = await Promise.all([
    a.models.list(one), a.adapters.list(one), a.recipes.list(one), a.datasets.list(one), a.endpoints.list(one), a.evals.list(one), a.jobs.list(one),
  ]);
  const stats = [
    ['/models', 'models', models.total], ['/adapters', 'adapters', adapters.total], ['/recipes', 'recipes', recipes.total],
    ['/datasets', 'datasets', datasets.total], ['/endpoints', 'endpoints', endpoints.total], ['/evals', 'eval runs', evals.total], ['/jobs', 'jobs', jobs.total],
  ] as const;
  return (
    <>
      <h1>ctxlab</h1>
      <p className="sub">Models and their lineage, recipes, datasets, endpoints, evaluations and jobs of this lab.</p>
      <div className="grid">
        {stats.map(([href, label, n]) => (
          <Link key={href} href={href} className="stat">
            <div className="n">{n.toLocaleString('en-US')}</div>
            <div className="l">{label}</div>
          </Link>
        ))}
      </div>
    </>
  );
}
