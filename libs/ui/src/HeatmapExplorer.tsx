'use client';

import { useId, useState, type KeyboardEvent, type ReactNode, type Ref } from 'react';
import { cellValueText, depthPercent, heatmapLayout, type HeatmapCellRef } from '@ctxlab/contracts';
import { fmtInt } from './format';
import { Heatmap, type HeatmapProps } from './Heatmap';

/** What the hover card says about one grid cell (sample 0's prompt and answer, the mean over samples). */
export interface HeatmapCellDetail {
  promptTokens: number | null;
  /** The start of the model's answer. */
  excerpt: string | null;
  error: string | null;
  latencyMs: number | null;
  /** Scored samples behind the cell's value. */
  samples: number;
}

export interface HeatmapExplorerProps extends Omit<HeatmapProps, 'active' | 'onCellEnter' | 'onCellLeave' | 'onCellClick' | 'svgProps' | 'svgRef'> {
  /** details[depthIndex][lengthIndex], aligned with the matrix. */
  details?: readonly (readonly (HeatmapCellDetail | null)[])[];
  /** Opening a cell (click, Enter or Space on the focused cell). */
  onOpen?: (cell: HeatmapCellRef) => void;
  /** Extra lines for the hover card. */
  extra?: (cell: HeatmapCellRef) => ReactNode;
  svgRef?: Ref<SVGSVGElement>;
  /** Accessible name of the focusable heatmap. */
  label?: string;
}

/**
 * The heatmap with a hover card and keyboard navigation: arrows move between cells, Home/End jump
 * along the row, Enter or Space opens the cell. The focused cell is announced to screen readers.
 */
export function HeatmapExplorer(props: HeatmapExplorerProps) {
  const { details, onOpen, extra, svgRef, label, ...heat } = props;
  const [active, setActive] = useState<HeatmapCellRef | null>(null);
  const liveId = useId();
  const L = heatmapLayout(heat.lengths.length, heat.depths.length, heat.maxGridWidth, heat.maxGridHeight);
  const nx = heat.lengths.length;
  const ny = heat.depths.length;
  const diff = heat.scale === 'diff';

  const describe = (c: HeatmapCellRef) => {
    const v = heat.matrix[c.y]?.[c.x] ?? null;
    const l = heat.lengths[c.x] ?? 0;
    const d = heat.depths[c.y] ?? 0;
    const value = v === null ? 'no score' : cellValueText(v, heat.scale);
    return `${fmtInt(l)} tokens, depth ${depthPercent(d)}%: ${diff ? 'difference' : 'score'} ${value}`;
  };

  const onKeyDown = (e: KeyboardEvent<SVGSVGElement>) => {
    const c = active ?? { x: 0, y: 0 };
    let next: HeatmapCellRef | null = null;
    switch (e.key) {
      case 'ArrowRight': next = { x: Math.min(nx - 1, c.x + 1), y: c.y }; break;
      case 'ArrowLeft': next = { x: Math.max(0, c.x - 1), y: c.y }; break;
      case 'ArrowDown': next = { x: c.x, y: Math.min(ny - 1, c.y + 1) }; break;
      case 'ArrowUp': next = { x: c.x, y: Math.max(0, c.y - 1) }; break;
      case 'Home': next = { x: 0, y: c.y }; break;
      case 'End': next = { x: nx - 1, y: c.y }; break;
      case 'Enter':
      case ' ':
        if (active && onOpen) {
          e.preventDefault();
          onOpen(active);
        }
        return;
      case 'Escape': setActive(null); return;
      default: return;
    }
    e.preventDefault();
    setActive(next);
  };

  const card = active ? (() => {
    const v = heat.matrix[active.y]?.[active.x] ?? null;
    const det = details?.[active.y]?.[active.x] ?? null;
    const cx = L.left + (active.x + 1) * L.cellWidth;
    const cy = L.top + active.y * L.cellHeight;
    const flip = cx > L.width * 0.62;
    const style = {
      left: `${((flip ? L.left + active.x * L.cellWidth : cx) / L.width) * 100}%`,
      top: `${(cy / L.height) * 100}%`,
      transform: flip ? 'translate(calc(-100% - 8px), 0)' : 'translate(8px, 0)',
    };
    return (
      <div className="hm-card" style={style} role="tooltip" data-testid="heatmap-tooltip">
        <div className="hm-card-value">
          {v === null ? <span className="hm-missing">no score</span> : cellValueText(v, heat.scale)}
          {!diff && v !== null && det && det.samples > 1 ? <span className="hm-muted"> mean of {det.samples}</span> : null}
        </div>
        <dl>
          <dt>length</dt><dd>{fmtInt(heat.lengths[active.x])} tokens</dd>
          <dt>depth</dt><dd>{depthPercent(heat.depths[active.y] ?? 0)}%</dd>
          {det && <><dt>prompt</dt><dd>{fmtInt(det.promptTokens)} tokens</dd></>}
          {det?.latencyMs !== null && det?.latencyMs !== undefined && <><dt>latency</dt><dd>{fmtInt(det.latencyMs)} ms</dd></>}
        </dl>
        {det?.error ? <p className="hm-error">{det.error}</p> : det?.excerpt ? <p className="hm-excerpt">“{det.excerpt.trim()}{det.excerpt.length >= 160 ? '…' : ''}”</p> : null}
        {extra?.(active)}
        {onOpen && <p className="hm-muted">Click or press Enter to open the cell</p>}
      </div>
    );
  })() : null;

  return (
    <div className="hm-wrap">
      <Heatmap
        {...heat}
        svgRef={svgRef}
        active={active}
        onCellEnter={setActive}
        onCellLeave={() => setActive(null)}
        onCellClick={onOpen}
        svgProps={{
          tabIndex: 0,
          onKeyDown,
          onFocus: () => setActive((a) => a ?? { x: 0, y: 0 }),
          onBlur: () => setActive(null),
          'aria-describedby': liveId,
          ...(label ? { 'aria-label': `${label}. Use the arrow keys to move between cells${onOpen ? ' and Enter to open one' : ''}.` } : {}),
          className: 'hm-svg',
        }}
      />
      {card}
      <p id={liveId} className="sr-only" aria-live="polite">{active ? describe(active) : ''}</p>
    </div>
  );
}
