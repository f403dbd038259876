/**
 * Eval read models for the portal: the runs table, a grid's cost before it runs, a run's result
 * (heatmap with what the hover card shows), and one cell with every sample. Each is a fixed number
 * of queries whatever the grid size — aggregation happens in PostgreSQL, not in a loop of reads.
 */
import { badRequest, cellIndex, meanOf, notFound, type JobProgress } from '@ctxlab/contracts';
import type { Repositories } from '@ctxlab/db';
import { resolveGrid } from '@ctxlab/niah';
import { assertGridWithin, gridOf, heatmapOf, type GridLimits } from '../../services/evals';
import type { EvalCellInput, EvalEstimateInput, EvalRunsInput } from './schemas';

/** Characters of each answer the heatmap's hover card shows. */
export const EXCERPT_CHARS = 160;

/**
 * Grids up to this many cells carry their hover details in the result itself. Larger ones (a 100 ×
 * 100 sweep's details are a megabyte) answer `details: null` and the page reads them separately
 * (`evalResultDetails`) once the heatmap is on screen.
 */
export const INLINE_DETAILS_MAX_CELLS = 2_500;

type CellDetail = { promptTokens: number | null; excerpt: string | null; error: string | null; latencyMs: number | null; samples: number } | null;

/** details[y][x]: sample 0 of each grid cell (prompt tokens, the start of its answer, its error, latency) and how many samples it has. */
function detailsOf(rows: Awaited<ReturnType<Repositories['reads']['heatmapDetails']>>, grid: { lengths: number[]; depths: number[] }, counts: number[][]) {
  const at = cellIndex(grid);
  const details: CellDetail[][] = grid.depths.map(() => grid.lengths.map(() => null));
  for (const r of rows) {
    const c = at(r.l, r.d);
    if (!c) continue;
    details[c.y]![c.x] = { promptTokens: r.p, excerpt: r.r, error: r.e, latencyMs: r.t, samples: counts[c.y]![c.x]! };
  }
  return details;
}

export const summaryOf = (s: unknown): JobProgress => (s && typeof s === 'object' ? (s as JobProgress) : {});

/** A run's headline score from its summary: a NIAH sweep's averageScore, a suite run's (RULER, topic retrieval) average. */
export const averageOf = (s: unknown): number | null => summaryOf(s).averageScore ?? (s as { average?: number | null } | null)?.average ?? null;

export async function evalRuns(repos: Repositories, input: EvalRunsInput) {
  const { rows, total, nextCursor, nextOffset } = await repos.reads.evalRunsPage(input);
  const items = rows.map(({ summary, ...r }) => ({ ...r, averageScore: averageOf(summary), failed: summaryOf(summary).failed ?? 0 }));
  return { items, total, nextCursor, nextOffset };
}

/** Cells and prompt tokens a grid will send, from the same axis rules the engine runs. */
export async function evalEstimate(repos: Repositories, limits: GridLimits, input: EvalEstimateInput) {
  assertGridWithin(input.grid, limits, 'grid');
  let axes;
  try {
    axes = resolveGrid(input.grid);
  } catch (e) {
    throw badRequest(`grid: ${(e as Error).message}`, 'grid');
  }
  const { lengths, depths, samples } = axes;
  const cells = lengths.length * depths.length * samples;
  const promptTokens = lengths.reduce((a, l) => a + l, 0) * depths.length * samples;
  const warnings: string[] = [];
  if (cells === 0) warnings.push('the grid has no cells');
  if (cells > 50_000) warnings.push(`${cells.toLocaleString('en-US')} cells is a very large sweep`);
  const maxLength = lengths.length ? Math.max(...lengths) : 0;
  if (input.endpointId) {
    const ep = await repos.reads.endpointLimits(input.endpointId);
    if (!ep) throw badRequest(`endpointId: endpoint ${input.endpointId} does not exist`, 'endpointId');
    if (ep.maxModelLen && maxLength > ep.maxModelLen) {
      warnings.push(`the longest prompt (${maxLength.toLocaleString('en-US')} tokens) is beyond ${ep.name}'s max model length ${ep.maxModelLen.toLocaleString('en-US')}: those cells will fail`);
    }
  }
  return { lengths, depths, samples, cells, promptTokens, maxLength, minLength: lengths.length ? Math.min(...lengths) : 0, warnings };
}

/**
 * A run with its heatmap on the full grid and, per cell, what the hover card shows (sample 0's
 * prompt tokens, the start of its answer, its error and latency) — inline up to
 * INLINE_DETAILS_MAX_CELLS grid cells, else null (see `evalResultDetails`). Three queries for any grid.
 */
