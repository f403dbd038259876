/**
 * Suite runs written through the repositories exactly as the worker records them (the shared
 * contract: task per cell, depth the needle's when the task has one, score 0–100 or null with an
 * error), for tests and fixtures of the read side. No summary is written: readers recompute.
 */
import type { CellInput, Repositories } from '@ctxlab/db';
import { hashSeed, Rng } from '@ctxlab/niah';
import { RULER_DEPTHS } from '@ctxlab/ruler';

export interface SuiteRunFixture {
  name: string;
  kind: 'ruler' | 'topic-retrieval' | 'perplexity' | 'niah' | 'longbench' | 'infinitebench' | 'mmlu';
  modelId: string;
  endpointId?: string;
  spec: Record<string, unknown>;
  cells: CellInput[];
  finishedAt?: Date;
  /** What the worker writes at the end; readers must not need it. */
  summary?: unknown;
}

export async function insertFinishedRun(repos: Repositories, f: SuiteRunFixture) {
  const run = await repos.evals.create({
    name: f.name,
    kind: f.kind,
    modelId: f.modelId,
    ...(f.endpointId ? { endpointId: f.endpointId } : {}),
    config: { spec: f.spec, concurrency: 2, mode: 'endpoint' },
    cellsTotal: f.cells.length,
    tags: [],
  });
  await repos.evals.recordCells(run.id, f.cells);
  await repos.evals.finish(run.id, { status: 'succeeded', ...(f.finishedAt ? { finishedAt: f.finishedAt } : {}), ...(f.summary === undefined ? {} : { summary: f.summary }) });
  return run;
}

/**
 * RULER cells: `score(task, length, sample)` gives a sample's score (null: the request failed).
 * niah_* tasks get a needle depth from RULER's 40 depths, seeded per sample.
 */
export function rulerCells(tasks: readonly string[], lengths: readonly number[], samples: number, score: (task: string, length: number, sample: number) => number | null): CellInput[] {
  return tasks.flatMap((task) =>
    lengths.flatMap((length) =>
      Array.from({ length: samples }, (_, sample): CellInput => {
        const s = score(task, length, sample);
        const depth = task.startsWith('niah_') ? new Rng(hashSeed(task, length, sample)).pick(RULER_DEPTHS) / 100 : 0;
        return {
          task, contextLength: length, depth, sample, score: s, error: s === null ? 'http: HTTP 500 (after 3 attempts)' : null,
          expected: 'answer', response: s === null ? null : s >= 50 ? 'answer' : 'something else', promptTokens: length, latencyMs: 20, attempts: s === null ? 3 : 1,
        };
      }),
    ),
  );
}
