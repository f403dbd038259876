import { contextLabel } from './format';

export interface LineSeries {
  name: string;
  color: string;
  points: readonly { x: number; y: number | null }[];
}

export interface LineChartProps {
  series: readonly LineSeries[];
  title: string;
  xLabel?: string;
  yLabel?: string;
  yMin?: number;
  yMax?: number;
  width?: number;
  height?: number;
  /** What x counts, in point tooltips. */
  xUnit?: string;
}

/** Score against context length, one line per run; gaps where a length has no score. */
export function LineChart({ series, title, xLabel = 'Token Limit', yLabel = 'Score', yMin = 0, yMax = 100, width = 560, height = 240, xUnit = 'tokens' }: LineChartProps) {
  const left = 44;
  const right = 12;
  const top = 28;
  const bottom = 40;
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const x0 = xs[0] ?? 0;
  const x1 = xs[xs.length - 1] ?? 1;
  const gx = (x: number) => left + (x1 === x0 ? (width - left - right) / 2 : ((x - x0) / (x1 - x0)) * (width - left - right));
  const gy = (y: number) => top + (1 - (y - yMin) / (yMax - yMin)) * (height - top - bottom);
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => yMin + f * (yMax - yMin));
  const xEvery = Math.max(1, Math.ceil(xs.length / 8));
  return (
    <svg xmlns="http://www.w3.org/2000/svg" className="linechart" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title} fontFamily="Helvetica, Arial, sans-serif" fontSize={11}>
      <rect width={width} height={height} fill="#ffffff" />
      <text x={left} y={16} fontSize={12} fontWeight="bold" fill="#16181d">{title}</text>
      {yTicks.map((t) => (
        <g key={t}>
          <line x1={left} x2={width - right} y1={gy(t)} y2={gy(t)} stroke="#e2e5ea" />
          <text x={left - 6} y={gy(t) + 4} textAnchor="end" fill="#4d5361">{yMax - yMin < 1 ? Number(t.toPrecision(2)) : yMax - yMin < 20 ? t.toFixed(1) : Math.round(t)}</text>
        </g>
      ))}
      {xs.map((x, i) => (i % xEvery === 0 || i === xs.length - 1 ? <text key={x} x={gx(x)} y={height - bottom + 16} textAnchor="middle" fill="#4d5361">{contextLabel(x)}</text> : null))}
      <text x={(left + width - right) / 2} y={height - 6} textAnchor="middle" fill="#16181d">{xLabel}</text>
      <text x={12} y={(top + height - bottom) / 2} textAnchor="middle" fill="#16181d" transform={`rotate(-90 12 ${(top + height - bottom) / 2})`}>{yLabel}</text>
      {series.map((s) => {
        const segs: string[] = [];
        let cur = '';
        for (const p of [...s.points].sort((a, b) => a.x - b.x)) {
          if (p.y === null) {
            if (cur) segs.push(cur);
            cur = '';
            continue;
          }
          cur += `${cur ? ' L' : 'M'} ${gx(p.x).toFixed(1)} ${gy(p.y).toFixed(1)}`;
        }
        if (cur) segs.push(cur);
        return (
          <g key={s.name} data-series={s.name}>
            {segs.map((d, i) => <path key={i} d={d} fill="none" stroke={s.color} strokeWidth={2} />)}
            {s.points.map((p) => (p.y === null ? null : <circle key={p.x} cx={gx(p.x)} cy={gy(p.y)} r={2.5} fill={s.color}><title>{`${s.name}: ${p.x.toLocaleString('en-US')} ${xUnit}, ${p.y.toFixed(yMax - yMin < 20 ? 3 : 1)}`}</title></circle>))}
          </g>
        );
      })}
    </svg>
  );
}
