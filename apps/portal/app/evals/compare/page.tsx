import { DataTable, EmptyState, ErrorState, fmtInt, LineChart, StatusBadge } from '@ctxlab/ui';
import type { Metadata } from 'next';
import Link from 'next/link';
import { many, one, PageHead, type SearchParams } from '../../../src/components/EntityList';
import { CompareView } from '../../../src/components/CompareView';
import { Panel } from '../../../src/components/Panel';
import { ScoreChip } from '../../../src/components/ScoreChip';
import { compareHref, SERIES_COLORS } from '../../../src/lib/links';
import { api } from '../../../src/server/api';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Compare runs' };

export default async function ComparePage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const sp = await searchParams;
  const ids = [...new Set(many(sp.ids))];
  const baseline = one(sp.baseline) || undefined;
  if (ids.length < 2 || ids.length > 4) {
    return (
      <>
        <PageHead crumbs={[['/evals', 'Evals']]} title="Compare runs" />
        <EmptyState title={ids.length < 2 ? 'Choose at least two runs' : 'Choose at most four runs'}>
          <p>Tick 2–4 runs in the evals table and press “Compare selected”. You chose {ids.length}.</p>
          <Link className="btn" href="/evals">Back to the evals</Link>
        </EmptyState>
      </>
    );
  }
  let c;
  try {
    c = await (await api()).portal.compare({ ids, ...(baseline && ids.includes(baseline) ? { baseline } : {}) });
  } catch (e) {
    return (
      <>
        <PageHead crumbs={[['/evals', 'Evals']]} title="Compare runs" />
        <ErrorState title="These runs cannot be compared" message={(e as Error).message}><Link href="/evals">Back to the evals</Link></ErrorState>
      </>
    );
  }
  const baseRun = c.runs.find((r) => r.id === c.baselineId)!;
  return (
    <>
      <PageHead
        crumbs={[['/evals', 'Evals']]}
        title={`Comparing ${c.runs.length} runs`}
        sub={<>One grid of {c.lengths.length} lengths × {c.depths.length} depths (the union of the runs&apos; grids); {fmtInt(c.commonCells)} of {fmtInt(c.gridCells)} cells are scored in every run. Differences are against <strong>{baseRun.name}</strong>.</>}
      />
      <Panel id="summary-h" title="Runs">
        <DataTable
          caption="Compared runs"
          rows={c.runs}
          columns={[
            { header: 'Run', rowHeader: true, cell: (r) => <><span className="sw" style={{ display: 'inline-block', width: 10, height: 10, borderRadius: 2, marginRight: 6, background: SERIES_COLORS[c.runs.indexOf(r)] }} /><Link href={`/evals/${r.id}`}>{r.name}</Link></> },
            { header: 'Model', cell: (r) => r.model?.name ?? '—' },
            { header: 'Status', cell: (r) => <StatusBadge status={r.status} /> },
            { header: 'Grid', cell: (r) => `${r.ownLengths} × ${r.ownDepths}` },
            { header: 'Avg score', numeric: true, cell: (r) => <ScoreChip score={r.average} /> },
            { header: 'Avg on common cells', numeric: true, cell: (r) => <ScoreChip score={r.commonAverage} /> },
            { header: 'vs baseline', numeric: true, cell: (r) => (r.id === c.baselineId ? 'baseline' : r.meanDiff === null ? '—' : `${r.meanDiff > 0 ? '+' : ''}${r.meanDiff.toFixed(1)}`) },
            { header: '', id: 'base', cell: (r) => (r.id === c.baselineId ? null : <Link href={compareHref(ids, r.id)}>make baseline</Link>) },
          ]}
        />
      </Panel>
      <CompareView lengths={c.lengths} depths={c.depths} baselineId={c.baselineId} runs={c.runs.map((r) => ({ id: r.id, name: r.name, matrix: r.matrix, diff: r.diff, average: r.average, meanDiff: r.meanDiff }))} />
      <section className="panel" aria-labelledby="bylen-h">
        <h2 id="bylen-h" className="sr-only">Mean score by context length</h2>
        <LineChart width={900} height={260} title="Mean score by context length" series={c.runs.map((r, i) => ({ name: r.name, color: SERIES_COLORS[i]!, points: c.lengths.map((l, x) => ({ x: l, y: r.byLength[x] ?? null })) }))} />
        <div className="legend">{c.runs.map((r, i) => <span key={r.id}><span className="sw" style={{ background: SERIES_COLORS[i] }} />{r.name}</span>)}</div>
      </section>
    </>
  );
}
