/**
 * A local sweep's results file (results.jsonl, one line per finished cell, appended as each
 * completes) and the sweep sink over it: an interrupted run resumes from the file.
 */
import type { NiahCellResult } from '@ctxlab/contracts';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type { SweepSink } from '../sweep';

/**
 * The file's cells: the scored ones by id, and those whose last line failed (never scored). A later
 * line for a cell replaces an earlier one; a line cut short by a crash is skipped (that cell runs again).
 */
export function readResultsFile(file: string): { scored: Map<string, NiahCellResult>; failed: NiahCellResult[] } {
  const scored = new Map<string, NiahCellResult>();
  const failed = new Map<string, NiahCellResult>();
  if (!existsSync(file)) return { scored, failed: [] };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let r: NiahCellResult;
    try {
      r = JSON.parse(line) as NiahCellResult;
    } catch {
      continue;
    }
    if (r.score !== null) {
      scored.set(r.cellId, r);
      failed.delete(r.cellId);
    } else {
      scored.delete(r.cellId);
      failed.set(r.cellId, r);
    }
  }
  return { scored, failed: [...failed.values()] };
}

/** The sweep sink of a results file: its scored cells are finished (a failed one is redone); results are appended. */
export function resultsFileSink(file: string): SweepSink<NiahCellResult> {
  return {
    async finished() {
      const { scored } = readResultsFile(file);
      // A crash can leave the last line cut short: start the next result on a line of its own.
      if (existsSync(file) && !readFileSync(file, 'utf8').endsWith('\n')) appendFileSync(file, '\n');
      return [...scored.values()].map((r) => ({ id: r.cellId, score: r.score }));
    },
    async write(results) {
      appendFileSync(file, results.map((r) => `${JSON.stringify(r)}\n`).join(''));
    },
  };
}
