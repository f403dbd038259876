import type { NiahCellResult } from '@ctxlab/contracts';
import type { Repositories } from '@ctxlab/db';
import { heatmapData, heatmapSvg, resolveNiahSpec } from '@ctxlab/niah';

/**
 * The run's heatmap on its full grid (cells not yet run show as missing), from one query of the
 * columns it needs.
 */
export async function evalHeatmap(repos: Repositories, evalRunId: string) {
  const run = await repos.evals.get(evalRunId);
  const rows = await repos.db.evalCell.findMany({
    where: { evalRunId },
    select: { contextLength: true, depth: true, sample: true, score: true, promptTokens: true, error: true },
  });
  const spec = (run.config as { spec?: unknown }).spec;
  let axes: { lengths: number[]; depths: number[] } | undefined;
  try {
    const r = resolveNiahSpec(spec as never);
    axes = { lengths: r.lengths, depths: r.depths };
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
