import { DataTable, fmtInt, type Column } from '@ctxlab/ui';
import { hrefWith, Pager } from './EntityList';
import type { Out } from '../lib/types';

type Cell = Out['evals']['cells']['items'][number];

/** A run's recorded cells, one page at a time, with the columns its kind needs. */
export function CellsPanel({ runId, cells, offset, perPage, caption, columns }: { runId: string; cells: Out['evals']['cells']; offset: number; perPage: number; caption: string; columns: Column<Cell>[] }) {
  return (
    <section className="panel" aria-labelledby="cells-h">
      <div className="panel-head"><h2 id="cells-h">Cells</h2><span className="progress-line">{fmtInt(cells.total)} recorded</span></div>
      <DataTable caption={caption} dense rows={cells.items} rowKey={(c) => c.id} empty="No cells recorded yet." columns={columns} />
      <Pager total={cells.total} offset={offset} count={cells.items.length} limit={perPage} href={(o) => hrefWith(`/evals/${runId}`, { offset: o })} />
    </section>
  );
}
