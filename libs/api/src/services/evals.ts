import { badRequest, type NiahCellResult, type NiahGrid } from '@ctxlab/contracts';
import type { Repositories } from '@ctxlab/db';
import { gridSize, heatmapData, heatmapSvg, resolveNiahSpec, type ResolvedNiahSpec } from '@ctxlab/niah';

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

/**
 * The run's heatmap on its full grid (cells not yet run show as missing), from one query of the
 * columns it needs.
 */
export async function evalHeatmap(repos: Repositories, evalRunId: string) {
  const run = await repos.evals.get(evalRunId);
  const rows = await repos.reads.heatmapCells(evalRunId);
  const spec = (run.config as { spec?: unknown }).spec;
  let axes: { lengths: number[]; depths: number[] } | undefined;
  try {
    const r = resolveNiahSpec(spec as never);
    axes = drawableAxes(r) ? { lengths: r.lengths, depths: r.depths } : undefined;
  } catch {
    axes = undefined; // not a NIAH spec the engine reads: axes from the cells themselves
  }
  const results = rows.map(
    (c): NiahCellResult => ({
      cellId: '', length: c.contextLength, depth: c.depth, sample: c.sample, promptTokens: c.promptTokens ?? 1, needle: '', expected: [],
      response: null, score: c.score, latencyMs: null, error: c.error,
    }),
  );
  const data = heatmapData(results, axes);
  return { ...data, svg: heatmapSvg(data, { name: run.name }) };
}
