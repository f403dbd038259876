import { DataTable, fmtDate } from '@ctxlab/ui';
import type { Out } from '../lib/types';

type Event = Out['evals']['events'][number];

/** A run's status history, newest first: each move of the eval-run state machine with its reason. */
export function EvalHistory({ evalRunId, events }: { evalRunId: string; events: Event[] }) {
  return (
    <section className="panel" aria-labelledby="eval-history-h" data-testid="eval-history">
      <h2 id="eval-history-h">Status history</h2>
      <DataTable
        caption={`Status history of eval run ${evalRunId}`}
        dense
        rows={[...events].reverse()}
        rowKey={(e) => String(e.id)}
        empty="No status changes recorded."
        columns={[
          { header: 'Time (UTC)', cell: (e) => fmtDate(e.createdAt) + new Date(e.createdAt).toISOString().slice(16, 19) },
          { header: 'Transition', cell: (e) => `${e.fromStatus ?? '·'} → ${e.toStatus}` },
          { header: 'Reason', cell: (e) => e.message },
        ]}
      />
    </section>
  );
}
