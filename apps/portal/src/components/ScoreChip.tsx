import { inkOn, scoreColor } from '@ctxlab/ui';

/** A score in the heatmap's colours, with the number in text (never colour alone). */
export function ScoreChip({ score, digits = 1 }: { score: number | null | undefined; digits?: number }) {
  if (score === null || score === undefined) return <span className="score-chip" style={{ background: '#eef0f4', color: '#454b58' }}>—</span>;
  const bg = scoreColor(score);
  return <span className="score-chip" style={{ background: bg, color: inkOn(bg) }}>{score.toFixed(digits)}</span>;
}
