import type { ReactNode } from 'react';

export interface Column<T> {
  /** Column header; also the React key unless `id` is given. */
  header: ReactNode;
  id?: string;
  cell: (row: T) => ReactNode;
  numeric?: boolean;
  /** Row header cell (scope="row") for screen readers. */
  rowHeader?: boolean;
}

interface TableProps<T> {
  columns: readonly Column<T>[];
  rows: readonly T[];
  /** Accessible table name (visually hidden unless `showCaption`). */
  caption: string;
  showCaption?: boolean;
  empty?: ReactNode;
  dense?: boolean;
  rowClass?: (row: T) => string | undefined;
}

/** A table's props: `rowKey` gives each row's React key; rows with a string `id` may leave it out. */
export type DataTableProps<T> = TableProps<T> & { rowKey?: (row: T) => string };

const keyOf = <T,>(p: DataTableProps<T>, row: T): string => (p.rowKey ? p.rowKey(row) : (row as { id: string }).id);

/** A column's React key: its id, else its header text, else its position. */
const columnKey = <T,>(c: Column<T>, i: number) => c.id ?? (typeof c.header === 'string' ? c.header : i);

/** A registry table: header row, tabular numbers right-aligned, an empty state instead of an empty table. */
export function DataTable<T extends { id: string }>(p: TableProps<T> & { rowKey?: (row: T) => string }): ReactNode;
export function DataTable<T>(p: TableProps<T> & { rowKey: (row: T) => string }): ReactNode;
export function DataTable<T>(p: DataTableProps<T>) {
  if (p.rows.length === 0) return <div className="empty" role="status">{p.empty ?? 'Nothing here yet.'}</div>;
  return (
    <div className="table-scroll">
      <table className={`data${p.dense ? ' dense' : ''}`}>
        <caption className={p.showCaption ? 'caption' : 'sr-only'}>{p.caption}</caption>
        <thead>
          <tr>
            {p.columns.map((c, i) => (
              <th key={columnKey(c, i)} scope="col" className={c.numeric ? 'num' : undefined}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {p.rows.map((r) => (
            <tr key={keyOf(p, r)} className={p.rowClass?.(r)}>
              {p.columns.map((c, i) => {
                const key = columnKey(c, i);
                const cls = c.numeric ? 'num' : undefined;
                return c.rowHeader ? (
                  <th key={key} scope="row" className={cls}>{c.cell(r)}</th>
                ) : (
                  <td key={key} className={cls}>{c.cell(r)}</td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
