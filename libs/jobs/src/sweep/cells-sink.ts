/**
 * The registry's sweep sink: an eval run's cells. Batches are written under the job's lease and
 * kept, retried with backoff, while PostgreSQL is unreachable. A run that lost the lease writes
 * nothing more: the job is its new holder's. Cells are unique per run and key, and a duplicate is
 * skipped: a cell is stored once.
 */
import { LeaseLostError, type Repositories } from '@ctxlab/db';
import type { SweepSink } from '@ctxlab/niah';
import type { JobLease } from '../lease';
import type { StageClock } from './stages';

/** One cell as a sweep stores it (EvalCell's columns; task '' for NIAH). */
export interface CellRow {
  evalRunId: string;
  task?: string;
  contextLength: number;
  depth: number;
  sample: number;
  promptTokens: number | null;
  needleToken?: number | null;
  needle?: string | null;
  expected: string | null;
  response: string | null;
  score: number | null;
  latencyMs: number | null;
  error: string | null;
  attempts?: number;
}

/** A stored cell's key, as `cellKeys` reads it. */
export type StoredCellKey = Awaited<ReturnType<Repositories['evals']['cellKeys']>>[number];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The cells of `run` as a sweep sink; `idOf` names a stored cell the way the sweep names its cells.
 * Each batch goes in one lease-fenced transaction with the progress `progress` reports at that
 * moment (the run's cellsDone and summary, the job's progress): the cells and the counters that
 * count them are written together or not at all. `clock` times the writes.
 */
export function cellsSink(
  repos: Repositories,
  lease: JobLease,
  run: { evalRunId: string; jobId: string },
  idOf: (cell: StoredCellKey) => string,
  progress: () => { done: number; doc: unknown },
  clock?: StageClock,
): SweepSink<CellRow> {
  return {
    async finished() {
      return (await repos.evals.cellKeys(run.evalRunId)).map((c) => ({ id: idOf(c), score: c.score }));
    },
    async write(batch) {
      const t0 = performance.now();
      for (let attempt = 0; ; attempt++) {
        try {
          const p = progress();
          await lease.write((tx) => repos.evals.storeCellBatch({ evalRunId: run.evalRunId, jobId: run.jobId, cells: batch, cellsDone: p.done, progress: p.doc }, tx));
          clock?.write(batch.length, performance.now() - t0);
          return true;
        } catch (e) {
          if (e instanceof LeaseLostError) return false;
          if (attempt >= 60) throw e;
          await sleep(Math.min(250 * 2 ** attempt, 5000));
        }
      }
    },
  };
}
