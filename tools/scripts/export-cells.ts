/**
 * Writes every cell of an eval run as CSV (default) or JSON Lines, page by page, to a file or
 * stdout: length, depth, sample, prompt tokens, score, latency, error, needle, expected, response.
 *
 *   CTXLAB_TOKEN=ctx_tok_… node --import tsx tools/scripts/export-cells.ts RUN_ID [--format csv|jsonl] [--out cells.csv]
 */
import { createWriteStream } from 'node:fs';
import { args, clientFromEnv, fail } from './client';

const COLUMNS = ['contextLength', 'depth', 'sample', 'promptTokens', 'score', 'latencyMs', 'error', 'needle', 'expected', 'response'] as const;
const csv = (v: unknown) => {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

async function main() {
  const { flags, positional } = args();
  const runId = positional[0];
  if (!runId) fail('usage: export-cells.ts RUN_ID [--format csv|jsonl] [--out FILE]');
  const format = flags.format ?? 'csv';
  if (format !== 'csv' && format !== 'jsonl') fail('--format must be csv or jsonl');
  const api = clientFromEnv();
  const run = await api.evals.get.query({ id: runId });
  const out = typeof flags.out === 'string' ? createWriteStream(flags.out) : process.stdout;
  if (format === 'csv') out.write(`${COLUMNS.join(',')}\r\n`);
  let n = 0;
  // Keyset pages: each asks for the cells after the previous page's last one.
  for (let cursor: string | null | undefined = undefined; cursor !== null; ) {
    const page: Awaited<ReturnType<typeof api.evals.cells.query>> = await api.evals.cells.query({ evalRunId: run.id, limit: 500, ...(cursor ? { cursor } : {}) });
    for (const c of page.items) {
      const row = Object.fromEntries(COLUMNS.map((k) => [k, (c as unknown as Record<string, unknown>)[k] ?? null]));
      out.write(format === 'csv' ? `${COLUMNS.map((k) => csv(row[k])).join(',')}\r\n` : `${JSON.stringify(row)}\n`);
      n++;
    }
    cursor = page.nextCursor;
  }
  if (out !== process.stdout) await new Promise((ok) => (out as ReturnType<typeof createWriteStream>).end(ok));
  process.stderr.write(`exported ${n} cells of ${run.name} (${run.status})${typeof flags.out === 'string' ? ` to ${flags.out}` : ''}\n`);
}

main().catch((e: Error) => fail(`export-cells: ${e.message}`));
