import { badRequest, type EvalExportInput } from '@ctxlab/contracts';
import type { Repositories } from '@ctxlab/db';
import { type Artifacts, parseUri, PRESIGN_DEFAULT_SECONDS, S3ArtifactStore } from '@ctxlab/dispatch';
import { suiteCellsToCsv, type SuiteCellRow } from '@ctxlab/niah';

const PAGE = 5000;
const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'run';

/**
 * Writes every cell of an eval run (task, length, depth, sample, prompt tokens, expected, response,
 * score, latency, attempts, error) as CSV or JSON Lines to an artifact URI — the default store's
 * exports/ when none is given — and returns where it went, its sha256 and, on S3, a download link.
 */
export async function exportEvalRun(repos: Repositories, artifacts: Artifacts, input: EvalExportInput) {
  const run = await repos.evals.get(input.id);
  const uri = input.output ?? artifacts.uriFor('exports', `${slug(run.name)}-${run.id}.${input.format}`);
  const p = parseUri(uri, 'output');
  if (p.scheme === 'hf') throw badRequest('output: exports are written to file:// or s3:// locations, not to the Hub', 'output');
  const rows: SuiteCellRow[] = [];
  // Keyset pages: each is a range of the run's index, whatever the run's size.
  for (let cursor: string | null | undefined = undefined; cursor !== null; ) {
    const page: Awaited<ReturnType<Repositories['reads']['cellsPage']>> = await repos.reads.cellsPage(run.id, { limit: PAGE, cursor });
    for (const c of page.items) {
      rows.push({ task: c.task, length: c.contextLength, depth: c.depth, sample: c.sample, promptTokens: c.promptTokens, expected: c.expected, response: c.response, score: c.score, latencyMs: c.latencyMs, attempts: c.attempts, error: c.error });
    }
    cursor = page.nextCursor;
  }
  const body = input.format === 'csv' ? suiteCellsToCsv(rows) : rows.map((r) => JSON.stringify({ run: run.id, ...r })).join('\n') + (rows.length ? '\n' : '');
  const info = await artifacts.write(uri, body);
  const store = p.scheme === 's3' ? artifacts.storeFor(uri) : null;
  const url = store instanceof S3ArtifactStore ? await store.presign(uri, { expiresInSeconds: PRESIGN_DEFAULT_SECONDS }) : null;
  return { uri, cells: rows.length, bytes: info.size, sha256: info.sha256, url };
}
