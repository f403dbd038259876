import { fmtInt } from '@ctxlab/ui';

/** A loss as people read it: 4 significant digits (2.314, 0.08123). */
export const fmtLoss = (l: number | null | undefined): string => (l === null || l === undefined || !Number.isFinite(l) ? '—' : Number(l.toPrecision(4)).toString());

/**
 * A training job's loss curve ([step, loss] pairs, as the GPU job's progress records them) as a
 * small line chart: the loss axis from its lowest to its highest value, the steps from the first
 * to the last recorded, the last loss marked. For a table row or a grid of stages; the bigger
 * chart of one job is @ctxlab/ui's LineChart (the job page).
 */
export function LossCurve({ curve, title, width = 280, height = 120, color = '#2563eb' }: { curve: readonly (readonly [number, number])[]; title: string; width?: number; height?: number; color?: string }) {
  const points = curve.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (points.length < 2) {
    return <p className="loss-curve-empty">{points.length === 1 ? `one point so far: loss ${fmtLoss(points[0]![1])} at step ${fmtInt(points[0]![0])}` : 'no loss recorded yet'}</p>;
  }
  const left = 44;
  const right = 10;
  const top = 8;
  const bottom = 22;
  const xs = points.map(([x]) => x);
  const ys = points.map(([, y]) => y);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  // A flat curve still gets a band to sit in.
  const pad = hi === lo ? Math.max(Math.abs(hi) * 0.05, 0.01) : (hi - lo) * 0.06;
  const y0 = lo - pad;
  const y1 = hi + pad;
  const gx = (x: number) => left + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (width - left - right);
  const gy = (y: number) => top + (1 - (y - y0) / (y1 - y0)) * (height - top - bottom);
  const d = [...points].sort((a, b) => a[0] - b[0]).map(([x, y], i) => `${i ? 'L' : 'M'} ${gx(x).toFixed(1)} ${gy(y).toFixed(1)}`).join(' ');
  const [lastX, lastY] = points.reduce((a, p) => (p[0] >= a[0] ? p : a));
  const label = `${title}: loss from ${fmtLoss(points[0]![1])} at step ${fmtInt(points[0]![0])} to ${fmtLoss(lastY)} at step ${fmtInt(lastX)} (lowest ${fmtLoss(lo)})`;
  return (
    <svg xmlns="http://www.w3.org/2000/svg" className="loss-curve" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label} fontFamily="Helvetica, Arial, sans-serif" fontSize={10}>
      <title>{label}</title>
      <rect width={width} height={height} fill="#ffffff" />
      {[hi, (hi + lo) / 2, lo].map((t, i) => (
        <g key={i}>
          <line x1={left} x2={width - right} y1={gy(t)} y2={gy(t)} stroke="#e2e5ea" />
          <text x={left - 4} y={gy(t) + 3} textAnchor="end" fill="#4d5361">{fmtLoss(t)}</text>
        </g>
      ))}
      <text x={left} y={height - 6} textAnchor="start" fill="#4d5361">{fmtInt(x0)}</text>
      <text x={width - right} y={height - 6} textAnchor="end" fill="#4d5361">{fmtInt(x1)} steps</text>
      <path d={d} fill="none" stroke={color} strokeWidth={1.6} strokeLinejoin="round" />
      <circle cx={gx(lastX)} cy={gy(lastY)} r={3} fill={color} />
    </svg>
  );
}
