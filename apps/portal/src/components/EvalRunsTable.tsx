import { DataTable, fmtDate, fmtInt, StatusBadge, type Column } from '@ctxlab/ui';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { ScoreChip } from './ScoreChip';

interface RunRow {
  id: string;
  name: string;
  status: string;
  cellsDone: number;
  cellsTotal: number;
  averageScore: number | null;
  createdAt: Date | string;
}

/** A short list of eval runs (run, status, average score, created), with cells done when `cells`. */
export function EvalRunsTable<T extends RunRow>({ caption, rows, empty, cells = false }: { caption: string; rows: readonly T[]; empty: ReactNode; cells?: boolean }) {
  const columns: Column<T>[] = [
    { header: 'Run', cell: (r) => <Link href={`/evals/${r.id}`}>{r.name}</Link> },
    { header: 'Status', cell: (r) => <StatusBadge status={r.status} /> },
    ...(cells ? [{ header: 'Cells', numeric: true, cell: (r: T) => `${fmtInt(r.cellsDone)} / ${fmtInt(r.cellsTotal)}` }] : []),
    { header: 'Avg score', numeric: true, cell: (r) => <ScoreChip score={r.averageScore} /> },
    { header: 'Created', cell: (r) => fmtDate(r.createdAt) },
  ];
  return <DataTable caption={caption} rows={rows} empty={empty} columns={columns} />;
}
