import { DataTable, fmtDate, fmtInt, ProgressBar, StatusBadge } from '@ctxlab/ui';
import type { Metadata } from 'next';
import Link from 'next/link';
import { cursorLinks, FilterForm, FilterSelect, listParams, one, PageHead, Pager, SearchField, type SearchParams } from '../../src/components/EntityList';
import { ScoreChip } from '../../src/components/ScoreChip';
import { api } from '../../src/server/api';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Evals' };

const STATUSES = ['pending', 'running', 'succeeded', 'failed', 'cancelled'] as const;

export default async function EvalsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const sp = await searchParams;
  const p = listParams(sp);
  const statusRaw = one(sp.status);
  const status = (STATUSES as readonly string[]).includes(statusRaw ?? '') ? (statusRaw as (typeof STATUSES)[number]) : undefined;
  const modelId = one(sp.model) || undefined;
  const compareWith = one(sp.compareWith) || undefined;
  const page = await (await api()).portal.evalRuns({ limit: p.limit, offset: p.offset, cursor: p.cursor, search: p.search, status, modelId });
  const filters = { q: p.search, status, model: modelId, compareWith };
  const filtered = Boolean(p.search || status || modelId);
  return (
    <>
      <PageHead
        title="Evals"
        sub="Needle-in-a-haystack sweeps of models behind endpoints. Tick 2–4 runs to compare them on one grid."
        actions={<Link className="btn" href="/evals/new">Start an eval</Link>}
      />
      <FilterForm action="/evals" label="Filter eval runs" filtered={filtered}>
        <SearchField label="Search" placeholder="run name…" search={p.search} minWidth={240} />
        <FilterSelect name="status" label="Status" value={status} choices={STATUSES.map((s) => [s, s] as const)} />
        {modelId && <input type="hidden" name="model" value={modelId} />}
        {compareWith && <input type="hidden" name="compareWith" value={compareWith} />}
      </FilterForm>
      {compareWith && (
        <div className="callout info" role="status"><p>Tick one to three more runs and press “Compare selected”.{page.items.some((r) => r.id === compareWith) ? '' : ' (The run you started from is on another page; it is included.)'}</p></div>
      )}
      <form className="panel" action="/evals/compare" method="get" aria-label="Eval runs">
        {compareWith && !page.items.some((r) => r.id === compareWith) && <input type="hidden" name="ids" value={compareWith} />}
        <div className="panel-head">
          <h2>{fmtInt(page.total)} runs</h2>
          <button type="submit" className="btn secondary small" data-testid="compare-selected">Compare selected</button>
        </div>
        <DataTable
          caption="Eval runs, newest first"
          rows={page.items}
          empty={filtered ? <>No run matches. <Link href="/evals">Show all runs</Link></> : <>No eval runs yet. <Link href="/evals/new">Start the first one</Link>.</>}
          columns={[
            { id: 'pick', header: <span className="sr-only">Compare</span>, cell: (r) => <input type="checkbox" name="ids" value={r.id} aria-label={`Compare ${r.name}`} defaultChecked={r.id === compareWith} /> },
            { header: 'Run', rowHeader: true, cell: (r) => <Link href={`/evals/${r.id}`}>{r.name}</Link> },
            { header: 'Status', cell: (r) => <StatusBadge status={r.status} /> },
            { header: 'Model', cell: (r) => (r.model ? <Link href={`/models/${r.model.id}`}>{r.model.name}</Link> : '—') },
            { header: 'Endpoint', cell: (r) => (r.endpoint ? <Link href={`/endpoints/${r.endpoint.id}`}>{r.endpoint.name}</Link> : '—') },
            {
              header: 'Cells', numeric: true,
              cell: (r) => (r.status === 'running' || r.status === 'pending'
                ? <div style={{ minWidth: 110 }}><ProgressBar done={r.cellsDone} total={r.cellsTotal} failed={r.failed} label={`progress of ${r.name}`} /><span className="progress-line">{fmtInt(r.cellsDone)} / {fmtInt(r.cellsTotal)}</span></div>
                : `${fmtInt(r.cellsDone)} / ${fmtInt(r.cellsTotal)}`),
            },
            { header: 'Avg score', numeric: true, cell: (r) => <ScoreChip score={r.averageScore} /> },
            { header: 'Created', cell: (r) => fmtDate(r.createdAt) },
          ]}
        />
        <Pager total={page.total} at={p.at} count={page.items.length} limit={p.limit} {...cursorLinks('/evals', filters, p, page)} />
      </form>
    </>
  );
}
