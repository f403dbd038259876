import { fmtDate, fmtInt, KeyValues, StatusBadge, Tags } from '@ctxlab/ui';
import Link from 'next/link';
import { EndpointHealth } from '../../../src/components/EndpointHealth';
import { PageHead } from '../../../src/components/EntityList';
import { EvalRunsTable } from '../../../src/components/EvalRunsTable';
import { loadOr404 } from '../../../src/server/api';
import { recordOr404 } from '../../../src/server/detail';
import { endpointStatusBadge } from '../../../src/lib/endpoint-status';

export const dynamic = 'force-dynamic';

export default async function EndpointPage({ params }: { params: Promise<{ id: string }> }) {
  const { id, a, record: e } = await recordOr404(params, (a, id) => a.endpoints.get({ id }));
  const base = e.url.replace(/\/+$/, '');
  const [model, runs] = await Promise.all([e.modelId ? loadOr404(() => a.models.get({ id: e.modelId! })) : null, a.portal.evalRuns({ endpointId: id, limit: 10 })]);
  return (
    <>
      <PageHead
        crumbs={[['/endpoints', 'Endpoints']]}
        title={e.name}
        sub={<><Tags tags={e.tags} /></>}
        actions={<Link className="btn" href={`/evals/new?endpoint=${e.id}`}>Start an eval here</Link>}
      />
      <div className="cols">
        <section className="panel" aria-labelledby="ep-h">
          <h2 id="ep-h">Endpoint</h2>
          <KeyValues
            items={[
              ['URL', <span key="u" className="mono">{e.url}</span>], ['kind', e.kind], ['served model name', <code key="s">{e.servedModelName}</code>],
              ['registry model', model ? <Link key="m" href={`/models/${model.id}`}>{model.name}</Link> : '—'],
              ['max model len', fmtInt(e.maxModelLen)], ['last status', e.lastStatus ? <StatusBadge key="st" status={endpointStatusBadge(e.lastStatus)} /> : 'never checked'],
              ['last checked', fmtDate(e.lastCheckedAt)], ['created', fmtDate(e.createdAt)],
            ]}
          />
        </section>
        <section className="panel" aria-labelledby="h-h">
          <h2 id="h-h">Health</h2>
          <p className="result-sub" style={{ marginTop: 0 }}>Asks <code>{base}{/\/v1$/.test(base) ? '' : '/v1'}/models</code> with a 3-second timeout.</p>
          <EndpointHealth id={e.id} />
        </section>
      </div>
      <section className="panel" aria-labelledby="r-h">
        <h2 id="r-h">Eval runs against it</h2>
        <EvalRunsTable caption="Eval runs against this endpoint" rows={runs.items} empty="None yet." />
      </section>
    </>
  );
}
