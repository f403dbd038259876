/**
 * A run's grid: the axes its spec asks for (so cells not run yet show as missing), falling back to
 * the axes its cells have when the config is not a NIAH spec the engine reads.
 */
import { resolveNiahSpec, type ResolvedNiahSpec } from '@ctxlab/niah';
import { drawableAxes } from '../../services/evals';

export interface RunGrid {
  lengths: number[];
  depths: number[];
  samples: number;
  spec: ResolvedNiahSpec | null;
}

export function specOf(config: unknown): ResolvedNiahSpec | null {
  try {
    const spec = resolveNiahSpec((config as { spec?: unknown } | null)?.spec as never);
    return drawableAxes(spec) ? spec : null;
  } catch {
    return null;
  }
}

const asc = (a: number, b: number) => a - b;

export function gridOf(config: unknown, cellAxes: { lengths: Iterable<number>; depths: Iterable<number> }): RunGrid {
  const spec = specOf(config);
  const lengths = new Set<number>(spec?.lengths ?? []);
  const depths = new Set<number>(spec?.depths ?? []);
  // Cells outside the spec's axes (a config edited after the run) still get a row or column.
  for (const l of cellAxes.lengths) lengths.add(l);
  for (const d of cellAxes.depths) depths.add(d);
  return { lengths: [...lengths].sort(asc), depths: [...depths].sort(asc), samples: spec?.samples ?? 1, spec };
}

/** One aggregated grid cell as SQL returns it. */
export interface AggRow {
  l: number;
  d: number;
  s: number | null;
  n: number;
}

/** Where the cell of a length and a depth sits in matrix[depth][length]: { x, y }, or null when off the grid. */
export function cellIndex(grid: { lengths: number[]; depths: number[] }): (length: number, depth: number) => { x: number; y: number } | null {
  const li = new Map(grid.lengths.map((l, i) => [l, i]));
  const di = new Map(grid.depths.map((d, i) => [d, i]));
  return (length, depth) => {
    const x = li.get(length);
    const y = di.get(depth);
    return x === undefined || y === undefined ? null : { x, y };
  };
}

/** matrix[depth][length] of mean scores (null where nothing was scored) and the scored-sample counts. */
export function toMatrix(grid: { lengths: number[]; depths: number[] }, rows: readonly AggRow[]) {
  const at = cellIndex(grid);
  const matrix: (number | null)[][] = grid.depths.map(() => grid.lengths.map(() => null));
  const counts: number[][] = grid.depths.map(() => grid.lengths.map(() => 0));
  for (const r of rows) {
    const c = at(r.l, r.d);
    if (!c) continue;
    matrix[c.y]![c.x] = r.s === null ? null : Number(r.s);
    counts[c.y]![c.x] = r.n;
  }
  return { matrix, counts };
}

export function mean(values: Iterable<number | null>): number | null {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (v === null) continue;
    sum += v;
    n++;
  }
  return n ? sum / n : null;
}
