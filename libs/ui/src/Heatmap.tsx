import { useId, type MouseEvent, type Ref, type SVGProps } from 'react';
import { contextLabel, depthPercent } from './format';
import { DIFF_STOP_HEX, diffColor, inkOn, MISSING_FILL, MISSING_STROKE, SCORE_STOP_HEX, scoreColor } from './scale';

export type HeatmapScale = 'score' | 'diff';

export interface HeatmapCellRef {
  /** Index into lengths (column). */
  x: number;
  /** Index into depths (row; 0 = the top row). */
  y: number;
}

export interface HeatmapProps {
  /** x axis: context lengths ("Token Limit"), ascending. */
  lengths: readonly number[];
  /** y axis: depths as fractions 0–1, ascending; drawn with 0 at the top. */
  depths: readonly number[];
  /** matrix[depthIndex][lengthIndex]: a score 0–100 (or a difference −100…100), null when the cell has none. */
  matrix: readonly (readonly (number | null)[])[];
  /** Model or run name: the title reads "Pressure Testing {name}. Avg score {average}". */
  name?: string;
  /** Replaces the whole title line. */
  title?: string;
  subtitle?: string | null;
  /** Mean shown in the title; by default the mean of the cells that have a value. */
  average?: number | null;
  scale?: HeatmapScale;
  /** Largest size of the grid itself in px; cells shrink to fit. */
  maxGridWidth?: number;
  maxGridHeight?: number;
  /** Print each cell's value in it (default: when cells are large enough to read). */
  showValues?: boolean;
  /** Cell outlined as hovered / keyboard-focused. */
  active?: HeatmapCellRef | null;
  onCellEnter?: (cell: HeatmapCellRef) => void;
  onCellLeave?: () => void;
  onCellClick?: (cell: HeatmapCellRef) => void;
  /**
   * Row labels in place of depth percents: a heatmap whose rows are not depths (RULER's tasks by
   * length). `depths` then only counts the rows.
   */
  rowLabels?: readonly string[];
  /** The y axis' title (default "Depth Percent"). */
  rowAxisTitle?: string;
  /** Extra attributes for the <svg> (tabIndex, onKeyDown, aria-*). */
  svgProps?: Omit<SVGProps<SVGSVGElement>, 'ref'>;
  svgRef?: Ref<SVGSVGElement>;
}

export interface HeatmapLayout {
  cellWidth: number;
  cellHeight: number;
  left: number;
  top: number;
  gridWidth: number;
  gridHeight: number;
  width: number;
  height: number;
  barX: number;
}

export function heatmapLayout(nLengths: number, nDepths: number, maxGridWidth = 880, maxGridHeight = 520, left = 72): HeatmapLayout {
  const cellWidth = Math.max(12, Math.min(110, Math.floor(maxGridWidth / Math.max(1, nLengths))));
  const cellHeight = Math.max(10, Math.min(46, Math.floor(maxGridHeight / Math.max(1, nDepths))));
  const top = 62;
  const gridWidth = cellWidth * nLengths;
  const gridHeight = cellHeight * nDepths;
  const barX = left + gridWidth + 24;
  return { cellWidth, cellHeight, left, top, gridWidth, gridHeight, width: barX + 74, height: top + gridHeight + 74, barX };
}

/** A cell's value as the heatmap prints it: "87.5", or signed for differences ("+12.0", "-3.4"). */
export const cellValueText = (v: number, scale: HeatmapScale = 'score') => (scale === 'diff' && v > 0 ? `+${v.toFixed(1)}` : v.toFixed(1));

/** Every k-th label so that labels keep at least `minGap` px between them. */
const stride = (cell: number, minGap: number) => Math.max(1, Math.ceil(minGap / cell));

export function meanOf(matrix: readonly (readonly (number | null)[])[]): number | null {
  let sum = 0;
  let n = 0;
  for (const row of matrix) {
    for (const v of row) {
      if (v === null || !Number.isFinite(v)) continue;
      sum += v;
      n++;
    }
  }
  return n ? sum / n : null;
}

function cellFromEvent(e: MouseEvent<SVGElement>): HeatmapCellRef | null {
  const t = e.target as Element | null;
  const x = t?.getAttribute?.('data-x');
  const y = t?.getAttribute?.('data-y');
  return x === null || x === undefined || y === null || y === undefined ? null : { x: Number(x), y: Number(y) };
}

/**
 * The NIAH heatmap in the field's convention: x = context length ("Token Limit"), y = depth
 * percent with 0 at the top, red → yellow → green over 0–100, the average score in the title.
 * A cell without a score is grey and hatched (`data-missing`), never drawn as a 0. Plain SVG with
 * presentation attributes only, so the element can be saved as a standalone .svg or drawn to a
 * canvas as it is.
 */
