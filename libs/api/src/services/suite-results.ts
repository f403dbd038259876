import { readEvalRunConfig } from '@ctxlab/contracts';
/**
 * The read model of a suite run (RULER, topic retrieval): per task and length the mean score,
 * scored and failed cells; RULER's per-length average over tasks, the overall average and the
 * effective length; topic retrieval's accuracy per number of topics; the matrices the heatmaps
 * draw. Recomputed from the cells (aggregated in PostgreSQL), never read from the run's summary,
 * which a run that stopped early does not have.
 */
import type { Repositories } from '@ctxlab/db';
import { effectiveLength, pythonRound2, RULER_EFFECTIVE_LENGTH_THRESHOLD, RULER_TASK_NAMES, rulerAverage, type RulerTaskName } from '@ctxlab/ruler';
import { z } from 'zod';

/** Topic retrieval's one task name: its cells' contextLength is the number of topics N. */
export const TOPIC_TASK = 'topic_retrieval';

/** What the read side needs of a stored suite spec; tolerant, since configs outlive schema versions. */
const storedSuiteSpec = z
  .object({
    suite: z.string().optional(),
    tasks: z.array(z.string()).optional(),
    lengths: z.array(z.number()).optional(),
    topics: z.array(z.number()).optional(),
    samples: z.number().optional(),
    seed: z.number().optional(),
    tokenizer: z.string().optional(),
    chatTemplate: z.boolean().optional(),
    threshold: z.number().optional(),
    corpus: z.string().optional(),
    qaDataset: z.string().optional(),
    question: z.string().optional(),
  })
  .passthrough();

export type StoredSuiteSpec = z.infer<typeof storedSuiteSpec>;

export function suiteSpecOf(config: unknown): StoredSuiteSpec {
  const r = storedSuiteSpec.safeParse(readEvalRunConfig(config).spec);
  return r.success ? r.data : {};
}

/** The threshold of a run's effective length: the spec's, else RULER's 85.6. */
export const thresholdOf = (spec: StoredSuiteSpec) => spec.threshold ?? RULER_EFFECTIVE_LENGTH_THRESHOLD;

/** RULER's task score: the mean over samples, rounded as RULER rounds (2 decimals). */
export const taskScore = (sum: number, n: number) => pythonRound2(sum / n);

/** RULER's average at one length over the task scores there; null when no task has a score. */
export function lengthAverage(taskScores: Iterable<readonly [string, number]>): number | null {
  const scores = Object.fromEntries(taskScores) as Partial<Record<RulerTaskName, number>>;
  return Object.keys(scores).length ? rulerAverage(scores) : null;
}

/** The effective length from per-length averages; null when no length beats the threshold. */
export const effectiveLengthOf = (perLength: ReadonlyMap<number, number>, threshold: number) => effectiveLength(perLength, threshold) ?? null;

const asc = (a: number, b: number) => a - b;
const taskOrder = (spec: StoredSuiteSpec, seen: Iterable<string>) => {
  const order = [...(spec.tasks ?? []), ...RULER_TASK_NAMES];
  const all = new Set([...(spec.tasks ?? []), ...seen]);
  return [...all].sort((a, b) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    return (ia < 0 ? Infinity : ia) - (ib < 0 ? Infinity : ib) || a.localeCompare(b);
  });
};

export interface TaskLengthCell {
  task: string;
  length: number;
  mean: number | null;
  n: number;
  failed: number;
}

