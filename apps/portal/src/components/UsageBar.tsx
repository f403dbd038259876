/**
 * How much of a limit is used, as a bar with its numbers in words (role="meter"): red once the use
 * reaches the limit, so "full" never rests on the bar's length alone — the text says it too.
 */
export function UsageBar({ used, limit, label, text }: { used: number; limit: number; label: string; text: string }) {
  const pct = limit > 0 ? Math.min(100, (used / limit) * 100) : used > 0 ? 100 : 0;
  const full = limit <= 0 ? used > 0 : used >= limit;
  return (
    <div style={{ minWidth: 140 }}>
      <div className="progress" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={limit} aria-valuenow={Math.min(used, limit)} aria-valuetext={text}>
        <div className={full ? 'progress-failed' : 'progress-fill'} style={{ width: `${pct}%` }} />
      </div>
      <span className={`progress-line${full ? ' status-bad' : ''}`}>{text}{full ? ' · limit reached' : ''}</span>
    </div>
  );
}

/** A pool's GPUs in one bar: held by ctxlab jobs, used by other work on its nodes, and free. */
export function PoolBar({ gpus, held, free, foreign, label }: { gpus: number; held: number | null; free: number | null; foreign: number; label: string }) {
  const size = Math.max(1, gpus);
  const h = held ?? 0;
  const f = free ?? Math.max(0, gpus - foreign - h);
  const words = `${label}: ${held === null ? 'no scheduling pass yet' : `${h} held`}, ${foreign ? `${foreign} used by other work, ` : ''}${f} free, of ${gpus}`;
  return (
    <div className="bar-stack" role="img" aria-label={words} title={words} style={{ minWidth: 160, margin: '4px 0' }}>
      <span style={{ width: `${(h / size) * 100}%`, background: '#2f5bd3' }} />
      <span style={{ width: `${(Math.min(foreign, gpus) / size) * 100}%`, background: '#8a90a0' }} />
      <span style={{ width: `${(f / size) * 100}%`, background: '#08795a' }} />
    </div>
  );
}
