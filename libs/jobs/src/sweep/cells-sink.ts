/**
 * The registry's sweep sink: an eval run's cells. Batches are written under the job's lease and
 * kept, retried with backoff, while PostgreSQL is unreachable. A run that lost the lease writes
 * nothing more: the job is its new holder's. Cells are unique per run and key, and a duplicate is
 * skipped: a cell is stored once.
 */
import { LeaseLostError, type Repositories } from '@ctxlab/db';
import type { SweepSink } from '@ctxlab/niah';
import type { JobLease } from '../lease';

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

/** The cells of `evalRunId` as a sweep sink; `idOf` names a stored cell the way the sweep names its cells. */
export function cellsSink(repos: Repositories, lease: JobLease, evalRunId: string, idOf: (cell: StoredCellKey) => string): SweepSink<CellRow> {
  return {
    async finished() {
      return (await repos.evals.cellKeys(evalRunId)).map((c) => ({ id: idOf(c), score: c.score }));
    },
    async write(batch) {
      for (let attempt = 0; ; attempt++) {
        try {
          await lease.write((tx) => repos.evals.storeCells([...batch], tx));
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