export async function evalResult(repos: Repositories, id: string) {
  // The heatmap's aggregate needs only the id, so it is read beside the run; the job and, for a run
  // whose cells fit inline, the details follow the run (the grid is never larger than its cells).
  const running = repos.evals.get(id);
  const [run, cells, job, earlyRows] = await Promise.all([
    running,
    repos.reads.heatmapAggregates(id),
    running.then((r) => (r.jobId ? repos.reads.jobState(r.jobId) : null)),
    running.then((r) => (r.cellsTotal <= INLINE_DETAILS_MAX_CELLS ? repos.reads.heatmapDetails(id, EXCERPT_CHARS) : null)),
  ]);
  const heat = heatmapOf(run.config, cells);
  const { grid, matrix, counts } = heat;
  const inline = grid.lengths.length * grid.depths.length <= INLINE_DETAILS_MAX_CELLS;
  const details = inline ? detailsOf(earlyRows ?? (await repos.reads.heatmapDetails(id, EXCERPT_CHARS)), grid, counts) : null;
  const spec = grid.spec;
  return {
    run: {
      id: run.id, name: run.name, kind: run.kind, status: run.status, cellsDone: run.cellsDone, cellsTotal: run.cellsTotal, summary: summaryOf(run.summary),
      createdAt: run.createdAt, startedAt: run.startedAt, finishedAt: run.finishedAt, tags: run.tags, jobId: run.jobId,
      model: run.model, endpoint: run.endpoint, concurrency: run.config.concurrency ?? null,
    },
    spec: spec ? { variant: spec.variant, language: spec.language, corpus: spec.corpus, tokenizer: spec.tokenizer, scorer: spec.scorer ?? null, digits: spec.digits, seed: spec.seed, samples: spec.samples, layout: spec.layout, maxWalkTokens: spec.maxWalkTokens } : null,
    job,
    lengths: grid.lengths,
    depths: grid.depths,
    matrix,
    counts,
    details,
    average: heat.average,
    scoredSamples: heat.scored,
    failed: heat.failed,
  };
}

/** One cell's hover details in `evalResultDetails`: [length, depth, prompt tokens, answer excerpt, error, latency ms]. */
export type CellDetailRow = [number, number, number | null, string | null, string | null, number | null];

/**
 * The hover details of a run's cells (what `evalResult` leaves out for large grids): sample 0 of
 * each cell as `CellDetailRow`s, packed as one JSON text by PostgreSQL. Sent as a string because
 * the API's serializer walks every value of a structured answer (tens of milliseconds for 60,000
 * of them); the page parses it and places each row on its heatmap by (length, depth).
 */
export async function evalResultDetails(repos: Repositories, id: string): Promise<{ rows: string }> {
  await repos.evals.get(id);
  return { rows: await repos.reads.heatmapDetailsJson(id, EXCERPT_CHARS) };
}

/** Every sample of one grid cell with the full answer, needle, expected strings and timing. */
export async function evalCell(repos: Repositories, input: EvalCellInput) {
  const run = await repos.evals.get(input.evalRunId);
  const [samples, axes] = await Promise.all([
    repos.reads.cellSamples(input.evalRunId, input.length, input.depth),
    repos.reads.cellAxes(input.evalRunId),
  ]);
  const grid = gridOf(run.config, axes);
  const x = grid.lengths.indexOf(input.length);
  const y = grid.depths.indexOf(input.depth);
  if (x < 0 || y < 0) throw notFound('grid cell', `${input.length} tokens × depth ${input.depth} of eval run ${input.evalRunId}`);
  const at = (xx: number, yy: number) => (grid.lengths[xx] !== undefined && grid.depths[yy] !== undefined ? { length: grid.lengths[xx]!, depth: grid.depths[yy]! } : null);
  const spec = grid.spec;
  return {
    run: { id: run.id, name: run.name, status: run.status, model: run.model, endpoint: run.endpoint },
    spec: spec ? { variant: spec.variant, tokenizer: spec.tokenizer, scorer: spec.scorer ?? null, layout: spec.layout, maxWalkTokens: spec.maxWalkTokens, samples: spec.samples, corpus: spec.corpus } : null,
    length: input.length,
    depth: input.depth,
    /** Where the needle was aimed: depth × the haystack's tokens, before moving back to a sentence end. */
    nominalNeedleToken: Math.round(input.depth * input.length),
    samples: samples.map((c) => ({
      id: c.id, sample: c.sample, promptTokens: c.promptTokens, needleToken: c.needleToken, needle: c.needle, expected: c.expected ? c.expected.split('\n') : [], response: c.response,
      score: c.score, latencyMs: c.latencyMs, error: c.error, attempts: c.attempts, createdAt: c.createdAt,
    })),
    mean: meanOf(samples.map((c) => c.score)),
    neighbours: { left: at(x - 1, y), right: at(x + 1, y), up: at(x, y - 1), down: at(x, y + 1) },
    position: { x, y, lengths: grid.lengths.length, depths: grid.depths.length },
  };
}
