/**
 * The heatmap, once for every place that shows one: the colour scales, the mean over scored values,
 * the lengths × depths matrix built from cell scores, and the drawing. The drawing is a plain SVG
 * element tree: the portal renders it with React (libs/ui's <Heatmap>), the exports and the CLI
 * serialise it to a standalone .svg (`heatmapSvg`). Plain TypeScript: no DOM, no React.
 *
 * The score scale is the field's NIAH convention (gkamradt, 360Zhinao, Gradient): red → yellow →
 * green over 0–100 with stops #F0496E, #EBB839, #0CD79F, linear in RGB between them.
 */

type Rgb = readonly [number, number, number];

export const SCORE_STOPS: readonly (readonly [number, Rgb])[] = [
  [0, [0xf0, 0x49, 0x6e]],
  [50, [0xeb, 0xb8, 0x39]],
  [100, [0x0c, 0xd7, 0x9f]],
];

/** Fill of a cell that has no score (not run yet, or its request failed): grey, drawn hatched. */
export const MISSING_FILL = '#d9dce1';
export const MISSING_STROKE = '#9aa1ad';

const hex = (c: Rgb) => `#${c.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
const mix = (a: Rgb, b: Rgb, t: number): Rgb => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];

function piecewise(stops: readonly (readonly [number, Rgb])[], v: number): string {
  const first = stops[0]!;
  const last = stops[stops.length - 1]!;
  const x = Math.max(first[0], Math.min(last[0], v));
  let i = 0;
  while (i < stops.length - 2 && x > stops[i + 1]![0]) i++;
  const [s0, c0] = stops[i]!;
  const [s1, c1] = stops[i + 1]!;
  return hex(mix(c0, c1, s1 === s0 ? 0 : (x - s0) / (s1 - s0)));
}

/** The colour of a score from 0 to 100 (clamped); lower-case #rrggbb. */
export function scoreColor(score: number): string {
  return piecewise(SCORE_STOPS, score);
}

export const SCORE_STOP_HEX = SCORE_STOPS.map(([s, c]) => [s, hex(c)] as const);

/** Diverging scale for differences (run − baseline) from −100 to +100: worse red, same near-white, better green. */
export const DIFF_STOPS: readonly (readonly [number, Rgb])[] = [
  [-100, [0xc0, 0x26, 0x4a]],
  [-50, [0xf0, 0x49, 0x6e]],
  [0, [0xf4, 0xf5, 0xf7]],
  [50, [0x0c, 0xd7, 0x9f]],
  [100, [0x06, 0x8f, 0x69]],
];

export function diffColor(delta: number): string {
  return piecewise(DIFF_STOPS, delta);
}

export const DIFF_STOP_HEX = DIFF_STOPS.map(([s, c]) => [s, hex(c)] as const);

/** Dark or light text for a background, by WCAG relative luminance (keeps ≥ 4.5:1 on every scale colour). */
export function inkOn(background: string): string {
  const n = Number.parseInt(background.slice(1), 16);
  const ch = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const lum = 0.2126 * ch[0]! + 0.7152 * ch[1]! + 0.0722 * ch[2]!;
  return lum > 0.18 ? '#16181d' : '#ffffff';
}

/** The mean of the values that are numbers (null, undefined, NaN and ±Infinity left out); null when there are none. */
export function meanOf(values: Iterable<number | null | undefined>): number | null {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    sum += v;
    n++;
  }
  return n ? sum / n : null;
}

/**
 * Scores of a (length, depth) cell, or of a part of it: a row of the repository's heatmap
 * aggregate (sum and count of scored samples, failed requests, summed in PostgreSQL), or one
 * sample (sum = its score and n = 1; a failed one n = 0 and failed = 1). Rows of one cell add up.
 */
export interface HeatmapCellScores {
  length: number;
  depth: number;
  sum: number;
  /** Scored samples. */
  n: number;
  /** Samples whose request failed (never scored). */
  failed?: number;
}

export interface HeatmapAxes {
  /** x axis, ascending. */
  lengths: number[];
  /** y axis as fractions, ascending (drawn top to bottom). */
  depths: number[];
}

export interface HeatmapData extends HeatmapAxes {
  /** matrix[depthIndex][lengthIndex]: mean score over the cell's scored samples, null when none (never 0). */
  matrix: (number | null)[][];
  /** Scored samples behind each cell. */
  counts: number[][];
  /** Mean of the non-null cells (the field's "average score"); null when nothing was scored. */
  average: number | null;
  /** Scored samples, every row's. */
  scored: number;
  /** Failed samples, every row's. */
  failed: number;
}

const asc = (a: number, b: number) => a - b;

/** Where the cell of a length and a depth sits in matrix[depth][length]: { x, y }, or null when off the axes. */
export function cellIndex(axes: HeatmapAxes): (length: number, depth: number) => { x: number; y: number } | null {
  const li = new Map(axes.lengths.map((l, i) => [l, i]));
  const di = new Map(axes.depths.map((d, i) => [d, i]));
  return (length, depth) => {
    const x = li.get(length);
    const y = di.get(depth);
    return x === undefined || y === undefined ? null : { x, y };
  };
}

/**
 * The lengths × depths matrix of mean scores from cell scores. Axes left out are the rows' own
 * (ascending); rows off the given axes are not drawn, though their samples still count in
 * `scored` and `failed`. A cell with no scored sample is null, never 0.
 */
export function heatmapMatrix(rows: readonly HeatmapCellScores[], axes?: { lengths?: number[] | undefined; depths?: number[] | undefined }): HeatmapData {
  const lengths = axes?.lengths ?? [...new Set(rows.map((r) => r.length))].sort(asc);
  const depths = axes?.depths ?? [...new Set(rows.map((r) => r.depth))].sort(asc);
  const at = cellIndex({ lengths, depths });
  const sums = depths.map(() => lengths.map(() => 0));
  const counts = depths.map(() => lengths.map(() => 0));
  let scored = 0;
  let failed = 0;
  for (const r of rows) {
    scored += r.n;
    failed += r.failed ?? 0;
    const c = at(r.length, r.depth);
    if (!c || r.n === 0) continue;
    sums[c.y]![c.x]! += r.sum;
    counts[c.y]![c.x]! += r.n;
  }
  const matrix = sums.map((row, y) => row.map((s, x) => (counts[y]![x]! > 0 ? s / counts[y]![x]! : null)));
  return { lengths, depths, matrix, counts, average: meanOf(matrix.flat()), scored, failed };
}

/**
 * How the field names context sizes: 65,536 → "65K", 1,048,576 → "1048K", 8,192 → "8K", 900 → "900".
 * Below 10K a length that is not a whole thousand (or 1024-multiple) keeps one decimal, so a sweep's
 * 1,000 / 1,500 / 2,000 stay apart: "1K", "1.5K", "2K".
 */
export function contextLabel(n: number): string {
  if (n < 1000) return String(n);
  if (n < 10_000 && n % 1000 !== 0 && n % 1024 !== 0) return `${(Math.round(n / 100) / 10).toString()}K`;
  return `${Math.floor(n / 1000)}K`;
}

/** Depth fraction → percent as the field prints it: 0.2 → "20", 0.05 → "5", 1/3 → "33.3". */
export function depthPercent(d: number): string {
  const p = Math.round(d * 100_000) / 1000;
  return Number.isInteger(p) ? String(p) : p.toFixed(1);
}

export type HeatmapScale = 'score' | 'diff';

export interface HeatmapCellRef {
  /** Index into lengths (column). */
  x: number;
  /** Index into depths (row; 0 = the top row). */
  y: number;
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

/** What a heatmap shows and how. */
export interface HeatmapDrawing {
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
  /**
   * Row labels in place of depth percents: a heatmap whose rows are not depths (RULER's tasks by
   * length). `depths` then only counts the rows.
   */
  rowLabels?: readonly string[];
  /** The y axis' title (default "Depth Percent"). */
  rowAxisTitle?: string;
  /** Makes the ids of the hatch pattern and the colour bar unique on a page with several heatmaps. */
  uid?: string;
  /**
   * Cells drawn compactly: one <path> per colour holding a closed square per cell, the white
   * outline set once for all; no per-cell element, <title> or data attributes. The picture is the
   * same at a fourteenth of the markup (a 100 × 100 grid: about 0.17 MB instead of 2.4 MB). For
   * standalone pictures: `heatmapSvg` draws grids beyond COMPACT_HEATMAP_CELLS this way; the
   * portal's interactive heatmap needs each cell's element with its data-x/data-y.
   */
  compact?: boolean;
}

/**
 * Beyond this many cells a standalone heatmap (`heatmapSvg`) is drawn compact: cells that small
 * (12 × 10 px at 100 × 100) gain little from a tooltip each, and their elements, titles and data
 * attributes are more than nine tenths of the full drawing's markup.
 */
export const COMPACT_HEATMAP_CELLS = 2_500;

/** An SVG element: its tag, its attributes by their SVG names (undefined: left out), its children. */
export interface SvgNode {
  tag: string;
  attrs: Record<string, string | number | undefined>;
  children: (SvgNode | string)[];
}

const el = (tag: string, attrs: SvgNode['attrs'], ...children: (SvgNode | string | null | false | undefined)[]): SvgNode => ({
  tag,
  attrs,
  children: children.filter((c): c is SvgNode | string => c !== null && c !== false && c !== undefined),
});

/**
 * The NIAH heatmap in the field's convention: x = context length ("Token Limit"), y = depth
 * percent with 0 at the top, red → yellow → green over 0–100, the average score in the title,
 * a colour bar with ticks. A cell without a score is grey and hatched (`data-missing`), never
 * drawn as a 0; every cell carries its length, depth and score as data attributes and a <title>
 * (unless `compact`), the picture a role and an accessible name. Presentation attributes only, so
 * the element is a standalone .svg as it is. `data-role` marks the title, the cells' group and the
 * active outline.
 */
export function heatmapDrawing(o: HeatmapDrawing): SvgNode {
  const { lengths, depths, matrix } = o;
  const scale = o.scale ?? 'score';
  const uid = o.uid ?? 'svg';
  const rowLabel = (y: number) => o.rowLabels?.[y] ?? depthPercent(depths[y] ?? 0);
  // Room for the longest row label (11 px Helvetica is about 6.2 px a character) and the axis title.
  const left = o.rowLabels ? Math.max(72, Math.ceil(Math.max(...o.rowLabels.map((l) => l.length)) * 6.2) + 34) : 72;
  const L = heatmapLayout(lengths.length, depths.length, o.maxGridWidth, o.maxGridHeight, left);
  const average = o.average === undefined ? meanOf(matrix.flat()) : o.average;
  const color = scale === 'diff' ? diffColor : scoreColor;
  const title =
    o.title ??
    (scale === 'diff'
      ? `${o.name ?? 'Difference'}. Mean difference ${average === null ? 'n/a' : cellValueText(average, scale)}`
      : `Pressure Testing ${o.name ?? 'model'}. Avg score ${average === null ? 'n/a' : average.toFixed(2)}`);
  const subtitle = o.subtitle === undefined ? (scale === 'diff' ? 'Score difference per cell (run − baseline)' : 'Fact Retrieval Across Context Lengths ("Needle In A HayStack")') : o.subtitle;
  // A narrow grid (one or two lengths) would clip its centred title: widen the picture to the text's estimated width.
  const textWidth = Math.max(title.length * 8, (subtitle ?? '').length * 6.5);
  const width = Math.max(L.width, Math.ceil(textWidth) + 16);
  const titleX = Math.max(L.left + L.gridWidth / 2, textWidth / 2 + 8);
  const showValues = o.showValues ?? (L.cellWidth >= 34 && L.cellHeight >= 18);
  const xEvery = stride(L.cellWidth, 30);
  const yEvery = stride(L.cellHeight, 13);
  const missingId = `hm-missing-${uid}`;
  const barId = `hm-bar-${uid}`;
  const stops = scale === 'diff' ? DIFF_STOP_HEX : SCORE_STOP_HEX;
  const [lo, hi] = scale === 'diff' ? [-100, 100] : [0, 100];
  const ticks = scale === 'diff' ? [-100, -50, 0, 50, 100] : [0, 20, 40, 60, 80, 100];
  const a = o.active;
  const valueAt = (x: number, y: number) => {
    const v = matrix[y]?.[x] ?? null;
    return v === null || !Number.isFinite(v) ? null : v;
  };
  const ink = '#16181d';

  const cells: SvgNode[] = [];
  if (o.compact) {
    // One path per colour, one closed subpath per cell, each moved to relative to the last cell of
    // its colour: the same rectangles and outlines as the full drawing's, the fill written once.
    const byFill = new Map<string, { d: string[]; x: number; y: number }>();
    const missingFill = `url(#${missingId})`;
    const box = `h${L.cellWidth}v${L.cellHeight}h${-L.cellWidth}z`;
    // A grid has few distinct values (scores of 0 and 100, means over n samples): each coloured once.
    const fills = new Map<number, string>();
    const fillOf = (v: number) => {
      let f = fills.get(v);
      if (f === undefined) fills.set(v, (f = color(v)));
      return f;
    };
    for (let y = 0; y < depths.length; y++) {
      for (let x = 0; x < lengths.length; x++) {
        const v = valueAt(x, y);
        const fill = v === null ? missingFill : fillOf(v);
        const px = L.left + x * L.cellWidth;
        const py = L.top + y * L.cellHeight;
        const path = byFill.get(fill);
        if (path) {
          path.d.push(`m${px - path.x} ${py - path.y}${box}`);
          path.x = px;
          path.y = py;
        } else byFill.set(fill, { d: [`M${px} ${py}${box}`], x: px, y: py });
      }
    }
    for (const [fill, path] of byFill) cells.push({ tag: 'path', attrs: { fill, d: path.d.join(''), 'data-missing': fill === missingFill ? 'true' : undefined }, children: [] });
  } else {
    // Each column's and row's words once, not once a cell (toLocaleString is slow enough to matter over 10,000 cells).
    const lengthWords = lengths.map((l) => `${l.toLocaleString('en-US')} tokens`);
    const rowWords = depths.map((d, y) => (o.rowLabels ? rowLabel(y) : `depth ${depthPercent(d)}%`));
    depths.forEach((d, y) =>
      lengths.forEach((l, x) => {
        const v = valueAt(x, y);
        const attrs: SvgNode['attrs'] = {
          x: L.left + x * L.cellWidth, y: L.top + y * L.cellHeight, width: L.cellWidth, height: L.cellHeight, fill: v === null ? `url(#${missingId})` : color(v),
          stroke: '#ffffff', 'stroke-width': 0.5, 'data-x': x, 'data-y': y, 'data-length': l, 'data-depth': d,
        };
        if (v === null) attrs['data-missing'] = 'true';
        else attrs['data-score'] = String(v);
        // Built directly: a grid has up to 100,000 of these.
        cells.push({ tag: 'rect', attrs, children: [{ tag: 'title', attrs: {}, children: [`${lengthWords[x]}, ${rowWords[y]}: ${v === null ? 'no score' : cellValueText(v, scale)}`] }] });
      }),
    );
  }
  if (showValues) {
    depths.forEach((_d, y) =>
      lengths.forEach((_l, x) => {
        const v = valueAt(x, y);
        if (v === null) return;
        const text = scale === 'diff' ? cellValueText(v, scale).replace('.0', '') : String(Math.round(v));
        cells.push(
          el('text', { x: L.left + x * L.cellWidth + L.cellWidth / 2, y: L.top + y * L.cellHeight + L.cellHeight / 2 + 4, 'text-anchor': 'middle', 'font-size': 10, fill: inkOn(color(v)), 'pointer-events': 'none' }, text),
        );
      }),
    );
  }

  const rowLabelNodes = depths.map((_d, y) =>
    y % yEvery === 0 || y === depths.length - 1 ? el('text', { x: L.left - 6, y: L.top + y * L.cellHeight + L.cellHeight / 2 + 4, 'text-anchor': 'end', fill: ink }, rowLabel(y)) : null,
  );
  const lengthLabelNodes = lengths.map((l, x) => {
    if (x % xEvery !== 0 && x !== lengths.length - 1) return null;
    if (x === lengths.length - 1 && x % xEvery !== 0 && x % xEvery < xEvery / 2) return null;
    const cx = L.left + x * L.cellWidth + L.cellWidth / 2;
    const cy = L.top + L.gridHeight + 12;
    return el('text', { x: cx, y: cy, 'text-anchor': 'end', transform: `rotate(-45 ${cx} ${cy})`, fill: ink }, contextLabel(l));
  });
  const tickNodes = ticks.map((s) => {
    const yy = L.top + L.gridHeight - ((s - lo) / (hi - lo)) * L.gridHeight;
    return el('g', {}, el('line', { x1: L.barX + 14, y1: yy, x2: L.barX + 18, y2: yy, stroke: ink }), el('text', { x: L.barX + 21, y: yy + 4, fill: ink }, scale === 'diff' && s > 0 ? `+${s}` : String(s)));
  });
  const midY = L.top + L.gridHeight / 2;

  return el(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg', width, height: L.height, viewBox: `0 0 ${width} ${L.height}`, 'font-family': 'Helvetica, Arial, sans-serif', 'font-size': 11, role: 'img',
      'aria-label': `${title}. ${lengths.length} context lengths by ${depths.length} ${o.rowLabels ? (o.rowAxisTitle ?? 'rows').toLowerCase() : 'depths'}.`,
      'data-scale': scale,
    },
    el(
      'defs',
      {},
      el(
        'pattern',
        { id: missingId, width: '6', height: '6', patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
        el('rect', { width: '6', height: '6', fill: MISSING_FILL }),
        el('line', { x1: '0', y1: '0', x2: '0', y2: '6', stroke: MISSING_STROKE, 'stroke-width': '2' }),
      ),
      el('linearGradient', { id: barId, x1: '0', y1: '1', x2: '0', y2: '0' }, ...stops.map(([s, c]) => el('stop', { offset: `${((s - lo) / (hi - lo)) * 100}%`, 'stop-color': c }))),
    ),
    el('rect', { width, height: L.height, fill: '#ffffff' }),
    el('text', { x: titleX, y: 22, 'text-anchor': 'middle', 'font-size': 14, 'font-weight': 'bold', fill: ink, 'data-role': 'title' }, title),
    subtitle ? el('text', { x: titleX, y: 40, 'text-anchor': 'middle', 'font-size': 12, fill: '#3d4350' }, subtitle) : null,
    el('g', o.compact ? { 'data-role': 'cells', stroke: '#ffffff', 'stroke-width': 0.5 } : { 'data-role': 'cells' }, ...cells),
    a && a.x >= 0 && a.y >= 0 && a.x < lengths.length && a.y < depths.length
      ? el('rect', {
          'data-role': 'active', x: L.left + a.x * L.cellWidth + 1, y: L.top + a.y * L.cellHeight + 1, width: L.cellWidth - 2, height: L.cellHeight - 2,
          fill: 'none', stroke: '#10131a', 'stroke-width': 2, 'pointer-events': 'none',
        })
      : null,
    ...rowLabelNodes,
    ...lengthLabelNodes,
    el('text', { x: L.left + L.gridWidth / 2, y: L.height - 8, 'text-anchor': 'middle', 'font-size': 12, fill: ink }, 'Token Limit'),
    el('text', { x: 16, y: midY, 'text-anchor': 'middle', 'font-size': 12, fill: ink, transform: `rotate(-90 16 ${midY})` }, o.rowAxisTitle ?? 'Depth Percent'),
    el('rect', { x: L.barX, y: L.top, width: 14, height: L.gridHeight, fill: `url(#${barId})` }),
    ...tickNodes,
    el('text', { x: L.barX + 62, y: midY, 'text-anchor': 'middle', fill: ink, transform: `rotate(90 ${L.barX + 62} ${midY})` }, scale === 'diff' ? 'Score difference' : 'Score'),
  );
}

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
const escapeXml = (s: string) => (/[&<>"]/.test(s) ? s.replace(/[&<>"]/g, (c) => XML_ENTITIES[c]!) : s);

