import type { EvalRunSummary } from '@ctxlab/contracts';
import { DataTable, fmtInt, type Column } from '@ctxlab/ui';
import { cursorLinks, Pager } from './EntityList';
import { EvalLive } from './EvalLive';
import { ScoreChip } from './ScoreChip';
import type { Out } from '../lib/types';

type Cell = Out['evals']['cells']['items'][number];

/** A run's recorded cells, one page at a time, with the columns its kind needs. */
/** `at`: how many cells come before this page (the pager's label); pages follow the API's nextCursor. */
export function CellsPanel({ runId, cells, at, perPage, caption, columns }: { runId: string; cells: Out['evals']['cells']; at: number; perPage: number; caption: string; columns: Column<Cell>[] }) {
  return (
    <section className="panel" aria-labelledby="cells-h">
      <div className="panel-head"><h2 id="cells-h">Cells</h2><span className="progress-line">{fmtInt(cells.total)} recorded</span></div>
      <DataTable caption={caption} dense rows={cells.items} empty="No cells recorded yet." columns={columns} />
      <Pager total={cells.total} at={at} count={cells.items.length} limit={perPage} {...cursorLinks(`/evals/${runId}`, {}, { at }, cells)} />
    </section>
  );
}

/** The columns every suite's cells end with: the score, what was expected, and the answer (or why the request failed). */
export const answerColumns: Column<Cell>[] = [
  { header: 'Score', numeric: true, cell: (c) => <ScoreChip score={c.score} /> },
  { header: 'Expected', cell: (c) => <span className="cell-ellipsis" style={{ display: 'inline-block' }} title={c.expected ?? ''}>{c.expected ?? '—'}</span> },
  { header: 'Answer', cell: (c) => <span className={`cell-ellipsis${c.error ? ' status-bad' : ''}`} style={{ display: 'inline-block' }} title={c.error ?? c.response ?? ''}>{c.error ?? c.response ?? '—'}</span> },
];

interface LiveRun {
  id: string;
  jobId: string | null;
  status: string;
  cellsDone: number;
  cellsTotal: number;
  summary: EvalRunSummary;
}

/** A suite run's live progress (status, cells, failures, the job's error) until it ends. */
export function SuiteRunLive({ run, failed, job }: { run: LiveRun; failed: number; job: { status: string; error: string | null } | null }) {
  const { summary } = run;
  return (
    <EvalLive
      runId={run.id}
      jobId={run.jobId}
      initial={{ status: run.status, cellsDone: run.cellsDone, cellsTotal: run.cellsTotal, summary: { ...summary, failed: summary.failed ?? failed }, jobStatus: job?.status ?? null, jobError: job?.error ?? null }}
    />
  );
}

/** CSV and JSON Lines downloads of a suite run's cells and results. */
export function ExportButtons({ runId }: { runId: string }) {
  return (
    <div className="btn-group" role="group" aria-label="Download">
      <a className="btn secondary small" href={`/evals/${runId}/export?format=csv`} download data-testid="export-csv">⤓ CSV</a>
      <a className="btn secondary small" href={`/evals/${runId}/export?format=json`} download data-testid="export-json">⤓ JSON</a>
    </div>
  );
}
