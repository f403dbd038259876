import Link from 'next/link';
import { notFound } from 'next/navigation';
import { DataTable, fmtDate, fmtInt, KeyValues, Tags } from '@ctxlab/ui';
import { ArtifactFiles } from '../../../src/components/ArtifactDownloads';
import { DatasetLineage } from '../../../src/components/DatasetLineage';
import { PageHead } from '../../../src/components/EntityList';
import { Panel } from '../../../src/components/Panel';
import { PreparedDataset } from '../../../src/components/PreparedDataset';
import { readPrepared } from '../../../src/lib/prepared';
import { api, loadOr404 } from '../../../src/server/api';

export const dynamic = 'force-dynamic';

/** Artifacts the API can hand out links to: on the server's disk or in the object store (not the Hub, not the registry's own rows). */
const downloadable = (uri: string | null): uri is string => uri !== null && /^(file|s3):\/\//.test(uri);

export default async function DatasetPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const a = await api();
  const d = await loadOr404(() => a.datasets.get({ id }));
  if (!d) notFound();
  const lineage = await a.datasets.lineage({ id: d.id });
  const prepared = d.prepared ? readPrepared(d.prepared) : null;
  return (
    <>
      <PageHead crumbs={[['/datasets', 'Datasets']]} title={d.name} sub={<>{d.description} <Tags tags={d.tags} /></>} actions={d.kind === 'haystack' ? <Link className="btn secondary" href="/evals/new">Use as a haystack</Link> : null} />
      <div className="panel">
        <KeyValues
          items={[
            ['kind', d.kind], ['source', d.source], ['license', d.license], ['language', d.language], ['documents', fmtInt(d.documents)],
            ['bytes', fmtInt(d.bytes)], ...Object.entries(d.tokenCounts).map(([k, v]): [string, string] => [`tokens (${k})`, fmtInt(v)]),
            ['uri', d.uri ? <span key="u" className="mono">{d.uri}</span> : 'in the registry (imported documents)'],
            ['digest', <span key="d" className="mono">{d.digest ?? '—'}</span>], ['created', fmtDate(d.createdAt)],
          ]}
        />
      </div>
      {prepared && 'stats' in prepared ? <PreparedDataset id={d.id} stats={prepared.stats} jobId={d.jobId} /> : null}
      {prepared && 'problem' in prepared ? (
        <Panel id="prep-h" title="Prepared for training">
          <div className="callout error" role="alert"><p>The preparation&apos;s record could not be read ({prepared.problem}).{d.jobId ? <> See <Link href={`/jobs/${d.jobId}`}>its job</Link>.</> : null}</p></div>
        </Panel>
      ) : null}
      <DatasetLineage name={d.name} lineage={lineage} />
      {downloadable(d.uri) ? (
        <Panel id="dl-h" title="Download" testId="dataset-download">
          <ArtifactFiles owner="datasets" id={d.id} uri={d.uri} what="dataset" />
        </Panel>
      ) : null}
      {d.kind === 'benchmark' ? (
        <section className="panel" aria-labelledby="tasks-h">
          <h2 id="tasks-h">Tasks</h2>
          <p className="panel-note">Each task&apos;s items and the sha256 of its file as imported (MMLU: per subject and split).</p>
          <DataTable
            caption="Tasks of the import"
            dense
            rows={Object.entries(d.tasks).sort(([a], [b]) => a.localeCompare(b))}
            rowKey={([t]) => t}
            empty="No tasks."
            columns={[
              { header: 'Task', cell: ([t]) => <span className="mono">{t}</span> },
              { header: 'Items', numeric: true, cell: ([, v]) => fmtInt(v.items) },
              { header: 'sha256', cell: ([, v]) => <span className="mono">{v.digest}</span> },
            ]}
          />
        </section>
      ) : null}
    </>
  );
}
