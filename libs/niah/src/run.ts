import type { NiahCellResult } from '@ctxlab/contracts';
import type { OpenAIClient } from './client';
import type { NiahCell } from './engine';
import { toCellResult } from './results';

export interface RunCellsOptions {
  /** chat: messages to /v1/chat/completions; completion-ids: the exact prompt ids to /v1/completions. */
  mode?: 'chat' | 'completion-ids';
  signal?: AbortSignal;
  /** Called as each cell finishes (persist it here: resume then skips by id). */
  onResult?: (result: NiahCellResult, cell: NiahCell) => void | Promise<void>;
}

/**
 * Sends cells in the order given, `client.concurrency` at a time, pulling the next cell (and so
 * building its prompt) only when a slot frees up. Results come back in completion order.
 */
export async function runNiahCells(cells: Iterable<NiahCell>, client: OpenAIClient, opts: RunCellsOptions = {}): Promise<NiahCellResult[]> {
  const it = cells[Symbol.iterator]();
  const results: NiahCellResult[] = [];
  const worker = async () => {
    for (;;) {
      if (opts.signal?.aborted) return;
      const next = it.next();
      if (next.done) return;
      const cell = next.value;
      const gen = { maxTokens: cell.maxTokens, temperature: cell.temperature, signal: opts.signal };
      const outcome = opts.mode === 'completion-ids' ? await client.complete(cell.promptIds, gen) : await client.chat(cell.messages, gen);
      const result = toCellResult(cell, outcome);
      results.push(result);
      await opts.onResult?.(result, cell);
    }
  };
  await Promise.all(Array.from({ length: client.concurrency }, worker));
  return results;
}
