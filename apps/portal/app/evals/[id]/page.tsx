import { depthPercent, fmtDate, fmtInt, KeyValues, LineChart, StatusBadge, Tags } from '@ctxlab/ui';
import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { cache } from 'react';
import { listParams, PageHead, type SearchParams } from '../../../src/components/EntityList';
import { EvalHeatmap } from '../../../src/components/EvalHeatmap';
import { CellsPanel } from '../../../src/components/CellsPanel';
import { CheckResult } from '../../../src/components/CheckResult';
import { EvalHistory } from '../../../src/components/EvalHistory';
import { EvalLive } from '../../../src/components/EvalLive';
import { ScoreChip } from '../../../src/components/ScoreChip';
import { SuiteResult } from '../../../src/components/SuiteResult';
import { BenchmarkResult } from '../../../src/components/BenchmarkResult';
import { cellHref } from '../../../src/lib/links';
import { api, loadOr404 } from '../../../src/server/api';

export const dynamic = 'force-dynamic';

/** The run, read once per request for both the title and the page. */
const loadRun = cache(async (id: string) => loadOr404(async () => (await api()).evals.get({ id })));

export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  const r = await loadRun((await params).id);
  return { title: r?.name ?? 'Eval run' };
}

const CELLS_PER_PAGE = 100;
/** Suite runs, each with its results view (endpoint perplexity shares the local check's). */
const SUITE_LABEL: Record<string, string | undefined> = { ruler: 'RULER', 'topic-retrieval': 'topic retrieval', longbench: 'LongBench', infinitebench: 'InfiniteBench', mmlu: 'MMLU' };

/** Every run's page ends with its status history, whatever its kind's results look like. */
export default async function EvalPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<SearchParams> }) {
  const { id } = await params;
  const [body, events] = await Promise.all([EvalBody({ id, searchParams }), loadRun(id).then(async (r) => (r ? (await api()).evals.events({ evalRunId: id }) : []))]);
  return (
    <>
      {body}
      <EvalHistory evalRunId={id} events={events} />
    </>
  );
}

