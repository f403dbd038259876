/**
 * 2–4 runs on one grid: the union of their axes (a cell one run lacks is missing there, never 0),
 * each run's matrix, and its difference from the baseline where both have a score. The runs and
 * each run's heatmap aggregate (the heatmap's one query), all at once, whatever the number of cells.
 */
import { heatmapMatrix, meanOf, notFound } from '@ctxlab/contracts';
import type { Repositories } from '@ctxlab/db';
import { gridOf } from '../../services/evals';
import type { CompareInput } from './schemas';

export async function compareRuns(repos: Repositories, input: CompareInput) {
  const [runs, aggs] = await Promise.all([
    repos.reads.compareRuns(input.ids),
    Promise.all(input.ids.map((id) => repos.reads.heatmapAggregates(id))),
  ]);
  const byId = new Map(runs.map((r) => [r.id, r]));
  const missing = input.ids.find((id) => !byId.has(id));
  if (missing) throw notFound('eval run', missing);
  const ordered = input.ids.map((id) => byId.get(id)!);

  // The common grid: every length and depth any run asks for or has.
  const lengths = new Set<number>();
  const depths = new Set<number>();
  const grids = ordered.map((r, i) => {
    const own = aggs[i]!;
    const g = gridOf(r.config, own);
    g.lengths.forEach((l) => lengths.add(l));
    g.depths.forEach((d) => depths.add(d));
    return { own, g };
  });
  const grid = { lengths: [...lengths].sort((a, b) => a - b), depths: [...depths].sort((a, b) => a - b) };
  const heats = grids.map(({ own }) => heatmapMatrix(own, grid));
  const matrices = heats.map((h) => h.matrix);

  // Default baseline: the oldest run (what a new run is usually measured against).
  const oldest = ordered.reduce((best, r, i) => (r.createdAt < ordered[best]!.createdAt ? i : best), 0);
  const baselineIndex = input.baseline ? input.ids.indexOf(input.baseline) : oldest;
  const base = matrices[baselineIndex]!;
  const diffs = matrices.map((m) => m.map((row, y) => row.map((v, x) => (v === null || base[y]![x] === null ? null : v - base[y]![x]!))));

  // Cells every run scored: averages over them compare like with like.
  const commonMask = grid.depths.map((_, y) => grid.lengths.map((_, x) => matrices.every((m) => m[y]![x] !== null)));
  const commonCells = commonMask.flat().filter(Boolean).length;
  const byLength = matrices.map((m) => grid.lengths.map((_, x) => meanOf(m.map((row) => row[x]))));

  return {
    lengths: grid.lengths,
    depths: grid.depths,
    baselineId: ordered[baselineIndex]!.id,
    commonCells,
    gridCells: grid.lengths.length * grid.depths.length,
    runs: ordered.map((r, i) => ({
      id: r.id, name: r.name, status: r.status, cellsDone: r.cellsDone, cellsTotal: r.cellsTotal, createdAt: r.createdAt, model: r.model, endpoint: r.endpoint,
      ownLengths: grids[i]!.g.lengths.length,
      ownDepths: grids[i]!.g.depths.length,
      matrix: matrices[i]!,
      diff: diffs[i]!,
      average: heats[i]!.average,
      commonAverage: meanOf(matrices[i]!.flatMap((row, y) => row.filter((_, x) => commonMask[y]![x]))),
      meanDiff: i === baselineIndex ? null : meanOf(diffs[i]!.flat()),
      byLength: byLength[i]!,
    })),
  };
}
