import { DataTable, fmtDate, fmtInt, SCORE_STOP_HEX } from '@ctxlab/ui';
import Link from 'next/link';
import { ExportButtons } from './CellsPanel';
import { ScoreChip } from './ScoreChip';
import { SuiteRunFrame, type SuiteRunProps } from './SuiteRunFrame';
import type { Out } from '../lib/types';

type Results = Out['evals']['benchmarkResults'];

const NAMES = { longbench: 'LongBench', infinitebench: 'InfiniteBench', mmlu: 'MMLU' } as const;

/** The colour of a 0–100 score on the portal's score scale (the stop at or below it). */
function colourOf(score: number): string {
  let c = SCORE_STOP_HEX[0]![1];
  for (const [s, hex] of SCORE_STOP_HEX) if (score >= s) c = hex;
  return c;
}

/** One bar per task at the first setting: the picture a reader scans before the table. */
function TaskBars({ r }: { r: Results }) {
  const setting = r.settings[0];
  const bars = r.rows.map((row) => ({ task: row.task, score: row.scores.find((s) => s.setting === setting)?.score ?? null }));
  if (setting === undefined || bars.every((b) => b.score === null)) return <p className="empty">No task scored yet.</p>;
  const rowH = 22;
  // Room for the longest task name (monospace, about 6.6 px a character at 11 px).
  const left = 16 + Math.ceil(Math.max(...bars.map((b) => b.task.length)) * 6.6);
  const width = left + 370;
  const height = bars.length * rowH + 28;
  const x = (v: number) => left + ((width - left - 50) * v) / 100;
  return (
    <svg role="img" aria-label={`${NAMES[r.spec.suite]} score per task at ${r.settingLabel} ${setting}`} viewBox={`0 0 ${width} ${height}`} width={width} height={height} data-testid="benchmark-bars">
      {[0, 25, 50, 75, 100].map((t) => (
        <g key={t}>
          <line x1={x(t)} x2={x(t)} y1={4} y2={height - 20} stroke="#e3e6ee" />
          <text x={x(t)} y={height - 6} fontSize="10" textAnchor="middle" fill="#5b6275">{t}</text>
        </g>
      ))}
      {bars.map((b, i) => (
        <g key={b.task} transform={`translate(0 ${4 + i * rowH})`}>
          <text x={left - 8} y={rowH / 2 + 4} fontSize="11" textAnchor="end" fill="#1f2433" className="mono">{b.task}</text>
          {b.score === null ? (
            <text x={left + 4} y={rowH / 2 + 4} fontSize="11" fill="#8a90a0">no score</text>
          ) : (
            <>
              <rect x={left} y={3} width={Math.max(1, x(b.score) - left)} height={rowH - 8} fill={colourOf(b.score)} rx="2" />
              <text x={x(b.score) + 4} y={rowH / 2 + 4} fontSize="11" fill="#1f2433">{b.score.toFixed(2)}</text>
            </>
          )}
        </g>
      ))}
    </svg>
  );
}

/** A LongBench, InfiniteBench or MMLU run: the official score per task and setting (recomputed from the cells), exports, and every item's answer. */
export function BenchmarkResult(props: SuiteRunProps<Results>) {
  const { r } = props;
  const run = r.run;
  const name = NAMES[r.spec.suite];
  const mmlu = r.spec.suite === 'mmlu';
  const settingText = (s: number) => (mmlu ? `${s}-shot` : `${fmtInt(s)} tokens`);
  const settings = [
    ['suite', name], ['dataset', <Link key="d" href={`/datasets?search=${encodeURIComponent(r.spec.dataset)}`}>{r.spec.dataset}</Link>],
    [mmlu ? 'subjects' : 'tasks', (mmlu ? (r.spec as { subjects?: string[] }).subjects : (r.spec as { tasks?: string[] }).tasks)?.join(', ') ?? 'every one imported'],
    [r.settingLabel, r.settings.map(settingText).join(', ')], ['items per task', (r.spec as { limit?: number }).limit ?? 'all'],
    ['tokenizer', r.spec.tokenizer], ['chat template', r.spec.chatTemplate ? 'yes (where the benchmark uses it)' : 'no'],
    ['started', fmtDate(run.startedAt)], ['finished', fmtDate(run.finishedAt)],
  ] as const;
  return (
    <SuiteRunFrame
      {...props}
      settings={settings}
      cellsCaption="Every item: its prompt size, the expected answers, the model's answer and its score"
      cellColumns={[
        { header: mmlu ? 'Subject' : 'Task', cell: (c) => <span className="mono">{c.task}</span> },
        { header: mmlu ? 'Shots' : 'Max length', numeric: true, cell: (c) => fmtInt(c.contextLength) },
        { header: 'Item', numeric: true, cell: (c) => c.sample },
      ]}
    >
      <section className="panel" aria-labelledby="bench-h" data-testid="benchmark-result">
        <div className="panel-head">
          <h2 id="bench-h">{name} {mmlu ? 'accuracy by subject' : 'score by task'}</h2>
          <ExportButtons runId={run.id} />
        </div>
        <p className="panel-note">
          {mmlu
            ? `Accuracy over every question (the official MMLU number), answers read ${r.scoring === 'logprobs' ? "from the answer letter's log-probability" : r.scoring === 'generate' ? 'from the letter the model wrote' : 'as the run decides at its start'}.`
            : `${name}'s own prompts and metrics; each task's score is the mean of its item scores (LongBench: eval.py's rounding), the average the mean over tasks.`}{' '}
          Failed requests are listed below and never scored ({fmtInt(r.failed)} failed, {fmtInt(r.items)} scored).
        </p>
        <div className="cols">
          <DataTable
            caption={`${name} per ${mmlu ? 'subject' : 'task'} and ${r.settingLabel}`}
            dense
            rows={r.rows}
            rowKey={(row) => row.task}
            empty="No cells scored yet."
            columns={[
              { header: mmlu ? 'Subject' : 'Task', cell: (row) => <span className="mono">{row.task}</span> },
              ...r.settings.map((s) => ({
                header: settingText(s),
                numeric: true,
                cell: (row: Results['rows'][number]) => {
                  const x = row.scores.find((y) => y.setting === s);
                  return <span data-testid={`bench-${row.task}-${s}`} title={x ? `${x.n} scored, ${x.failed} failed` : ''}><ScoreChip score={x?.score ?? null} digits={2} /></span>;
                },
              })),
            ]}
          />
          <div>
            <DataTable
              caption={`${name} ${mmlu ? 'accuracy' : 'average'} per ${r.settingLabel}`}
              dense
              rows={r.perSetting}
              rowKey={(p) => String(p.setting)}
              empty="—"
              columns={[
                { header: r.settingLabel, cell: (p) => settingText(p.setting) },
                { header: mmlu ? 'Accuracy' : 'Average', numeric: true, cell: (p) => <span data-testid={`bench-avg-${p.setting}`}><ScoreChip score={p.score} digits={2} /></span> },
              ]}
            />
            <TaskBars r={r} />
          </div>
        </div>
      </section>
    </SuiteRunFrame>
  );
}
