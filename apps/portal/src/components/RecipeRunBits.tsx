import type { GateResult } from '@ctxlab/contracts';
import { DataTable, fmtDate, fmtNum, StatusBadge } from '@ctxlab/ui';
import Link from 'next/link';
import type { Out } from '../lib/types';

export type RecipeRun = Out['recipes']['runGet'];
export type RecipeRunStage = RecipeRun['stages'][number];
export type RecipeRunEvent = Out['recipes']['runEvents'][number];

/** Stages passed of all stages: "2/3". */
export const stageProgress = (run: Pick<RecipeRun, 'stages'>) => `${run.stages.filter((s) => s.status === 'passed').length}/${run.stages.length}`;

/** A loss to four significant digits. */
export const fmtLoss = (l: number | null | undefined): string => (l === null || l === undefined || !Number.isFinite(l) ? '—' : Number(l.toPrecision(4)).toString());

/** GPU-hours with two decimals; a start that has used next to nothing says so. */
export const fmtGpuHours = (h: number | null | undefined): string => (h === null || h === undefined || !Number.isFinite(h) ? '—' : h > 0 && h < 0.005 ? '< 0.01' : fmtNum(h, 2));

/** A gate's value or threshold: perplexity (≤) with two decimals, scores (≥, 0–100) with one. */
const fmtGate = (g: Pick<GateResult, 'op'>, v: number) => fmtNum(v, g.op === '<=' ? 2 : 1);

/** A gate's outcome in words: pass, fail, error (no value), or waiting for its value. */
export function GateChip({ gate }: { gate: GateResult }) {
  if (gate.passed === true) return <span className="badge badge-ok">pass</span>;
  if (gate.passed === false) return <span className="badge badge-bad">fail</span>;
  if (gate.error) return <span className="badge badge-bad" title={gate.error}>error</span>;
  return <span className="badge badge-neutral">waiting</span>;
}

/** A stage's gates, one line each: what was measured, value against its threshold, the outcome and its eval run. */
export function GateList({ gates }: { gates: readonly GateResult[] }) {
  if (!gates.length) return <span className="muted">none</span>;
  return (
    <ul className="gate-list">
      {gates.map((g, i) => (
        <li key={`${g.gate}-${i}`} data-gate={g.gate}>
          <span className="gate-label">{g.label}</span>{' '}
          <span className="nowrap">
            {g.value === null ? <span className="muted">—</span> : <strong className={g.passed === false ? 'status-bad' : undefined}>{fmtGate(g, g.value)}</strong>}
            {' '}<span className="muted">{g.op === '>=' ? '≥' : '≤'} {fmtGate(g, g.threshold)}</span>{' '}
            <GateChip gate={g} />
          </span>
          {g.evalRunId ? <> · <Link href={`/evals/${g.evalRunId}`}>eval run</Link></> : g.jobId ? <> · <Link href={`/jobs/${g.jobId}`}>job</Link></> : null}
          {g.error ? <div className="field-error">{g.error}</div> : null}
        </li>
      ))}
    </ul>
  );
}

/** Recipe runs, newest first: each links to its live page, with its status and how many stages it has passed. */
export function RecipeRunsTable({ runs, caption }: { runs: readonly Out['recipes']['runs'][number][]; caption: string }) {
  return (
    <DataTable
      caption={caption}
      dense
      rows={runs}
      empty="No runs of this recipe yet."
      columns={[
        { header: 'Run', rowHeader: true, cell: (r) => <Link href={`/recipes/runs/${r.id}`}>{r.name}</Link> },
        { header: 'Status', cell: (r) => <><StatusBadge status={r.status} />{r.reason ? <div className="cell-ellipsis muted" title={r.reason}>{r.reason}</div> : null}</> },
        { header: 'Stages', numeric: true, cell: (r) => <span title={r.stages.map((s) => `${s.index + 1}. ${s.name}: ${s.status}`).join('\n')}>{stageProgress(r)}</span> },
        { header: 'Current stage', cell: (r) => r.stages[r.stageIndex]?.name ?? (r.status === 'succeeded' ? 'all passed' : '—') },
        { header: 'Version', numeric: true, cell: (r) => <Link href={`/recipes/${r.recipe.id}`}>v{r.recipe.version}</Link> },
        { header: 'Base model', cell: (r) => <Link href={`/models/${r.baseModel.id}`}>{r.baseModel.name}</Link> },
        { header: 'GPU-hours', numeric: true, cell: (r) => fmtGpuHours(r.gpuHours) },
        { header: 'Requested', cell: (r) => <span className="nowrap">{fmtDate(r.createdAt)} · {r.requestedBy}</span> },
      ]}
    />
  );
}
