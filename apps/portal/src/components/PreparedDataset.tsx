import { BarChart, contextLabel, DataTable, fmtBytes, fmtInt, KeyValues } from '@ctxlab/ui';
import Link from 'next/link';
import { fmtShare, sourceColor, stoppedByText, type PreparedStats, type SourceStats } from '../lib/prepared';
import { DownloadButton } from './ArtifactDownloads';
import { Panel } from './Panel';

/**
 * Document lengths per source, as the job counted them while reading (every epoch): one bar per
 * source in each length bucket, from the shortest bucket any source reached to the longest.
 */
function LengthHistogram({ sources }: { sources: [string, SourceStats][] }) {
  const labels = sources[0]?.[1].lengthHistogram.map((b) => b.label) ?? [];
  const used = labels.map((_, i) => sources.some(([, s]) => (s.lengthHistogram[i]?.documents ?? 0) > 0));
  const first = used.indexOf(true);
  const last = used.lastIndexOf(true);
  if (first < 0) return <p className="empty" role="status">No documents were read.</p>;
  const range = labels.slice(first, last + 1);
  const bucket = (s: SourceStats, i: number) => s.lengthHistogram[first + i];
  return (
    <div className="lineage-scroll chart-block" data-testid="length-histogram">
      <BarChart
        id="length-histogram"
        title="Document lengths per source"
        description={`Documents read per length bucket (tokens, K = 1,024), for ${sources.map(([n]) => n).join(', ')}.`}
        categories={range}
        series={sources.map(([name, s], si) => ({ name, color: sourceColor(si), values: range.map((_, i) => bucket(s, i)?.documents ?? 0) }))}
        detail={(si, ci) => `${fmtInt(bucket(sources[si]![1], ci)?.tokens ?? 0)} tokens`}
        unit="documents"
        xLabel="document length (tokens)"
        yLabel="documents"
        width={Math.max(480, Math.min(900, 120 + range.length * (40 + 14 * sources.length)))}
      />
    </div>
  );
}

/**
 * A prepared training dataset: how it was made (format, tokenizer, length, the recipe stage it is
 * for), what came out (sequences, tokens, why it stopped), per source what was read and what share
 * of the output it got against the share asked, the length histogram, and the shards to download.
 */
export function PreparedDataset({ id, stats: p, jobId }: { id: string; stats: PreparedStats; jobId: string | null }) {
  const sources = Object.entries(p.perSource);
  const easy = p.format === 'easycontext';
  return (
    <>
      <Panel id="prep-h" title="Prepared for training" testId="prepared-stats">
        <KeyValues
          items={[
            ['format', p.format === 'easycontext' ? 'EasyContext (input_ids records)' : 'longllm_qlora (text JSONL)'],
            ['tokenizer', <span key="t" className="mono">{p.tokenizer}</span>],
            ['sequence length', `${fmtInt(p.seqLength)} tokens (${contextLabel(p.seqLength)})`],
            ...(easy ? [['packing', p.packing === 'pack' ? 'packed: documents joined, then cut' : 'chunked: each document cut alone'] as const, ['loss mask', p.lossMask ? 'written (assistant tokens)' : 'none'] as const] : []),
            ['sequences', fmtInt(p.sequences)],
            ['tokens', fmtInt(p.tokens)],
            ['documents read', fmtInt(p.documents)],
            ['tokens dropped', fmtInt(p.tokensDropped)],
            ['token budget', p.maxTokens === null ? 'none (every source read once)' : fmtInt(p.maxTokens)],
            ['stopped because', stoppedByText(p.stoppedBy, p.maxTokens)],
            ['seed', p.seed],
            ['recipe stage', p.recipe ? <Link key="r" href={`/recipes/${p.recipe.recipeId}`}>{p.recipe.name} v{p.recipe.version}, stage {p.recipe.stage}</Link> : '—'],
            ['prepared by', jobId ? <Link key="j" href={`/jobs/${jobId}`} className="mono">job {jobId}</Link> : '—'],
          ]}
        />
      </Panel>
      <Panel id="prep-src-h" title="Sources">
        <p className="panel-note">Share asked is the source&apos;s ratio in the data recipe (— when none was given: each source is read as it comes); share out is its part of the written tokens.</p>
        <DataTable
          caption="Per source: documents read and kept, tokens in and out, and the share asked against the share written"
          dense
          rows={sources}
          rowKey={([name]) => name}
          columns={[
            { header: 'Source', rowHeader: true, cell: ([name, s]) => <><span className="sw-inline" style={{ background: sourceColor(sources.findIndex(([n]) => n === name)) }} aria-hidden="true" /><Link href={`/datasets/${s.datasetId}`}>{name}</Link></> },
            { header: 'Read as', cell: ([, s]) => s.kind },
            { header: 'Documents', numeric: true, cell: ([, s]) => fmtInt(s.documents) },
            { header: 'Kept', numeric: true, cell: ([, s]) => fmtInt(s.documentsKept) },
            { header: 'Tokens in', numeric: true, cell: ([, s]) => fmtInt(s.tokensIn) },
            { header: 'Tokens out', numeric: true, cell: ([, s]) => fmtInt(s.tokensOut) },
            { header: 'Epochs', numeric: true, cell: ([, s]) => s.epochs },
            { header: 'Share asked', numeric: true, cell: ([, s]) => fmtShare(s.ratio) },
            { header: 'Share out', numeric: true, cell: ([, s]) => fmtShare(p.tokens > 0 ? s.tokensOut / p.tokens : null) },
          ]}
        />
        <LengthHistogram sources={sources} />
      </Panel>
      <Panel id="prep-shards-h" title="Shards" testId="shards">
        <DataTable
          caption="The shards a trainer loads, with their sha256"
          dense
          rows={p.shards}
          rowKey={(s) => s.path}
          empty="No shards were written."
          columns={[
            { header: 'File', rowHeader: true, cell: (s) => <span className="mono">{s.path}</span> },
            { header: 'Sequences', numeric: true, cell: (s) => fmtInt(s.sequences) },
            { header: 'Tokens', numeric: true, cell: (s) => fmtInt(s.tokens) },
            { header: 'Size', numeric: true, cell: (s) => fmtBytes(s.bytes) },
            { header: 'sha256', cell: (s) => <span className="mono" title={s.sha256}>{s.sha256.slice(0, 12)}…</span> },
            { header: 'Download', cell: (s) => <DownloadButton owner="datasets" id={id} file={s.path} name={s.path} /> },
          ]}
        />
      </Panel>
    </>
  );
}
