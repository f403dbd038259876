import { contextLabel, DataTable, type Column, depthPercent, fmtDate, fmtInt, Heatmap, LineChart, SCORE_STOP_HEX } from '@ctxlab/ui';
import { ExportButtons } from './CellsPanel';
import { ScoreChip } from './ScoreChip';
import { SuiteRunFrame, type SuiteRunProps } from './SuiteRunFrame';
import type { Out } from '../lib/types';

type Results = Out['evals']['suiteResults'];

const score = (v: number | null) => (v === null ? '—' : v.toFixed(2));

/** A dense table of the run's scores, a row per length or number of topics; empty until a cell is scored. */
function ScoresTable<T>({ caption, rows, rowKey, columns }: { caption: string; rows: readonly T[]; rowKey: (row: T) => number; columns: readonly Column<T>[] }) {
  return <DataTable caption={caption} dense rows={rows} rowKey={(row) => String(rowKey(row))} empty="No cells scored yet." columns={columns} />;
}

function Legend() {
  return (
    <div className="legend" aria-hidden="true">
      {SCORE_STOP_HEX.map(([s, colour]) => <span key={s}><span className="sw" style={{ background: colour }} />{s}</span>)}
      <span><span className="sw missing" />no score (not run yet, or the request failed)</span>
    </div>
  );
}

/** A RULER or topic-retrieval run: its heatmaps and averages recomputed from the cells, exports, and the cells with their task. */
export function SuiteResult(props: SuiteRunProps<Results>) {
  const { r } = props;
  const run = r.run;
  const topic = run.kind === 'topic-retrieval';
  const name = run.model?.name ?? run.name;
  const settings = [
    ['suite', r.spec.suite], ['tasks', r.spec.tasks?.join(', ') ?? r.tasks.join(', ')], ['QA dataset', r.spec.qaDataset ?? (topic ? null : 'none (no QA tasks)')],
    ['haystack', r.spec.corpus], ['question', r.spec.question], ['tokenizer', r.spec.tokenizer], ['chat template', r.spec.chatTemplate === null ? null : r.spec.chatTemplate ? 'yes' : 'no'],
    ['samples', r.spec.samples], ['seed', r.spec.seed], [topic ? 'topics' : 'lengths', r.lengths.map((l) => (topic ? String(l) : contextLabel(l))).join(', ')],
    ['concurrency', run.concurrency], ['started', fmtDate(run.startedAt)], ['finished', fmtDate(run.finishedAt)],
  ] as const;
  return (
    <SuiteRunFrame
      {...props}
      settings={settings}
      cellsCaption="Recorded cells by task, length, depth and sample"
      cellColumns={[
        { header: 'Task', cell: (c) => <span className="mono">{c.task}</span> },
        { header: topic ? 'Topics' : 'Length', numeric: true, cell: (c) => fmtInt(c.contextLength) },
        { header: 'Depth %', numeric: true, cell: (c) => depthPercent(c.depth) },
        { header: 'Sample', numeric: true, cell: (c) => c.sample },
      ]}
    >
      <section className="panel" aria-labelledby="suite-h" data-testid="suite-result">
        <div className="panel-head">
          <h2 id="suite-h">{topic ? 'Accuracy by number of topics' : 'Tasks by context length'}</h2>
          <ExportButtons runId={run.id} />
        </div>
        {topic ? (
          <div className="cols">
            <ScoresTable
              caption="Topic retrieval accuracy per number of topics"
              rows={r.perTopics}
              rowKey={(p) => p.topics}
              columns={[
                { header: 'Topics (N)', numeric: true, cell: (p) => p.topics },
                { header: 'Accuracy', numeric: true, cell: (p) => <span data-testid={`topic-${p.topics}`}><ScoreChip score={p.accuracy} /></span> },
                { header: 'Samples', numeric: true, cell: (p) => fmtInt(p.n) },
              ]}
            />
            <LineChart title="Accuracy against the number of topics" xLabel="Topics in the conversation" xUnit="topics" yLabel="Accuracy" series={[{ name, color: '#2f5bd3', points: r.perTopics.map((p) => ({ x: p.topics, y: p.accuracy })) }]} />
          </div>
        ) : (
          <>
            <div className="heatmap-panel" data-testid="ruler-heatmap">
              <Heatmap
                lengths={r.lengths}
                depths={r.tasks.map((_t, i) => i)}
                rowLabels={r.tasks}
                rowAxisTitle="Task"
                matrix={r.matrix}
                average={r.average}
                title={`RULER · ${name}. Avg score ${r.average === null ? 'n/a' : r.average.toFixed(2)}`}
                subtitle="Task score per context length (mean over samples, as RULER rounds it)"
                maxGridHeight={13 * 30}
              />
            </div>
            <Legend />
            <ScoresTable
              caption="RULER average per context length (mean of the task scores)"
              rows={r.perLength}
              rowKey={(p) => p.length}
              columns={[
                { header: 'Length', numeric: true, cell: (p) => <span title={`${fmtInt(p.length)} tokens`}>{contextLabel(p.length)}</span> },
                { header: 'Average', numeric: true, cell: (p) => <span data-testid={`ruler-avg-${p.length}`}>{score(p.average)}</span> },
                { header: 'Tasks scored', numeric: true, cell: (p) => p.tasks },
                { header: `Above ${r.threshold}`, cell: (p) => (p.average === null ? '—' : p.average > (r.threshold ?? 0) ? 'yes' : 'no') },
              ]}
            />
            <p className="panel-note" data-testid="effective-length">
              Effective length: <strong>{r.effectiveLength === null ? 'none' : `${fmtInt(r.effectiveLength)} tokens`}</strong> — the longest length whose average is above {r.threshold} (RULER’s bar: Llama-2-7B’s 4K average).
              {' '}Overall average {score(r.average)} over {r.perLength.filter((p) => p.average !== null).length} lengths; {fmtInt(r.scoredSamples)} samples scored{r.failed ? `, ${fmtInt(r.failed)} failed requests (never scored as 0)` : ''}.
            </p>
          </>
        )}
      </section>
      {r.depthMaps.length > 0 && (
        <section className="panel" aria-labelledby="depth-h">
          <h2 id="depth-h">Needle tasks by length and depth</h2>
          <p className="panel-note" style={{ marginTop: 0 }}>Depth of each sample’s first needle; RULER draws depths at random, so cells without a sample are grey.</p>
          <div className="cols">
            {r.depthMaps.map((m) => (
              <div key={m.task} className="heatmap-panel" data-testid={`depth-map-${m.task}`}>
                <Heatmap lengths={m.lengths} depths={m.depths} matrix={m.matrix} title={m.task} subtitle={null} maxGridWidth={360} maxGridHeight={260} />
              </div>
            ))}
          </div>
        </section>
      )}
    </SuiteRunFrame>
  );
}
