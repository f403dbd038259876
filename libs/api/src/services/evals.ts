import { createHash } from 'node:crypto';
import { badRequest, heatmapMatrix, heatmapSvg, readEvalRunConfig, type HeatmapCellScores, type NiahGrid } from '@ctxlab/contracts';
import type { Repositories } from '@ctxlab/db';
import { gridSize, resolveNiahSpec, type ResolvedNiahSpec } from '@ctxlab/niah';

/** How large a sweep the API accepts (NIAH_MAX_CELLS, NIAH_MAX_PROMPT_TOKENS). */
export interface GridLimits {
  /** Cells (lengths × depths × samples) of one run. */
  maxCells: number;
  /** Prompt tokens one run sends, all cells together. */
  maxPromptTokens: number;
}

/**
 * 100,000 cells is seven times the largest published grid (360Zhinao's 210 cells × 100 samples);
 * 10^10 prompt tokens is days of one GPU server's prefill at long context.
 */
export const DEFAULT_GRID_LIMITS: GridLimits = { maxCells: 100_000, maxPromptTokens: 10_000_000_000 };

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Refuses a grid beyond the limits, from its size computed arithmetically: nothing is expanded first. */
export function assertGridWithin(grid: NiahGrid, limits: GridLimits, field: string) {
  let size;
  try {
    size = gridSize(grid);
  } catch (e) {
    throw badRequest(`${field}: ${(e as Error).message}`, field);
  }
  if (size.cells > limits.maxCells) throw badRequest(`${field}: the grid has ${fmt(size.cells)} cells; the limit is ${fmt(limits.maxCells)} (NIAH_MAX_CELLS)`, field);
  if (size.promptTokens > limits.maxPromptTokens) {
    throw badRequest(`${field}: the grid's prompts add up to ${fmt(size.promptTokens)} tokens; the limit is ${fmt(limits.maxPromptTokens)} (NIAH_MAX_PROMPT_TOKENS)`, field);
  }
}

/**
 * A heatmap is drawn on the spec's axes only up to this many cells; a stored config asking for
 * more (nothing runs such a grid) is drawn on the axes its cells have, so one read stays small.
 */
export const MAX_HEATMAP_CELLS = DEFAULT_GRID_LIMITS.maxCells;

/** The spec's axes when a heatmap can be drawn on them. */
export const drawableAxes = (s: ResolvedNiahSpec) => s.lengths.length * s.depths.length <= MAX_HEATMAP_CELLS;

export interface RunGrid {
  lengths: number[];
  depths: number[];
  samples: number;
  spec: ResolvedNiahSpec | null;
}

/** The run's NIAH spec when its config holds one the engine reads and a heatmap can be drawn on its axes. */
export function specOf(config: unknown): ResolvedNiahSpec | null {
  try {
    const spec = resolveNiahSpec(readEvalRunConfig(config).spec);
    return drawableAxes(spec) ? spec : null;
  } catch {
    return null;
  }
}

const asc = (a: number, b: number) => a - b;

/**
 * A run's grid: the axes its spec asks for (so cells not run yet show as missing), and any length
 * or depth its cells have (the only axes when the config is not a NIAH spec the engine reads).
 */
export function gridOf(config: unknown, cells: readonly { length: number; depth: number }[]): RunGrid {
  const spec = specOf(config);
  const lengths = new Set<number>(spec?.lengths ?? []);
  const depths = new Set<number>(spec?.depths ?? []);
  // Cells outside the spec's axes (a config edited after the run) still get a row or column.
  for (const c of cells) {
    lengths.add(c.length);
    depths.add(c.depth);
  }
  return { lengths: [...lengths].sort(asc), depths: [...depths].sort(asc), samples: spec?.samples ?? 1, spec };
}

/**
 * The heatmap read model: a run's matrix on its full grid from the repository's heatmap aggregate
 * (sums and counts per cell, computed in PostgreSQL: one query whatever the run's size). The
 * portal's run page and the API's evals.heatmap (with its SVG) both read it; compare reads the
 * same aggregate per run.
 */
export async function runHeatmap(repos: Repositories, run: { id: string; config: unknown }) {
  return heatmapOf(run.config, await repos.reads.heatmapAggregates(run.id));
}

/** The heatmap read model from a run's config and its heatmap aggregate. */
export function heatmapOf(config: unknown, cells: readonly HeatmapCellScores[]) {
  const grid = gridOf(config, cells);
  return { grid, ...heatmapMatrix(cells, grid) };
}

/**
 * Rendered heatmaps by their content (name, axes, matrix, average): the SVG is a pure function of
 * these, so a hit is always current, and a picture is drawn once however often it is read.
 * Bounded by characters held, oldest dropped first.
 */
const SVG_CACHE_CHARS = 32 * 1024 * 1024;
const svgCache = new Map<string, string>();
let svgCacheChars = 0;

function cachedHeatmapSvg(heat: { lengths: number[]; depths: number[]; matrix: (number | null)[][]; average: number | null }, name: string): string {
  const key = createHash('sha256').update(JSON.stringify([name, heat.lengths, heat.depths, heat.matrix, heat.average])).digest('base64');
  const hit = svgCache.get(key);
  if (hit !== undefined) {
    svgCache.delete(key);
    svgCache.set(key, hit);
    return hit;
  }
  const svg = heatmapSvg(heat, { name });
  if (svg.length <= SVG_CACHE_CHARS / 4) {
    svgCache.set(key, svg);
    svgCacheChars += svg.length;
    for (const [k, v] of svgCache) {
      if (svgCacheChars <= SVG_CACHE_CHARS) break;
      svgCache.delete(k);
      svgCacheChars -= v.length;
    }
  }
  return svg;
}

/** The run's heatmap (cells not yet run show as missing) and the same picture as a standalone SVG. */
export async function evalHeatmap(repos: Repositories, evalRunId: string) {
  // The aggregate needs only the id: it is read beside the run, not after it.
  const [run, cells] = await Promise.all([repos.evals.get(evalRunId), repos.reads.heatmapAggregates(evalRunId)]);
  const { grid: _grid, ...heat } = heatmapOf(run.config, cells);
  return { ...heat, svg: cachedHeatmapSvg(heat, run.name) };
}