export function Heatmap(props: HeatmapProps) {
  const uid = useId().replace(/[^A-Za-z0-9_-]/g, '');
  const { lengths, depths, matrix } = props;
  const scale = props.scale ?? 'score';
  const rowLabel = (y: number) => props.rowLabels?.[y] ?? depthPercent(depths[y] ?? 0);
  // Room for the longest row label (11 px Helvetica is about 6.2 px a character) and the axis title.
  const left = props.rowLabels ? Math.max(72, Math.ceil(Math.max(...props.rowLabels.map((l) => l.length)) * 6.2) + 34) : 72;
  const L = heatmapLayout(lengths.length, depths.length, props.maxGridWidth, props.maxGridHeight, left);
  const average = props.average === undefined ? meanOf(matrix) : props.average;
  const color = scale === 'diff' ? diffColor : scoreColor;
  const title =
    props.title ??
    (scale === 'diff'
      ? `${props.name ?? 'Difference'}. Mean difference ${average === null ? 'n/a' : cellValueText(average, scale)}`
      : `Pressure Testing ${props.name ?? 'model'}. Avg score ${average === null ? 'n/a' : average.toFixed(2)}`);
  const subtitle = props.subtitle === undefined ? (scale === 'diff' ? 'Score difference per cell (run − baseline)' : 'Fact Retrieval Across Context Lengths ("Needle In A HayStack")') : props.subtitle;
  // A narrow grid (one or two lengths) would clip its centred title: widen the picture to the text's estimated width.
  const textWidth = Math.max(title.length * 8, (subtitle ?? '').length * 6.5);
  const width = Math.max(L.width, Math.ceil(textWidth) + 16);
  const titleX = Math.max(L.left + L.gridWidth / 2, textWidth / 2 + 8);
  const showValues = props.showValues ?? (L.cellWidth >= 34 && L.cellHeight >= 18);
  const xEvery = stride(L.cellWidth, 30);
  const yEvery = stride(L.cellHeight, 13);
  const missingId = `hm-missing-${uid}`;
  const barId = `hm-bar-${uid}`;
  const stops = scale === 'diff' ? DIFF_STOP_HEX : SCORE_STOP_HEX;
  const [lo, hi] = scale === 'diff' ? [-100, 100] : [0, 100];
  const ticks = scale === 'diff' ? [-100, -50, 0, 50, 100] : [0, 20, 40, 60, 80, 100];
  const interactive = Boolean(props.onCellEnter || props.onCellClick);
  const a = props.active;

  return (
    <svg
      xmlns="http://www.w3.org/2000/svg"
      ref={props.svgRef}
      width={width}
      height={L.height}
      viewBox={`0 0 ${width} ${L.height}`}
      fontFamily="Helvetica, Arial, sans-serif"
      fontSize={11}
      role="img"
      aria-label={`${title}. ${lengths.length} context lengths by ${depths.length} ${props.rowLabels ? (props.rowAxisTitle ?? 'rows').toLowerCase() : 'depths'}.`}
      data-scale={scale}
      {...props.svgProps}
    >
      <defs>
        <pattern id={missingId} width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
          <rect width="6" height="6" fill={MISSING_FILL} />
          <line x1="0" y1="0" x2="0" y2="6" stroke={MISSING_STROKE} strokeWidth="2" />
        </pattern>
        <linearGradient id={barId} x1="0" y1="1" x2="0" y2="0">
          {stops.map(([s, c]) => (
            <stop key={s} offset={`${((s - lo) / (hi - lo)) * 100}%`} stopColor={c} />
          ))}
        </linearGradient>
      </defs>
      <rect width={width} height={L.height} fill="#ffffff" />
      <text x={titleX} y={22} textAnchor="middle" fontSize={14} fontWeight="bold" fill="#16181d" data-role="title">
        {title}
      </text>
      {subtitle && (
        <text x={titleX} y={40} textAnchor="middle" fontSize={12} fill="#3d4350">
          {subtitle}
        </text>
      )}
      <g
        data-role="cells"
        style={interactive ? { cursor: 'pointer' } : undefined}
        onMouseMove={
          props.onCellEnter
            ? (e) => {
                const c = cellFromEvent(e);
                if (c && (c.x !== a?.x || c.y !== a?.y)) props.onCellEnter!(c);
              }
            : undefined
        }
        onMouseLeave={props.onCellLeave ? () => props.onCellLeave!() : undefined}
        onClick={
          props.onCellClick
            ? (e) => {
                const c = cellFromEvent(e);
                if (c) props.onCellClick!(c);
              }
            : undefined
        }
      >
        {depths.map((d, y) =>
          lengths.map((l, x) => {
            const v = matrix[y]?.[x] ?? null;
            const missing = v === null || !Number.isFinite(v);
            const fill = missing ? `url(#${missingId})` : color(v);
            return (
              <rect
                key={`${x}:${y}`}
                x={L.left + x * L.cellWidth}
                y={L.top + y * L.cellHeight}
                width={L.cellWidth}
                height={L.cellHeight}
                fill={fill}
                stroke="#ffffff"
                strokeWidth={0.5}
                data-x={x}
                data-y={y}
                data-length={l}
                data-depth={d}
                {...(missing ? { 'data-missing': 'true' } : { 'data-score': String(v) })}
              >
                <title>{`${l.toLocaleString('en-US')} tokens, ${props.rowLabels ? rowLabel(y) : `depth ${depthPercent(d)}%`}: ${missing ? 'no score' : cellValueText(v, scale)}`}</title>
              </rect>
            );
          }),
        )}
        {showValues &&
          depths.map((_d, y) =>
            lengths.map((_l, x) => {
              const v = matrix[y]?.[x] ?? null;
              if (v === null || !Number.isFinite(v)) return null;
              return (
                <text
                  key={`t${x}:${y}`}
                  x={L.left + x * L.cellWidth + L.cellWidth / 2}
                  y={L.top + y * L.cellHeight + L.cellHeight / 2 + 4}
                  textAnchor="middle"
                  fontSize={10}
                  fill={inkOn(color(v))}
                  pointerEvents="none"
                >
                  {scale === 'diff' ? cellValueText(v, scale).replace('.0', '') : Math.round(v)}
                </text>
              );
            }),
          )}
      </g>
      {a && a.x >= 0 && a.y >= 0 && a.x < lengths.length && a.y < depths.length && (
        <rect
          data-role="active"
          x={L.left + a.x * L.cellWidth + 1}
          y={L.top + a.y * L.cellHeight + 1}
          width={L.cellWidth - 2}
          height={L.cellHeight - 2}
          fill="none"
          stroke="#10131a"
          strokeWidth={2}
          pointerEvents="none"
        />
      )}
      {depths.map((_d, y) =>
        y % yEvery === 0 || y === depths.length - 1 ? (
          <text key={`dl${y}`} x={L.left - 6} y={L.top + y * L.cellHeight + L.cellHeight / 2 + 4} textAnchor="end" fill="#16181d">
            {rowLabel(y)}
          </text>
        ) : null,
      )}
      {lengths.map((l, x) => {
        if (x % xEvery !== 0 && x !== lengths.length - 1) return null;
        if (x === lengths.length - 1 && x % xEvery !== 0 && x % xEvery < xEvery / 2) return null;
        const cx = L.left + x * L.cellWidth + L.cellWidth / 2;
        const cy = L.top + L.gridHeight + 12;
        return (
          <text key={`ll${x}`} x={cx} y={cy} textAnchor="end" transform={`rotate(-45 ${cx} ${cy})`} fill="#16181d">
            {contextLabel(l)}
          </text>
        );
      })}
      <text x={L.left + L.gridWidth / 2} y={L.height - 8} textAnchor="middle" fontSize={12} fill="#16181d">
        Token Limit
      </text>
      <text x={16} y={L.top + L.gridHeight / 2} textAnchor="middle" fontSize={12} fill="#16181d" transform={`rotate(-90 16 ${L.top + L.gridHeight / 2})`}>
        {props.rowAxisTitle ?? 'Depth Percent'}
      </text>
      <rect x={L.barX} y={L.top} width={14} height={L.gridHeight} fill={`url(#${barId})`} />
      {ticks.map((s) => {
        const yy = L.top + L.gridHeight - ((s - lo) / (hi - lo)) * L.gridHeight;
        return (
          <g key={`bt${s}`}>
            <line x1={L.barX + 14} y1={yy} x2={L.barX + 18} y2={yy} stroke="#16181d" />
            <text x={L.barX + 21} y={yy + 4} fill="#16181d">
              {scale === 'diff' && s > 0 ? `+${s}` : s}
            </text>
          </g>
        );
      })}
      <text x={L.barX + 62} y={L.top + L.gridHeight / 2} textAnchor="middle" fill="#16181d" transform={`rotate(90 ${L.barX + 62} ${L.top + L.gridHeight / 2})`}>
        {scale === 'diff' ? 'Score difference' : 'Score'}
      </text>
    </svg>
  );
}
