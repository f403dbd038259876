'use client';

import { HeatmapExplorer, type HeatmapCellRef } from '@ctxlab/ui';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { cellHref } from '../lib/links';

interface Run { id: string; name: string; matrix: (number | null)[][]; diff: (number | null)[][]; average: number | null; meanDiff: number | null }

/** The runs' heatmaps side by side on one grid, or each run's difference from the baseline. */
export function CompareView({ lengths, depths, runs, baselineId }: { lengths: number[]; depths: number[]; runs: Run[]; baselineId: string }) {
  const router = useRouter();
  const [view, setView] = useState<'scores' | 'diff'>('scores');
  const base = runs.find((r) => r.id === baselineId)!;
  // The difference view keeps the baseline's own scores first, so a difference can be read against them.
  const shown = view === 'scores' ? runs.map((r) => ({ r, diff: false })) : [{ r: base, diff: false }, ...runs.filter((r) => r.id !== baselineId).map((r) => ({ r, diff: true }))];
  const fmt = (v: number | null | undefined) => (v === null || v === undefined ? 'no score' : v.toFixed(1));
  const extra = (c: HeatmapCellRef) => (
    <dl>
      {runs.map((r) => <div key={r.id} style={{ display: 'contents' }}><dt>{r.name}</dt><dd>{fmt(r.matrix[c.y]?.[c.x])}</dd></div>)}
    </dl>
  );
  return (
    <section className="panel" aria-labelledby="cmp-h">
      <div className="panel-head">
        <h2 id="cmp-h">{view === 'scores' ? 'Side by side' : `Difference from ${base.name}`}</h2>
        <div className="segmented" role="group" aria-label="View">
          <button type="button" aria-pressed={view === 'scores'} onClick={() => setView('scores')} data-testid="view-scores">Scores</button>
          <button type="button" aria-pressed={view === 'diff'} onClick={() => setView('diff')} data-testid="view-diff">Difference</button>
        </div>
      </div>
      <div className="compare-grid" data-testid={view === 'scores' ? 'compare-scores' : 'compare-diff'}>
        {shown.map(({ r, diff }) => (
          <div key={`${view}-${r.id}-${diff}`} className="heatmap-panel" data-diff={diff ? 'true' : undefined}>
            <HeatmapExplorer
              lengths={lengths}
              depths={depths}
              matrix={diff ? r.diff : r.matrix}
              scale={diff ? 'diff' : 'score'}
              name={diff ? `${r.name} − ${base.name}` : view === 'diff' ? `${r.name} (baseline)` : r.name}
              average={diff ? r.meanDiff : r.average}
              maxGridWidth={runs.length > 2 ? 430 : 520}
              maxGridHeight={320}
              label={diff ? `Difference of ${r.name} from ${base.name}` : `Heatmap of ${r.name}`}
              extra={extra}
              onOpen={(c) => {
                const l = lengths[c.x];
                const d = depths[c.y];
                if (l !== undefined && d !== undefined) router.push(cellHref(r.id, l, d));
              }}
            />
          </div>
        ))}
      </div>
      <p className="panel-note">
        {view === 'scores'
          ? 'Each run on the common grid; a hatched cell is one the run has no score for (not on its grid, not run, or failed) — never a 0.'
          : 'Green: better than the baseline; red: worse; near-white: the same. Hatched: one of the two has no score there.'}
      </p>
    </section>
  );
}