export async function suiteResults(repos: Repositories, id: string) {
  const run = await repos.evals.get(id);
  const spec = suiteSpecOf(run.config);
  const agg = await repos.evals.cellAggregates(id);
  const threshold = thresholdOf(spec);

  // (task, length): samples over every depth.
  const byTaskLength = new Map<string, TaskLengthCell & { sum: number }>();
  for (const r of agg) {
    const k = `${r.task}\u0001${r.length}`;
    const c = byTaskLength.get(k) ?? { task: r.task, length: r.length, mean: null, n: 0, failed: 0, sum: 0 };
    c.sum += r.sum;
    c.n += r.n;
    c.failed += r.failed;
    byTaskLength.set(k, c);
  }
  const cells: TaskLengthCell[] = [...byTaskLength.values()].map(({ sum, ...c }) => ({ ...c, mean: c.n ? taskScore(sum, c.n) : null }));
  const isTopic = run.kind === 'topic-retrieval';
  const lengths = [...new Set([...(isTopic ? spec.topics ?? [] : spec.lengths ?? []), ...cells.map((c) => c.length)])].sort(asc);
  const tasks = isTopic ? [TOPIC_TASK] : taskOrder(spec, cells.map((c) => c.task));
  const cellAt = new Map(cells.map((c) => [`${c.task}\u0001${c.length}`, c]));
  const at = (task: string, length: number) => cellAt.get(`${task}\u0001${length}`);

  const perLength = lengths.map((length) => {
    const scored = cells.filter((c) => c.length === length && c.mean !== null).map((c) => [c.task, c.mean!] as const);
    return { length, average: lengthAverage(scored), tasks: scored.length };
  });
  const averages = perLength.filter((p) => p.average !== null).map((p) => p.average!);
  const average = averages.length ? pythonRound2(averages.reduce((a, b) => a + b, 0) / averages.length) : null;
  const failed = agg.reduce((a, r) => a + r.failed, 0);
  const scored = agg.reduce((a, r) => a + r.n, 0);

  // Heatmaps: rows are tasks, columns lengths; and a length × depth map per niah_* task with depths.
  const matrix = tasks.map((t) => lengths.map((l) => at(t, l)?.mean ?? null));
  const counts = tasks.map((t) => lengths.map((l) => at(t, l)?.n ?? 0));
  const depthMaps = isTopic
    ? []
    : tasks
        .filter((t) => t.startsWith('niah_'))
        .map((task) => {
          const rows = agg.filter((r) => r.task === task);
          const depths = [...new Set(rows.map((r) => r.depth))].sort(asc);
          if (depths.length < 2) return null;
          const m = depths.map((d) => lengths.map((l) => {
            const r = rows.find((x) => x.length === l && x.depth === d);
            return r && r.n ? r.sum / r.n : null;
          }));
          return { task, lengths, depths, matrix: m };
        })
        .filter((x): x is NonNullable<typeof x> => x !== null);

  const effective = isTopic ? null : effectiveLengthOf(new Map(perLength.filter((p) => p.average !== null).map((p) => [p.length, p.average!])), threshold);
  return {
    run: {
      id: run.id, name: run.name, kind: run.kind, status: run.status, cellsDone: run.cellsDone, cellsTotal: run.cellsTotal, jobId: run.jobId,
      createdAt: run.createdAt, startedAt: run.startedAt, finishedAt: run.finishedAt, tags: run.tags, model: run.model, endpoint: run.endpoint,
      concurrency: run.config.concurrency ?? null,
      summary: run.summary ?? {},
    },
    spec: {
      suite: spec.suite ?? run.kind, tasks: spec.tasks ?? null, samples: spec.samples ?? null, seed: spec.seed ?? null, tokenizer: spec.tokenizer ?? null,
      chatTemplate: spec.chatTemplate ?? null, corpus: spec.corpus ?? null, qaDataset: spec.qaDataset ?? null, question: spec.question ?? null,
    },
    tasks,
    lengths,
    /** Per task and length (topic retrieval: per N, task topic_retrieval). */
    cells,
    /** matrix[taskIndex][lengthIndex]: the task's score, null where nothing was scored. */
    matrix,
    counts,
    depthMaps,
    perLength,
    average,
    threshold: isTopic ? null : threshold,
    effectiveLength: effective,
    /** Topic retrieval: accuracy (0–100) per number of topics. */
    perTopics: isTopic ? perLength.map((p) => ({ topics: p.length, accuracy: p.average, n: at(TOPIC_TASK, p.length)?.n ?? 0 })) : [],
    scoredSamples: scored,
    failed,
  };
}
