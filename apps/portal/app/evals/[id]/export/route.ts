import { suiteCellsToCsv, type SuiteCellRow } from '@ctxlab/niah';
import { api } from '../../../../src/server/api';

const PAGE = 2000;
const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'run';

/**
 * GET ?format=csv|json → every cell of a suite run (RULER, topic retrieval, LongBench, InfiniteBench, MMLU) with its task, read as
 * the signed-in person through the API. NIAH runs export from their heatmap panel instead.
 */
export async function GET(req: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const format = new URL(req.url).searchParams.get('format') ?? 'csv';
  if (format !== 'csv' && format !== 'json') return Response.json({ error: `format: "${format}" is not csv or json` }, { status: 400 });
  const a = await api();
  let results;
  let benchmark = null;
  try {
    const run = await a.evals.get({ id });
    // LongBench, InfiniteBench, MMLU: the official scores per task and setting; other suites: their task × length read model.
    if (run.kind === 'longbench' || run.kind === 'infinitebench' || run.kind === 'mmlu') benchmark = await a.evals.benchmarkResults({ id });
    else results = await a.evals.suiteResults({ id });
  } catch (e) {
    if ((e as { code?: string }).code === 'NOT_FOUND') return Response.json({ error: `eval run ${id} does not exist` }, { status: 404 });
    throw e;
  }
  const rows: SuiteCellRow[] = [];
  // Keyset pages: each starts after the previous page's last cell.
  for (let cursor: string | null | undefined = undefined; cursor !== null; ) {
    const page: Awaited<ReturnType<typeof a.evals.cells>> = await a.evals.cells({ evalRunId: id, limit: PAGE, ...(cursor ? { cursor } : {}) });
    for (const c of page.items) {
      rows.push({ task: c.task, length: c.contextLength, depth: c.depth, sample: c.sample, promptTokens: c.promptTokens, expected: c.expected, response: c.response, score: c.score, latencyMs: c.latencyMs, attempts: c.attempts, error: c.error });
    }
    cursor = page.nextCursor;
  }
  const base = slug((benchmark ?? results)!.run.name);
  const headers = (type: string, name: string) => ({ 'content-type': type, 'content-disposition': `attachment; filename="${name}"`, 'cache-control': 'no-store' });
  if (format === 'csv') return new Response(suiteCellsToCsv(rows), { headers: headers('text/csv; charset=utf-8', `${base}-cells.csv`) });
  if (benchmark) {
    const { run, spec, settingLabel, settings, rows: perTask, perSetting, average, scoring, items, failed } = benchmark;
    const doc = { run: { id: run.id, name: run.name, kind: run.kind, model: run.model }, spec, results: { settingLabel, settings, perTask, perSetting, average, scoring, items, failed }, cells: rows };
    return new Response(JSON.stringify(doc, null, 2), { headers: headers('application/json', `${base}-results.json`) });
  }
  const { run, spec, tasks, lengths, matrix, perLength, average, threshold, effectiveLength, perTopics, failed } = results!;
  const doc = { run: { id: run.id, name: run.name, kind: run.kind, model: run.model }, spec, results: { tasks, lengths, matrix, perLength, average, threshold, effectiveLength, perTopics, failed }, cells: rows };
  return new Response(JSON.stringify(doc, null, 2), { headers: headers('application/json', `${base}-results.json`) });
}
