import { fmtInt } from './format';

export interface BarSeries {
  name: string;
  color: string;
  /** One value per category, in the categories' order. */
  values: readonly number[];
}

export interface BarChartProps {
  /** Names the chart for assistive technology and heads it. */
  title: string;
  /** What the chart shows in a sentence, read after the title. */
  description?: string;
  categories: readonly string[];
  series: readonly BarSeries[];
  xLabel?: string;
  yLabel?: string;
  /** What a value counts, in each bar's tooltip ("documents"). */
  unit?: string;
  /** More words for one bar's tooltip, by series and category index. */
  detail?: (series: number, category: number) => string;
  width?: number;
  height?: number;
  /** Makes the title's and description's ids unique when a page shows more than one chart. */
  id?: string;
}

/** The smallest 1, 2 or 5 × 10^k at or above `v`: the top of a y axis with round ticks. */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Roughly how wide a line of 11 px Helvetica is, for the legend's wrapping and the labels' tilt. */
const textWidth = (s: string) => s.length * 6.4;

/**
 * Grouped vertical bars: one group per category, one bar per series in its colour, a legend that
 * names every series, and a tooltip per bar naming its series, category and value, so the picture
 * never relies on colour alone.
 */
export function BarChart({ title, description, categories, series, xLabel, yLabel, unit = '', detail, width = 640, height = 260, id = 'barchart' }: BarChartProps) {
  const left = 56;
  const right = 12;
  // The legend wraps into as many lines as the series' names need.
  const legendLines: { name: string; color: string; x: number }[][] = [[]];
  let lx = left;
  for (const s of series) {
    const w = 18 + textWidth(s.name) + 14;
    if (lx + w > width - right && legendLines[legendLines.length - 1]!.length > 0) {
      legendLines.push([]);
      lx = left;
    }
    legendLines[legendLines.length - 1]!.push({ name: s.name, color: s.color, x: lx });
    lx += w;
  }
  const top = 30 + legendLines.length * 16 + 8;
  const band = (width - left - right) / Math.max(1, categories.length);
  const tilt = categories.some((c) => textWidth(c) > band - 4);
  const bottom = (tilt ? 24 + Math.max(0, ...categories.map(textWidth)) * 0.5 : 28) + (xLabel ? 16 : 0);
  const plotH = Math.max(40, height - top - bottom);
  const fullHeight = top + plotH + bottom;
  const yMax = niceCeil(Math.max(0, ...series.flatMap((s) => s.values)));
  const gy = (v: number) => top + plotH - (v / yMax) * plotH;
  // Round ticks: a top of 2 × 10^k is cut in fourths, 1 and 5 × 10^k in fifths.
  const steps = Math.round(yMax / 10 ** Math.floor(Math.log10(yMax))) === 2 ? 4 : 5;
  const ticks = Array.from({ length: steps + 1 }, (_, i) => (i * yMax) / steps);
  const tickText = (t: number) => (Number.isInteger(yMax / steps) ? fmtInt(t) : String(Number(t.toPrecision(3))));
  const barW = (band * 0.8) / Math.max(1, series.length);
  const titleId = `${id}-title`;
  const descId = `${id}-desc`;
  return (
    <svg
      xmlns="http://www.w3.org/2000/svg" className="barchart" width={width} height={fullHeight} viewBox={`0 0 ${width} ${fullHeight}`}
      role="img" aria-labelledby={titleId} aria-describedby={description ? descId : undefined} fontFamily="Helvetica, Arial, sans-serif" fontSize={11}
    >
      <title id={titleId}>{title}</title>
      {description ? <desc id={descId}>{description}</desc> : null}
      <rect width={width} height={fullHeight} fill="#ffffff" />
      <text x={left} y={16} fontSize={12} fontWeight="bold" fill="#16181d" aria-hidden="true">{title}</text>
      {legendLines.map((line, i) =>
        line.map((l) => (
          <g key={l.name} transform={`translate(${l.x} ${30 + i * 16})`} data-legend={l.name}>
            <rect width={12} height={12} y={-10} rx={2} fill={l.color} />
            <text x={18} fill="#4d5361">{l.name}</text>
          </g>
        )),
      )}
      {ticks.map((t) => (
        <g key={t}>
          <line x1={left} x2={width - right} y1={gy(t)} y2={gy(t)} stroke="#e2e5ea" />
          <text x={left - 6} y={gy(t) + 4} textAnchor="end" fill="#4d5361">{tickText(t)}</text>
        </g>
      ))}
      {categories.map((c, ci) => {
        const x0 = left + ci * band + band * 0.1;
        const cx = left + (ci + 0.5) * band;
        const ly = top + plotH + 14;
        return (
          <g key={c} data-category={c}>
            {series.map((s, si) => {
              const v = s.values[ci] ?? 0;
              if (v <= 0) return null;
              return (
                <rect key={s.name} x={x0 + si * barW} y={gy(v)} width={Math.max(1, barW - 1)} height={top + plotH - gy(v)} fill={s.color} data-series={s.name}>
                  <title>{`${s.name}, ${c}: ${fmtInt(v)}${unit ? ` ${unit}` : ''}${detail ? `, ${detail(si, ci)}` : ''}`}</title>
                </rect>
              );
            })}
            {tilt ? (
              <text x={cx} y={ly} textAnchor="end" fill="#4d5361" transform={`rotate(-35 ${cx} ${ly})`}>{c}</text>
            ) : (
              <text x={cx} y={ly} textAnchor="middle" fill="#4d5361">{c}</text>
            )}
          </g>
        );
      })}
      <line x1={left} x2={width - right} y1={top + plotH} y2={top + plotH} stroke="#9aa1ad" />
      {xLabel ? <text x={(left + width - right) / 2} y={fullHeight - 6} textAnchor="middle" fill="#16181d">{xLabel}</text> : null}
      {yLabel ? <text x={12} y={top + plotH / 2} textAnchor="middle" fill="#16181d" transform={`rotate(-90 12 ${top + plotH / 2})`}>{yLabel}</text> : null}
    </svg>
  );
}
