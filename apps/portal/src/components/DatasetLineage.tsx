import { DataTable } from '@ctxlab/ui';
import Link from 'next/link';
import { fmtShare } from '../lib/prepared';
import type { Out } from '../lib/types';
import { Panel } from './Panel';

type Lineage = Out['datasets']['lineage'];

const jobLink = (jobId: string | null) => (jobId ? <Link href={`/jobs/${jobId}`} className="mono">{jobId}</Link> : '—');

/** One side of a dataset's edges: the datasets at the other end, the share on each edge, the job that made it. */
function DatasetEdges({ id, title, caption, empty, shareHeader, rows }: { id: string; title: string; caption: string; empty: string; shareHeader: string; rows: Lineage['sources'] }) {
  return (
    <section aria-labelledby={id}>
      <h3 id={id}>{title}</h3>
      <DataTable
        caption={caption}
        dense
        rows={rows}
        empty={empty}
        columns={[
          { header: 'Dataset', rowHeader: true, cell: (s) => <Link href={`/datasets/${s.id}`}>{s.name}</Link> },
          { header: 'Kind', cell: (s) => s.kind },
          { header: shareHeader, numeric: true, cell: (s) => fmtShare(s.ratio) },
          { header: 'Job', cell: (s) => jobLink(s.jobId) },
        ]}
      />
    </section>
  );
}

/**
 * Where a dataset comes from and where it went: the datasets it was prepared from with their
 * shares, the datasets prepared from it (and its share in each), and the models trained on it.
 */
export function DatasetLineage({ name, lineage }: { name: string; lineage: Lineage }) {
  return (
    <Panel id="lineage-h" title="Lineage" testId="dataset-lineage">
      <div className="cols-3">
        <DatasetEdges
          id="lin-src-h" title="Made from" caption={`Datasets ${name} was prepared from, with the share asked of each`}
          empty="Not prepared from other datasets: imported or registered as it is." shareHeader="Share" rows={lineage.sources}
        />
        <DatasetEdges
          id="lin-der-h" title="Datasets made from it" caption={`Datasets prepared from ${name}, with its share in each`}
          empty="No dataset has been prepared from it yet." shareHeader="Its share" rows={lineage.derived}
        />
        <section aria-labelledby="lin-mod-h">
          <h3 id="lin-mod-h">Models trained on it</h3>
          <DataTable
            caption={`Models trained on ${name}`}
            dense
            rows={lineage.models}
            empty="No model has been trained on it yet."
            columns={[
              { header: 'Model', rowHeader: true, cell: (m) => <Link href={`/models/${m.id}`}>{m.name}</Link> },
              { header: 'Note', cell: (m) => m.note ?? '—' },
              { header: 'Job', cell: (m) => jobLink(m.jobId) },
            ]}
          />
        </section>
      </div>
    </Panel>
  );
}
