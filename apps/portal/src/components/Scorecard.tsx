import { DataTable, fmtInt } from '@ctxlab/ui';
import Link from 'next/link';
import type { Out } from '../lib/types';

type Card = Out['models']['scorecard'];
type Row = Card['rows'][number];

/** A row's value as the page prints it: tokens as integers, scores and perplexities to two decimals. */
export function scorecardValue(v: number | null | undefined, unit: Row['unit']): string {
  if (v === null || v === undefined) return '—';
  return unit === 'tokens' ? fmtInt(v) : v.toFixed(2);
}

const signed = (v: number | null, unit: Row['unit']) => (v === null ? '—' : `${v > 0 ? '+' : v < 0 ? '−' : '±'}${scorecardValue(Math.abs(v), unit)}`);

const VERDICT_BADGE: Record<Row['verdict'], string> = {
  better: 'badge-ok',
  worse: 'badge-bad',
  'no clear difference': 'badge-neutral',
  'not comparable': 'badge-muted',
};

export function VerdictBadge({ row }: { row: Row }) {
  const title = row.interval ? `95% interval of the difference: ${signed(row.interval.low, row.unit)} … ${signed(row.interval.high, row.unit)}` : (row.note ?? undefined);
  return <span className={`badge ${VERDICT_BADGE[row.verdict]}`} title={title} data-verdict={row.verdict}>{row.verdict}</span>;
}

/**
 * One model's results beside a comparison model's, row by row. `compact` (the overview) leaves out
 * the run links and the notes.
 */
export function ScorecardTable({ card, compact = false, caption }: { card: Card; compact?: boolean; caption?: string }) {
  const vs = card.against?.name ?? 'comparison';
  return (
    <DataTable
      caption={caption ?? `Scorecard of ${card.model.name}${card.against ? ` against ${card.against.name}` : ''}`}
      dense
      rows={card.rows}
      rowKey={(r) => r.key}
      empty="No finished NIAH, RULER, topic retrieval or perplexity runs yet."
      columns={[
        {
          header: 'Result',
          cell: (r) => (
            <span data-row={r.key}>
              {r.suite === 'niah' && !compact ? <Link href={`/evals/${r.model.runId}`}>{r.label}</Link> : r.label}
              {r.better === 'lower' ? <span className="progress-line"> (lower is better)</span> : null}
            </span>
          ),
        },
        {
          id: 'model',
          header: card.model.name,
          numeric: true,
          cell: (r) => (compact ? <span data-cell="model">{scorecardValue(r.model.value, r.unit)}</span> : <Link data-cell="model" href={`/evals/${r.model.runId}`} title={`${r.model.runName}: ${fmtInt(r.model.cells)} scored cells`}>{scorecardValue(r.model.value, r.unit)}</Link>),
        },
        {
          id: 'against',
          header: vs,
          numeric: true,
          cell: (r) =>
            r.against ? (
              compact ? <span data-cell="against">{scorecardValue(r.against.value, r.unit)}</span> : <Link data-cell="against" href={`/evals/${r.against.runId}`} title={`${r.against.runName}: ${fmtInt(r.against.cells)} scored cells`}>{scorecardValue(r.against.value, r.unit)}</Link>
            ) : (
              <span data-cell="against">—</span>
            ),
        },
        { header: 'Difference', numeric: true, cell: (r) => <span data-cell="difference">{signed(r.difference, r.unit)}</span> },
        {
          header: 'Verdict',
          cell: (r) => (
            <>
              <VerdictBadge row={r} />
              {r.flag ? <span className="status-bad" data-cell="flag" title={r.flag}> ⚠ {compact ? r.flag.split(':')[0] : r.flag}</span> : null}
              {!compact && r.note ? <span className="progress-line"> {r.note}</span> : null}
            </>
          ),
        },
      ]}
    />
  );
}