async function EvalBody({ id, searchParams }: { id: string; searchParams: Promise<SearchParams> }) {
  const { offset, cursor, at } = listParams(await searchParams, CELLS_PER_PAGE);
  const cellsPage = { evalRunId: id, limit: CELLS_PER_PAGE, offset, cursor };
  const head = await loadRun(id);
  if (!head) notFound();
  const a = await api();
  const suite = SUITE_LABEL[head.kind];
  if (suite) {
    const benchmark = head.kind === 'longbench' || head.kind === 'infinitebench' || head.kind === 'mmlu';
    const [results, cells, job] = await Promise.all([
      benchmark ? a.evals.benchmarkResults({ id }).then((r) => ({ benchmark: r })) : a.evals.suiteResults({ id }).then((r) => ({ suite: r })),
      a.evals.cells(cellsPage),
      head.jobId ? a.portal.job({ id: head.jobId }) : Promise.resolve(null),
    ]);
    const jobState = job ? { status: job.status, error: job.error ?? null } : null;
    return (
      <>
        <PageHead
          crumbs={[['/evals', 'Evals']]}
          title={head.name}
          sub={
            <>
              <StatusBadge status={head.status} /> · {suite}
              {head.model ? <> · model <Link href={`/models/${head.model.id}`}>{head.model.name}</Link></> : null}
              {head.endpoint ? <> · endpoint <Link href={`/endpoints/${head.endpoint.id}`}>{head.endpoint.name}</Link></> : null} <Tags tags={head.tags} />
            </>
          }
          actions={head.jobId ? <Link className="btn secondary" href={`/jobs/${head.jobId}`}>Job & event log</Link> : null}
        />
        {'benchmark' in results ? (
          <BenchmarkResult r={results.benchmark} cells={cells} at={at} perPage={CELLS_PER_PAGE} job={jobState} />
        ) : (
          <SuiteResult r={results.suite} cells={cells} at={at} perPage={CELLS_PER_PAGE} job={jobState} />
        )}
      </>
    );
  }
  if (head.kind !== 'niah') {
    // Local checks (perplexity, round trips): a curve and a table instead of a heatmap.
    const [cells, job, events] = await Promise.all([
      a.evals.cells({ evalRunId: id, limit: 500 }),
      head.jobId ? a.portal.job({ id: head.jobId }) : Promise.resolve(null),
      head.jobId ? a.jobs.events({ jobId: head.jobId }) : Promise.resolve([]),
    ]);
    return (
      <>
        <PageHead crumbs={[['/evals', 'Evals']]} title={head.name} sub={<><StatusBadge status={head.status} /> · {head.kind} check</>} />
        <CheckResult run={head} cells={cells} job={job} events={events} />
      </>
    );
  }
  const [r, cells] = await Promise.all([loadOr404(() => a.portal.evalResult({ id })), a.evals.cells(cellsPage)]);
  if (!r) notFound();
  const run = r.run;
  const byLength = r.lengths.map((l, x) => {
    const vals = r.matrix.map((row) => row[x]).filter((v): v is number => v !== null && v !== undefined);
    return { x: l, y: vals.length ? vals.reduce((s, v) => s + v, 0) / vals.length : null };
  });
  const scored = r.matrix.flat().filter((v) => v !== null).length;
  return (
    <>
      <PageHead
        crumbs={[['/evals', 'Evals']]}
        title={run.name}
        sub={
          <>
            <StatusBadge status={run.status} /> · {run.kind}
            {run.model ? <> · model <Link href={`/models/${run.model.id}`}>{run.model.name}</Link></> : null}
            {run.endpoint ? <> · endpoint <Link href={`/endpoints/${run.endpoint.id}`}>{run.endpoint.name}</Link></> : null} <Tags tags={run.tags} />
          </>
        }
        actions={
          <>
            {run.jobId && <Link className="btn secondary" href={`/jobs/${run.jobId}`}>Job & event log</Link>}
            <Link className="btn secondary" href={`/evals?compareWith=${run.id}`} prefetch={false}>Compare…</Link>
          </>
        }
      />
      <EvalLive
        runId={run.id}
        jobId={run.jobId}
        initial={{ status: run.status, cellsDone: run.cellsDone, cellsTotal: run.cellsTotal, summary: { ...run.summary, failed: run.summary.failed ?? r.failed }, jobStatus: r.job?.status ?? null, jobError: r.job?.error ?? null }}
      />
      <section className="panel" aria-labelledby="heatmap-h">
        <EvalHeatmap
          runId={run.id}
          runName={run.name}
          titleName={run.model?.name ?? run.name}
          lengths={r.lengths}
          depths={r.depths}
          matrix={r.matrix}
          details={r.details}
          counts={r.counts}
          average={r.average}
        />
        <p className="panel-note">
          {fmtInt(scored)} of {fmtInt(r.lengths.length * r.depths.length)} grid cells scored ({fmtInt(r.scoredSamples)} samples){r.failed ? `, ${fmtInt(r.failed)} failed requests (never scored as 0)` : ''}.
          Hover a cell for its prompt and answer; click it (or focus the heatmap and press Enter) to open it.
        </p>
      </section>
      <div className="cols">
        <section className="panel" aria-labelledby="bylen-h">
          <h2 id="bylen-h" className="sr-only">Score by context length</h2>
          <LineChart title="Mean score by context length (over depths)" series={[{ name: run.name, color: '#2f5bd3', points: byLength }]} />
        </section>
        <section className="panel" aria-labelledby="spec-h">
          <h2 id="spec-h">Sweep</h2>
          <KeyValues
            items={[
              ['variant', r.spec?.variant], ['language', r.spec?.language], ['haystack', r.spec?.corpus], ['tokenizer', r.spec?.tokenizer],
              ['scorer', r.spec?.scorer ?? 'the variant’s own'], ['digits', r.spec?.digits], ['seed', r.spec?.seed], ['prompt layout', r.spec?.layout],
              ['grid', `${r.lengths.length} lengths × ${r.depths.length} depths × ${r.spec?.samples ?? 1} samples`],
              ['lengths', `${fmtInt(r.lengths[0])} … ${fmtInt(r.lengths[r.lengths.length - 1])}`],
              ['concurrency', run.concurrency], ['started', fmtDate(run.startedAt)], ['finished', fmtDate(run.finishedAt)],
            ]}
          />
        </section>
      </div>
      <CellsPanel
        runId={id}
        cells={cells}
        at={at}
        perPage={CELLS_PER_PAGE}
        caption="Recorded cells by length, depth and sample"
        columns={[
          { header: 'Length', numeric: true, cell: (c) => <Link href={cellHref(id, c.contextLength, c.depth)}>{fmtInt(c.contextLength)}</Link> },
          { header: 'Depth %', numeric: true, cell: (c) => depthPercent(c.depth) },
          { header: 'Sample', numeric: true, cell: (c) => c.sample },
          { header: 'Prompt tokens', numeric: true, cell: (c) => fmtInt(c.promptTokens) },
          { header: 'Score', numeric: true, cell: (c) => <ScoreChip score={c.score} /> },
          { header: 'Latency', numeric: true, cell: (c) => (c.latencyMs === null ? '—' : `${fmtInt(c.latencyMs)} ms`) },
          { header: 'Answer', cell: (c) => <span className={`cell-ellipsis${c.error ? ' status-bad' : ''}`} style={{ display: 'inline-block' }} title={c.error ?? c.response ?? ''}>{c.error ?? c.response ?? '—'}</span> },
        ]}
      />
    </>
  );
}
