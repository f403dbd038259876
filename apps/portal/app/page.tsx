import { DataTable, fmtInt, ProgressBar, StatusBadge } from '@ctxlab/ui';
import Link from 'next/link';
import { PageHead } from '../src/components/EntityList';
import { EvalRunsTable } from '../src/components/EvalRunsTable';
import { Panel } from '../src/components/Panel';
import { ScorecardTable } from '../src/components/Scorecard';
import { api } from '../src/server/api';

export const dynamic = 'force-dynamic';

export default async function Home() {
  const d = await (await api()).portal.dashboard();
  const c = d.counts;
  const stats = [
    ['/models', 'models', c.models], ['/adapters', 'adapters', c.adapters], ['/recipes', 'recipes', c.recipes], ['/datasets', 'datasets', c.datasets],
    ['/endpoints', 'endpoints', c.endpoints], ['/evals', 'eval runs', c.evalRuns], ['/jobs', 'jobs', c.jobs],
  ] as const;
  const running = (d.jobsByStatus.running ?? 0) + (d.jobsByStatus.retrying ?? 0);
  const queued = d.jobsByStatus.queued ?? 0;
  return (
    <>
      <PageHead
        title="Overview"
        sub="Models and their lineage, recipes, datasets, endpoints, evaluations and jobs of this lab."
        actions={<><Link className="btn" href="/evals/new">Start an eval</Link><Link className="btn secondary" href="/planner">Open the planner</Link></>}
      />
      <div className="stats">
        {stats.map(([href, label, n]) => (
          <Link key={href} href={href} className="stat">
            <div className="n">{fmtInt(n)}</div>
            <div className="l">{label}</div>
          </Link>
        ))}
      </div>
      <div className="cols">
        <Panel id="active-jobs" title="Jobs in flight" head={<span className="progress-line">{running} running · {queued} queued · {d.jobsByStatus.failed ?? 0} failed</span>}>
          <DataTable
            caption="Jobs in flight"
            rows={d.activeJobs}
            empty="Nothing is running. Start an eval to see it here."
            columns={[
              { header: 'Job', cell: (j) => <Link href={`/jobs/${j.id}`}>{j.evalRun?.name ?? j.kind}</Link> },
              { header: 'Status', cell: (j) => <StatusBadge status={j.status} /> },
              { header: 'Progress', cell: (j) => (j.progress.total ? <ProgressBar done={j.progress.done ?? 0} total={j.progress.total} failed={j.progress.failed ?? 0} label={`progress of ${j.evalRun?.name ?? j.id}`} /> : '—') },
            ]}
          />
        </Panel>
        <Panel id="recent-evals" title="Latest eval runs" head={<Link href="/evals">All runs →</Link>}>
          <EvalRunsTable caption="Latest eval runs" rows={d.recentEvals} empty="No eval runs yet." />
        </Panel>
      </div>
      <Panel id="scorecards-h" title="Newest scorecards" testId="newest-scorecards" head={<span className="progress-line">the models with the most recent finished evals, each against its lineage parent</span>}>
        {d.newestScorecards.length === 0 ? (
          <p className="empty">No finished evals yet.</p>
        ) : (
          d.newestScorecards.map((card) => (
            <div key={card.model.id} className="scorecard-compact" data-model={card.model.id}>
              <h3>
                <Link href={`/models/${card.model.id}`}>{card.model.name}</Link>
                <span className="progress-line">{card.against ? ` vs ${card.against.name}` : ' (no parent)'}</span>
              </h3>
              <ScorecardTable card={card} compact caption={`Scorecard of ${card.model.name}`} />
            </div>
          ))
        )}
        {d.newestScorecards[0] && <p className="panel-note">{d.newestScorecards[0].method.text}</p>}
      </Panel>
    </>
  );
}
