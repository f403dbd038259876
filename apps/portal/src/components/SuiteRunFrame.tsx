import { fmtInt, KeyValues, type Column } from '@ctxlab/ui';
import Link from 'next/link';
import type { ComponentProps, ReactNode } from 'react';
import type { Out } from '../lib/types';
import { answerColumns, CellsPanel, SuiteRunLive } from './CellsPanel';

type Cell = Out['evals']['cells']['items'][number];
type Live = ComponentProps<typeof SuiteRunLive>;

/** What the run page hands a suite run's result: the results (`r`), one page of its cells, and its job. */
export interface SuiteRunProps<R extends { run: Live['run']; failed: number }> {
  r: R;
  cells: Out['evals']['cells'];
  /** How many cells come before this page. */
  at: number;
  perPage: number;
  job: Live['job'];
}

/**
 * The frame of a suite run's page (RULER, topic retrieval, LongBench, InfiniteBench, MMLU): the
 * run's live status, its result (`children`), the suite's settings, every recorded cell — the
 * run's own columns (`cellColumns`), then the prompt size and the answer — and the way back.
 */
export function SuiteRunFrame<R extends { run: Live['run']; failed: number }>({
  r,
  job,
  cells,
  at,
  perPage,
  settings,
  cellsCaption,
  cellColumns,
  children,
}: SuiteRunProps<R> & { settings: readonly (readonly [string, ReactNode])[]; cellsCaption: string; cellColumns: Column<Cell>[]; children: ReactNode }) {
  return (
    <>
      <SuiteRunLive run={r.run} failed={r.failed} job={job} />
      {children}
      <section className="panel" aria-labelledby="spec-h">
        <h2 id="spec-h">Suite</h2>
        <KeyValues items={settings} />
      </section>
      <CellsPanel
        runId={r.run.id}
        cells={cells}
        at={at}
        perPage={perPage}
        caption={cellsCaption}
        columns={[...cellColumns, { header: 'Prompt tokens', numeric: true, cell: (c) => fmtInt(c.promptTokens) }, ...answerColumns]}
      />
      <p className="panel-note"><Link href="/evals">All runs</Link></p>
    </>
  );
}
