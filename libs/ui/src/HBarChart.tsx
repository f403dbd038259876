import { niceCeil } from './BarChart';

export interface HBarRow {
  label: string;
  value: number;
  /** The bar's colour; default: the chart's. */
  color?: string;
  /** More words for the bar's tooltip, after its value. */
  detail?: string;
}

export interface HBarChartProps {
  /** Names the chart for assistive technology and heads it. */
  title: string;
  /** What the chart shows in a sentence, read after the title. */
  description?: string;
  rows: readonly HBarRow[];
  /**
   * How a value reads, at the bar's end and in its tooltip ("$0.0042", "1.2 GPU-h"). Values here are
   * often far below 1 (a CPU job's cost), which whole-number labels would show as 0.
   */
  format?: (v: number) => string;
  /** The value axis' name, under it. */
  xLabel?: string;
  color?: string;
  /** A dashed line across every bar at this value, named by its label (e.g. 1× for "as estimated"). */
  reference?: { value: number; label: string };
  width?: number;
  /** Room for the row labels, px. */
  labelWidth?: number;
  /** Makes the title's and description's ids unique when a page shows more than one chart. */
  id?: string;
}

const ROW = 22;
const defaultFormat = (v: number) => (Number.isInteger(v) ? v.toLocaleString('en-US') : String(Number(v.toPrecision(3))));
/** Roughly how wide a line of 11 px Helvetica is. */
const textWidth = (s: string) => s.length * 6.4;

/**
 * Horizontal bars, one row per label, each with its value written at its end: for breakdowns by
 * name (teams, devices, months, jobs) whose values may be fractions or amounts of money. Every bar
 * has a tooltip naming its row and value, so the picture never relies on length alone.
 */
export function HBarChart({ title, description, rows, format = defaultFormat, xLabel, color = '#2f5bd3', reference, width = 640, labelWidth, id = 'hbarchart' }: HBarChartProps) {
  const left = labelWidth ?? Math.min(220, Math.max(60, 12 + Math.max(0, ...rows.map((r) => textWidth(r.label)))));
  // Room at the right for the longest value label.
  const right = 16 + Math.max(40, ...rows.map((r) => textWidth(format(r.value))));
  // The reference's label stands above the plot, under the title.
  const top = reference ? 44 : 30;
  const plotH = Math.max(1, rows.length) * ROW;
  const axisY = top + plotH;
  const fullHeight = axisY + 22 + (xLabel ? 18 : 0);
  const plotW = Math.max(40, width - left - right);
  const xMax = niceCeil(Math.max(0, reference?.value ?? 0, ...rows.map((r) => (Number.isFinite(r.value) ? r.value : 0))));
  const gx = (v: number) => left + (Math.max(0, v) / xMax) * plotW;
  // Round steps (a top of 2 × 10^k in fourths, else fifths), fewer in a narrow chart so no two labels touch.
  const round = Math.round(xMax / 10 ** Math.floor(Math.log10(xMax))) === 2 ? 4 : 5;
  const fits = (n: number) => Array.from({ length: n + 1 }, (_, i) => textWidth(defaultFormat((i * xMax) / n))).every((w) => w + 8 <= plotW / n);
  const steps = [round, round === 4 ? 2 : 1, 1].find(fits) ?? 1;
  const ticks = Array.from({ length: steps + 1 }, (_, i) => (i * xMax) / steps);
  const titleId = `${id}-title`;
  const descId = `${id}-desc`;
  const clip = (s: string) => (textWidth(s) > left - 10 ? `${s.slice(0, Math.max(3, Math.floor((left - 10) / 6.4) - 1))}…` : s);
  return (
    <svg
      xmlns="http://www.w3.org/2000/svg" className="hbarchart" width={width} height={fullHeight} viewBox={`0 0 ${width} ${fullHeight}`}
      role="img" aria-labelledby={titleId} aria-describedby={description ? descId : undefined} fontFamily="Helvetica, Arial, sans-serif" fontSize={11}
    >
      <title id={titleId}>{title}</title>
      {description ? <desc id={descId}>{description}</desc> : null}
      <rect width={width} height={fullHeight} fill="#ffffff" />
      <text x={0} y={16} fontSize={12} fontWeight="bold" fill="#16181d" aria-hidden="true">{title}</text>
      {ticks.map((t) => (
        <g key={t}>
          <line x1={gx(t)} x2={gx(t)} y1={top} y2={axisY} stroke="#e2e5ea" />
          <text x={gx(t)} y={axisY + 14} textAnchor="middle" fill="#4d5361">{defaultFormat(t)}</text>
        </g>
      ))}
      {rows.map((r, i) => {
        const y = top + i * ROW;
        const w = gx(r.value) - left;
        const text = format(r.value);
        return (
          <g key={`${r.label}-${i}`} data-row={r.label}>
            <text x={left - 6} y={y + ROW / 2 + 4} textAnchor="end" fill="#4d5361">{clip(r.label)}<title>{r.label}</title></text>
            {w > 0 ? (
              <rect x={left} y={y + 4} width={Math.max(1, w)} height={ROW - 8} rx={2} fill={r.color ?? color} data-value={r.value}>
                <title>{`${r.label}: ${text}${r.detail ? `, ${r.detail}` : ''}`}</title>
              </rect>
            ) : null}
            <text x={left + Math.max(0, w) + 4} y={y + ROW / 2 + 4} fill="#16181d" data-role="value">{text}</text>
          </g>
        );
      })}
      <line x1={left} x2={left} y1={top} y2={axisY} stroke="#9aa1ad" />
      {reference ? (
        <g data-role="reference">
          <line x1={gx(reference.value)} x2={gx(reference.value)} y1={top - 6} y2={axisY} stroke="#b4203f" strokeDasharray="4 3" />
          <text x={gx(reference.value)} y={top - 9} textAnchor="middle" fill="#b4203f">{reference.label}</text>
        </g>
      ) : null}
      {xLabel ? <text x={left + plotW / 2} y={fullHeight - 6} textAnchor="middle" fill="#16181d">{xLabel}</text> : null}
    </svg>
  );
}
