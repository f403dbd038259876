import { contextLabel, DataTable, fmtBytes, fmtDate, fmtInt, KeyValues, LineageGraph, StatusBadge, Tags } from '@ctxlab/ui';
import { isLabModel } from '@ctxlab/contracts';
import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { cache } from 'react';
import { CostJobsTable, CostStats } from '../../../src/components/CostTables';
import { PageHead } from '../../../src/components/EntityList';
import { Panel } from '../../../src/components/Panel';
import { EvalRunsTable } from '../../../src/components/EvalRunsTable';
import { ScorecardTable } from '../../../src/components/Scorecard';
import { ServeModelForm } from '../../../src/components/ServeModelForm';
import { api, loadOr404 } from '../../../src/server/api';
import { endpointStatusBadge } from '../../../src/lib/endpoint-status';

export const dynamic = 'force-dynamic';

/** The model, read once per request for both the title and the page. */
const loadModel = cache(async (id: string) => loadOr404(async () => (await api()).models.get({ id })));

export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  const m = await loadModel((await params).id);
  return { title: m?.name ?? 'Model' };
}

export default async function ModelPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ against?: string | string[] }> }) {
  const { id } = await params;
  const picked = (await searchParams).against;
  const againstId = typeof picked === 'string' && picked && picked !== id ? picked : undefined;
  const m = await loadModel(id);
  if (!m) notFound();
  const a = await api();
  const [lineage, adapters, endpoints, runs, gpus, card, others, cost] = await Promise.all([
    a.models.lineage({ modelId: id }),
    a.adapters.list({ modelId: id, limit: 50 }),
    a.endpoints.list({ modelId: id, limit: 20 }),
    a.portal.evalRuns({ modelId: id, limit: 10 }),
    a.planner.gpus(),
    loadOr404(() => a.models.scorecard({ modelId: id, againstId })).then((c) => c ?? a.models.scorecard({ modelId: id })),
    a.models.list({ limit: 200, sort: { field: 'name', dir: 'asc' } }),
    a.costs.model({ modelId: id }),
  ]);
  const names = new Map(lineage.nodes.map((n) => [n.id, n.name]));
  const d = m.derived;
  return (
    <>
      <PageHead
        crumbs={[['/models', 'Models']]}
        title={m.name}
        sub={<>{m.description ?? ''} <Tags tags={m.tags} /></>}
        actions={
          <span className="btn-group">
            {endpoints.items[0] && <Link className="btn" href={`/evals/new?endpoint=${encodeURIComponent(endpoints.items[0].id)}`}>Evaluate</Link>}
            <Link className="btn secondary" href={`/planner?model=${encodeURIComponent(m.id)}`}>Plan with this model</Link>
            <Link className="btn secondary" href={`/models/${encodeURIComponent(m.id)}/card`}>Model card</Link>
          </span>
        }
      />
      <ServeModelForm modelId={m.id} modelName={m.name} isLab={isLabModel(m)} maxPositions={m.maxPositionEmbeddings} hasWeights={Boolean(m.sourceUri)} gpus={gpus.map((g) => ({ id: g.id, name: g.name }))} />
      <div className="stats">
        <div className="stat"><div className="n">{contextLabel(m.maxPositionEmbeddings)}</div><div className="l">max positions ({fmtInt(m.maxPositionEmbeddings)})</div></div>
        <div className="stat"><div className="n">{contextLabel(d.longestContextForTheta)}</div><div className="l">context its θ supports</div></div>
        <div className="stat"><div className="n">{(d.parameters / 1e9).toFixed(2)}<small> B</small></div><div className="l">parameters</div></div>
        <div className="stat"><div className="n">{fmtInt(d.kvBytesPerToken.bf16 / 1024)}<small> KiB</small></div><div className="l">KV cache per token (bf16)</div></div>
      </div>
      <Panel id="lineage" title="Lineage" head={<span className="progress-line">{lineage.nodes.length - 1} related models · ancestors above, descendants below · click a model to open it</span>}>
        {lineage.edges.length === 0 ? (
          <p className="empty">No recorded parents or children. Lineage edges are added with <code>models.addLineage</code> or by training, extraction and merge jobs.</p>
        ) : (
          <>
            <div className="lineage-scroll">
              <LineageGraph graph={lineage} modelHref={(x) => `/models/${x}`} jobHref={(j) => `/jobs/${j}`} />
            </div>
            <details style={{ marginTop: 12 }}>
              <summary>Edges as a table</summary>
              <DataTable
                caption="Lineage edges"
                dense
                rows={lineage.edges}
                columns={[
                  { header: 'Parent', cell: (e) => <Link href={`/models/${e.parentId}`}>{names.get(e.parentId) ?? e.parentId}</Link> },
                  { header: 'Kind', cell: (e) => e.kind },
                  { header: 'Child', cell: (e) => <Link href={`/models/${e.childId}`}>{names.get(e.childId) ?? e.childId}</Link> },
                  { header: 'Produced by', cell: (e) => (e.jobId ? <Link href={`/jobs/${e.jobId}`}>job {e.jobId}</Link> : '—') },
                ]}
              />
            </details>
          </>
        )}
      </Panel>
      <Panel id="cost-h" title="Cost" testId="model-cost" head={<span className="progress-line">what the jobs that made it took: its training stages, and the extraction and merge behind it</span>}>
        {cost.jobs.length === 0 ? (
          <p className="empty" role="status">No job of ctxlab made this model, so it has no recorded cost (imported and seeded models were made elsewhere).</p>
        ) : (
          <>
            <CostStats sum={cost.total} testId="model-cost-total" />
            <CostJobsTable rows={cost.jobs} caption={`Jobs in ${m.name}'s lineage and what each took`} empty="" />
          </>
        )}
      </Panel>
      <Panel
        id="scorecard-h"
        title="Scorecard"
        testId="scorecard"
        head={
          <form method="get" className="btn-group" aria-label="Compare against">
            <label htmlFor="against" className="progress-line">Compare against</label>
            <select id="against" name="against" defaultValue={card.against?.id ?? ''}>
              <option value="">{card.againstSource === 'picked' ? 'the lineage parent' : card.against ? `${card.against.name} (parent)` : 'no parent — pick a model'}</option>
              {others.items.filter((o) => o.id !== id).map((o) => <option key={o.id} value={o.id}>{o.name}</option>)}
            </select>
            <button type="submit" className="btn secondary small">Compare</button>
          </form>
        }
      >
        <p className="panel-note" style={{ marginTop: 0, marginBottom: 10 }}>
          {card.against ? <>Against <Link href={`/models/${card.against.id}`}>{card.against.name}</Link> ({card.againstSource === 'parent' ? 'its lineage parent' : 'picked'}); </> : 'No comparison model (no lineage parent); '}
          the newest finished run of each suite (NIAH: of each grid) of both models.
        </p>
        <ScorecardTable card={card} />
        <p className="panel-note" data-testid="scorecard-method">{card.method.text}</p>
      </Panel>
      <div className="cols">
        <Panel id="config" title="Config">
          <KeyValues
            items={[
              ['origin', m.origin], ['family', m.family], ['architecture', m.architecture], ['layers', m.numLayers], ['hidden size', fmtInt(m.hiddenSize)],
              ['attention heads', m.numAttentionHeads], ['KV heads', m.numKeyValueHeads], ['head dim', m.headDim],
              ['intermediate size', fmtInt(m.intermediateSize)], ['vocabulary', fmtInt(m.vocabSize)], ['RoPE θ', fmtInt(m.ropeTheta)],
              ['RoPE scaling', m.ropeScaling ? <code key="rs">{JSON.stringify(m.ropeScaling)}</code> : 'none'], ['max positions', fmtInt(m.maxPositionEmbeddings)],
              ['tied embeddings', m.tieWordEmbeddings ? 'yes' : 'no'], ['tokenizer', m.tokenizer.startsWith('hf:') ? 'imported tokenizer.json' : m.tokenizer], ['dtype', m.dtype], ['license', m.license], ['source', m.sourceUri], ['created', fmtDate(m.createdAt)],
            ]}
          />
        </Panel>
        <Panel id="facts" title="Planner facts">
          <KeyValues
            items={[
              ['parameters', fmtInt(d.parameters)],
              ['weights', `${fmtBytes(d.weightBytes)} (${m.dtype})`],
              ['KV cache per token', `${fmtInt(d.kvBytesPerToken.bf16)} B bf16 · ${fmtInt(d.kvBytesPerToken.fp8)} B fp8`],
              ['KV cache at max positions', `${fmtBytes(d.kvBytesPerToken.bf16 * m.maxPositionEmbeddings)} bf16 per sequence`],
              ['longest context its θ supports', `${fmtInt(d.longestContextForTheta)} tokens`],
              ['measured against', `${d.pretrainedFrom.name} (θ ${fmtInt(d.pretrainedFrom.ropeTheta)} at ${fmtInt(d.pretrainedFrom.maxPositionEmbeddings)} tokens), critical-dimension rule`],
            ]}
          />
          {d.longestContextForTheta < m.maxPositionEmbeddings && (
            <p className="callout warn" style={{ marginTop: 12 }}>
              max_position_embeddings ({fmtInt(m.maxPositionEmbeddings)}) is beyond what RoPE θ {fmtInt(m.ropeTheta)} supports under the critical-dimension rule ({fmtInt(d.longestContextForTheta)}).
            </p>
          )}
        </Panel>
      </div>
      <div className="cols">
        <Panel id="adapters" title="Adapters">
          <DataTable
            caption="Adapters of this model"
            rows={adapters.items}
            empty="No adapters on or from this model."
            columns={[
              { header: 'Adapter', cell: (x) => <Link href={`/adapters/${x.id}`}>{x.name}</Link> },
              { header: 'Rank', numeric: true, cell: (x) => x.rank },
              { header: 'Relation', cell: (x) => (x.baseModelId === id ? 'on this base' : 'extracted from this model') },
            ]}
          />
        </Panel>
        <Panel id="served" title="Served by">
          <DataTable
            caption="Endpoints serving this model"
            rows={endpoints.items}
            empty={<>No endpoint serves it. <Link href="/endpoints">Register one</Link>.</>}
            columns={[
              { header: 'Endpoint', cell: (x) => <Link href={`/endpoints/${x.id}`}>{x.name}</Link> },
              { header: 'URL', cell: (x) => <span className="mono">{x.url}</span> },
              { header: 'Status', cell: (x) => (x.lastStatus ? <span title={x.lastStatus}><StatusBadge status={endpointStatusBadge(x.lastStatus)} /></span> : 'never checked') },
              { header: '', cell: (x) => <Link className="btn small secondary" href={`/evals/new?endpoint=${encodeURIComponent(x.id)}`} aria-label={`Evaluate ${x.name}`}>Evaluate</Link> },
            ]}
          />
        </Panel>
      </div>
      <Panel id="runs" title="Eval runs" head={runs.total > runs.items.length && <Link href={`/evals?model=${m.id}`}>All {runs.total} →</Link>}>
        <EvalRunsTable caption="Eval runs of this model" rows={runs.items} empty={<>No eval runs yet. <Link href="/evals/new">Start one</Link>.</>} cells />
      </Panel>
    </>
  );
}