/** An element tree as SVG markup. */
export function svgMarkup(node: SvgNode | string): string {
  // Pieces joined once at the end: a 10,000-cell grid is 20,000 elements and megabytes of text.
  const out: string[] = [];
  writeMarkup(node, out);
  return out.join('');
}

function writeMarkup(node: SvgNode | string, out: string[]) {
  if (typeof node === 'string') {
    out.push(escapeXml(node));
    return;
  }
  let open = `<${node.tag}`;
  const attrs = node.attrs;
  for (const k in attrs) {
    const v = attrs[k];
    if (v !== undefined) open += ` ${k}="${typeof v === 'number' ? v : escapeXml(v)}"`;
  }
  // A childless element closes itself: the compact heatmap's cells are most of its markup.
  if (node.children.length === 0) {
    out.push(`${open}/>`);
    return;
  }
  out.push(`${open}>`);
  for (const c of node.children) writeMarkup(c, out);
  out.push(`</${node.tag}>`);
}

export type HeatmapSvgOptions = Omit<HeatmapDrawing, 'lengths' | 'depths' | 'matrix' | 'average' | 'active'>;

/**
 * A heatmap (`heatmapMatrix`'s, or any matrix with its axes) as a standalone SVG document: the
 * portal's picture, compact (see `HeatmapDrawing.compact`) beyond COMPACT_HEATMAP_CELLS cells
 * unless `opts.compact` says otherwise.
 */
export function heatmapSvg(data: Pick<HeatmapDrawing, 'lengths' | 'depths' | 'matrix' | 'average'>, opts: HeatmapSvgOptions = {}): string {
  const compact = opts.compact ?? data.lengths.length * data.depths.length > COMPACT_HEATMAP_CELLS;
  return svgMarkup(heatmapDrawing({ ...opts, compact, lengths: data.lengths, depths: data.depths, matrix: data.matrix, average: data.average }));
}
