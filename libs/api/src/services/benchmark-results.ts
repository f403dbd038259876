/**
 * The read model of a capability run (LongBench, InfiniteBench, MMLU): the official score per task
 * and setting, recomputed from the cells with the same summary the worker stores at the end (so a
 * run still going, or one that stopped early, shows what it has), plus scored and failed counts.
 */
import { capabilitySummary } from '@ctxlab/jobs';
import { badRequest, type BenchmarkSummary, type CapabilitySpec, suiteSpecSchema } from '@ctxlab/contracts';
import type { Repositories } from '@ctxlab/db';

export async function benchmarkResults(repos: Repositories, id: string) {
  const run = await repos.evals.get(id);
  const parsed = suiteSpecSchema.safeParse(run.config.spec);
  if (!parsed.success || !['longbench', 'infinitebench', 'mmlu'].includes(parsed.data.suite)) throw badRequest(`id: run ${id} is not a LongBench, InfiniteBench or MMLU run`, 'id');
  const spec = parsed.data as Exclude<CapabilitySpec, { suite: 'perplexity' }>;
  const cells = await repos.evals.cellScores(id);
  const stored = (run.summary ?? {}) as Partial<BenchmarkSummary>;
  const summary = capabilitySummary(spec, cells, stored.scoring) as BenchmarkSummary;
  const counts = new Map<string, { n: number; failed: number }>();
  for (const c of cells) {
    const k = `${c.task}\u0001${c.contextLength}`;
    const x = counts.get(k) ?? { n: 0, failed: 0 };
    if (c.score === null) x.failed++;
    else x.n++;
    counts.set(k, x);
  }
  const settings = Object.keys(summary.perSetting).map(Number).sort((a, b) => a - b);
  const tasks = [...new Set(cells.map((c) => c.task))].sort();
  return {
    run: {
      id: run.id, name: run.name, kind: run.kind, status: run.status, cellsDone: run.cellsDone, cellsTotal: run.cellsTotal, jobId: run.jobId,
      createdAt: run.createdAt, startedAt: run.startedAt, finishedAt: run.finishedAt, tags: run.tags, model: run.model, endpoint: run.endpoint,
      summary: run.summary ?? {},
    },
    spec,
    /** maxLength (LongBench, InfiniteBench) or shots (MMLU). */
    settingLabel: spec.suite === 'mmlu' ? 'shots' : 'max length',
    settings,
    rows: tasks.map((task) => ({
      task,
      scores: settings.map((s) => ({ setting: s, score: summary.perTask[task]?.[s] ?? null, ...(counts.get(`${task}\u0001${s}`) ?? { n: 0, failed: 0 }) })),
    })),
    perSetting: settings.map((s) => ({ setting: s, score: summary.perSetting[s] ?? null })),
    average: summary.average,
    scoring: spec.suite === 'mmlu' ? (stored.scoring ?? null) : null,
    items: summary.items,
    failed: summary.failed,
  };
}
