/**
 * A model's scorecard: one row per result it has (NIAH mean per grid, RULER average per length and
 * effective length, topic retrieval accuracy per N, LongBench and InfiniteBench per task, MMLU
 * accuracy per shot count with the short-context regression flag, perplexity per length), from the newest
 * finished run of each suite, beside the same row of a comparison model (its lineage parent unless
 * another is picked), with the difference and a verdict that accounts for sampling noise.
 */
import { badRequest, meanOf, readEvalRunConfig } from '@ctxlab/contracts';
import type { Repositories, ScoredCell } from '@ctxlab/db';
import { resolveNiahSpec } from '@ctxlab/niah';
import { bootstrapDifference, BOOTSTRAP_CONFIDENCE, sumOf, BOOTSTRAP_METHOD, BOOTSTRAP_RESAMPLES, geometricMean, meanOfGroupMeans, rowBootstrap, verdictOf, type DiffInterval, type Direction, type Groups, type Statistic, type Verdict } from './bootstrap';
import { effectiveLengthOf, lengthAverage, suiteSpecOf, taskScore, thresholdOf, TOPIC_TASK } from './suite-results';

export type ScorecardSuite = 'niah' | 'ruler' | 'topic-retrieval' | 'longbench' | 'infinitebench' | 'mmlu' | 'perplexity';
const SUITES: readonly ScorecardSuite[] = ['niah', 'ruler', 'topic-retrieval', 'longbench', 'infinitebench', 'mmlu', 'perplexity'];

/** How far (points of accuracy) an extended model's MMLU may fall below its comparison model before the row is flagged (CTXLAB_MMLU_REGRESSION_POINTS). */
export const DEFAULT_MMLU_REGRESSION_POINTS = 2;

interface RunRef {
  id: string;
  name: string;
  kind: string;
  config: unknown;
  finishedAt: Date | null;
}

export interface ScorecardSide {
  value: number | null;
  runId: string;
  runName: string;
  cells: number;
}

export interface ScorecardRow {
  /** Stable across models: rows of two models with the same key are compared. */
  key: string;
  suite: ScorecardSuite;
  label: string;
  unit: 'score' | 'tokens' | 'perplexity';
  better: Direction;
  model: ScorecardSide;
  against: ScorecardSide | null;
  /** model − against. */
  difference: number | null;
  /** Bootstrap interval of the difference. */
  interval: { low: number; high: number } | null;
  verdict: Verdict;
  /** Why a row is not comparable, when it is not. */
  note: string | null;
  /** A warning the team should see, e.g. `short-context regression` when MMLU fell past the threshold. */
  flag: string | null;
}

/** A run's suite key: one newest run per key is read (NIAH: one per grid, since grids differ in what they measure). */
function suiteKey(run: RunRef): { key: string; suite: ScorecardSuite; label?: string } | null {
  if (run.kind === 'niah') {
    try {
      const s = resolveNiahSpec(readEvalRunConfig(run.config).spec);
      const max = s.lengths.length ? Math.max(...s.lengths) : 0;
      return { key: `niah:${s.variant}:${s.lengths.join(',')}x${s.depths.join(',')}`, suite: 'niah', label: `NIAH mean · ${s.variant} · ${s.lengths.length} lengths to ${max.toLocaleString('en-US')} × ${s.depths.length} depths` };
    } catch {
      return null; // a config the engine cannot read has no grid to compare on
    }
  }
  return (SUITES as readonly string[]).includes(run.kind) ? { key: run.kind, suite: run.kind as ScorecardSuite } : null;
}

function newestPerSuite(runs: readonly RunRef[], limitNiahGrids: number) {
  const out = new Map<string, { run: RunRef; suite: ScorecardSuite; label?: string }>();
  let grids = 0;
  // Runs come newest first: the first of each key wins.
  for (const run of runs) {
    const k = suiteKey(run);
    if (!k || out.has(k.key)) continue;
    if (k.suite === 'niah' && grids++ >= limitNiahGrids) continue;
    out.set(k.key, { run, suite: k.suite, ...(k.label ? { label: k.label } : {}) });
  }
  return out;
}

const groupBy = (cells: readonly ScoredCell[], key: (c: ScoredCell) => string, keep: (c: ScoredCell) => boolean = () => true): Map<string, number[]> => {
  const g = new Map<string, number[]>();
  for (const c of cells) {
    if (!keep(c)) continue;
    const k = key(c);
    const list = g.get(k);
    if (list) list.push(c.score);
    else g.set(k, [c.score]);
  }
  return g;
};

const cellCount = (g: Groups) => [...g.values()].reduce((a, v) => a + v.length, 0);

/** RULER's average at a length from groups of task → scores. */
const rulerLengthStat: Statistic = (groups) => lengthAverage([...groups].filter(([, v]) => v.length).map(([task, v]) => [task, taskScore(sumOf(v), v.length)] as const));

/** The effective length from groups of `task|length` → scores; "none" counts as 0 so that the interval exists. */
const effectiveStat = (threshold: number): Statistic => (groups) => {
  const byLength = new Map<number, [string, number][]>();
  for (const [k, v] of groups) {
    if (!v.length) continue;
    const [task, length] = k.split('|') as [string, string];
    const list = byLength.get(Number(length)) ?? [];
    list.push([task, taskScore(sumOf(v), v.length)]);
    byLength.set(Number(length), list);
  }
  const averages = new Map([...byLength].map(([l, scores]) => [l, lengthAverage(scores)!] as const));
  return effectiveLengthOf(averages, threshold) ?? 0;
};

interface RowDef {
  key: string;
  suite: ScorecardSuite;
  label: string;
  unit: ScorecardRow['unit'];
  better: Direction;
  /** The groups of one run's cells for this row; empty when the run has none for it. */
  groups: (cells: readonly ScoredCell[]) => Groups;
  stat: Statistic;
  /** What the row shows when the statistic would hide "none" (effective length). */
  display?: (groups: Groups) => number | null;
  /** A reason the comparison run is not comparable for this row (a different threshold), or null. */
  incomparable?: (mine: RunRef, theirs: RunRef) => string | null;
  /** A warning from the two values, when there is one. */
  flag?: (mine: number | null, theirs: number | null) => string | null;
}

/** The spec's value at a path, for rows that are only comparable with runs of the same setting. */
const specField = (run: RunRef, field: string): unknown => (readEvalRunConfig(run.config).spec as Record<string, unknown> | undefined)?.[field];
const sameSetting = (field: string, what: string) => (mine: RunRef, theirs: RunRef) => {
  const a = JSON.stringify(specField(mine, field) ?? null);
  const b = JSON.stringify(specField(theirs, field) ?? null);
  return a === b ? null : `the comparison run's ${what} is ${b}, this run's ${a}`;
};

const asc = (a: number, b: number) => a - b;
const lengthsOf = (cells: readonly ScoredCell[]) => [...new Set(cells.map((c) => c.contextLength))].sort(asc);
const tokens = (n: number) => n.toLocaleString('en-US');

function rowDefs(suite: ScorecardSuite, run: RunRef, cells: readonly ScoredCell[], niahLabel: string | undefined, key: string, opts: { mmluRegressionPoints: number }): RowDef[] {
  switch (suite) {
    case 'niah':
      // The unit of resampling is the grid cell (its mean over samples, never empty): a sweep often has one
      // sample per cell, and resampling inside a one-sample cell would see no noise at all.
      return [{ key, suite, label: niahLabel ?? 'NIAH mean', unit: 'score', better: 'higher', groups: (c) => new Map([['grid cells', [...groupBy(c, (x) => `${x.contextLength}|${x.depth}`).values()].map((v) => meanOf(v)!)]]), stat: meanOfGroupMeans }];
    case 'ruler': {
      const threshold = thresholdOf(suiteSpecOf(run.config));
      const perLength = lengthsOf(cells).map((L): RowDef => ({
        key: `ruler:avg:${L}`, suite, label: `RULER average at ${tokens(L)} tokens`, unit: 'score', better: 'higher',
        groups: (c) => groupBy(c, (x) => x.task, (x) => x.contextLength === L), stat: rulerLengthStat,
      }));
      const eff = effectiveStat(threshold);
      return [
        ...perLength,
        {
          key: 'ruler:effective', suite, label: `RULER effective length (average > ${threshold})`, unit: 'tokens', better: 'higher',
          groups: (c) => groupBy(c, (x) => `${x.task}|${x.contextLength}`), stat: eff, display: (g) => (cellCount(g) ? eff(g) || null : null),
          incomparable: (_m, t) => {
            const theirs = thresholdOf(suiteSpecOf(t.config));
            return theirs === threshold ? null : `the comparison run's threshold is ${theirs}, this run's ${threshold}`;
          },
        },
      ];
    }
    case 'topic-retrieval':
      return lengthsOf(cells).map((N) => ({
        key: `topic:${N}`, suite, label: `Topic retrieval accuracy, ${N} topics`, unit: 'score', better: 'higher',
        groups: (c) => groupBy(c, () => TOPIC_TASK, (x) => x.contextLength === N), stat: meanOfGroupMeans,
      }));
    case 'longbench':
    case 'infinitebench': {
      // The task's official score is the mean of its item scores; the suite's average is the mean of the task scores.
      const name = suite === 'longbench' ? 'LongBench' : 'InfiniteBench';
      const tasks = [...new Set(cells.map((c) => c.task))].sort();
      const perTask = tasks.map((t): RowDef => ({
        key: `${suite}:${t}`, suite, label: `${name} ${t}`, unit: 'score', better: 'higher',
        groups: (c) => groupBy(c, () => t, (x) => x.task === t), stat: meanOfGroupMeans, incomparable: sameSetting('maxLength', 'max length'),
      }));
      return [
        { key: `${suite}:average`, suite, label: `${name} average over tasks`, unit: 'score', better: 'higher', groups: (c) => groupBy(c, (x) => x.task), stat: meanOfGroupMeans, incomparable: sameSetting('maxLength', 'max length') },
        ...perTask,
      ];
    }
    case 'mmlu':
      // Accuracy over every question, per shot count; a fall past the threshold is the short-context regression flag.
      return lengthsOf(cells).map((shots) => ({
        key: `mmlu:${shots}-shot`, suite, label: `MMLU accuracy, ${shots}-shot`, unit: 'score', better: 'higher',
        groups: (c) => groupBy(c, () => 'questions', (x) => x.contextLength === shots), stat: meanOfGroupMeans,
        flag: (mine, theirs) =>
          mine !== null && theirs !== null && theirs - mine > opts.mmluRegressionPoints
            ? `short-context regression: ${(theirs - mine).toFixed(2)} points below the comparison model (threshold ${opts.mmluRegressionPoints})`
            : null,
      }));
    case 'perplexity':
      return lengthsOf(cells).map((L) => ({
        key: `perplexity:${L}`, suite, label: `Perplexity at ${tokens(L)} tokens`, unit: 'perplexity', better: 'lower',
        groups: (c) => groupBy(c, () => 'all', (x) => x.contextLength === L && x.score > 0), stat: geometricMean,
      }));
  }
}

/**
 * Intervals by row and the two runs (with their scored-cell counts, so a run that gained cells is
 * recomputed): a finished run's cells do not change, and thousands of resamples per row are the
 * scorecard's whole cost, paid once per pair instead of on every page view.
 */
const INTERVAL_CACHE_SIZE = 2000;
const intervals = new Map<string, DiffInterval | null>();
function cachedInterval(key: string, compute: () => DiffInterval | null): DiffInterval | null {
  const hit = intervals.get(key);
  if (hit !== undefined) {
    // Refreshed as most recently used.
    intervals.delete(key);
    intervals.set(key, hit);
    return hit;
  }
  const v = compute();
  intervals.set(key, v);
  if (intervals.size > INTERVAL_CACHE_SIZE) intervals.delete(intervals.keys().next().value!);
  return v;
}

export interface ScorecardOptions {
  againstId?: string | undefined;
  /** CTXLAB_MMLU_REGRESSION_POINTS (default 2). */
  mmluRegressionPoints?: number;
  /** How many NIAH grids (newest first) get a row; the overview asks for one. */
  niahGrids?: number;
}

export async function scorecard(repos: Repositories, modelId: string, opts: ScorecardOptions = {}) {
  const model = await repos.models.get(modelId);
  let against: { id: string; name: string } | null;
  let againstSource: 'parent' | 'picked' | 'none';
  if (opts.againstId) {
    if (opts.againstId === modelId) throw badRequest('againstId: pick another model than the one the scorecard is for', 'againstId');
    const m = await repos.models.get(opts.againstId);
    against = { id: m.id, name: m.name };
    againstSource = 'picked';
  } else {
    against = await repos.models.parentOf(modelId);
    againstSource = against ? 'parent' : 'none';
  }
  const niahGrids = opts.niahGrids ?? 20;
  const [mineRuns, theirRuns] = await Promise.all([repos.evals.finishedRunsOf(modelId), against ? repos.evals.finishedRunsOf(against.id) : Promise.resolve([])]);
  const mine = newestPerSuite(mineRuns, niahGrids);
  const theirsAll = newestPerSuite(theirRuns, Infinity);
  const theirs = new Map([...theirsAll].filter(([k]) => mine.has(k)));
  const cells = await repos.reads.scoredCells([...mine.values(), ...theirs.values()].map((e) => e.run.id));
  const byRun = new Map<string, ScoredCell[]>();
  for (const c of cells) {
    const list = byRun.get(c.evalRunId);
    if (list) list.push(c);
    else byRun.set(c.evalRunId, [c]);
  }

  const rows: ScorecardRow[] = [];
  const ordered = [...mine].sort(([, a], [, b]) => SUITES.indexOf(a.suite) - SUITES.indexOf(b.suite));
  for (const [key, entry] of ordered) {
    const myCells = byRun.get(entry.run.id) ?? [];
    const other = theirs.get(key);
    const theirCells = other ? byRun.get(other.run.id) ?? [] : [];
    for (const def of rowDefs(entry.suite, entry.run, myCells, entry.label, key, { mmluRegressionPoints: opts.mmluRegressionPoints ?? DEFAULT_MMLU_REGRESSION_POINTS })) {
      const a = def.groups(myCells);
      if (!cellCount(a)) continue;
      const show = def.display ?? def.stat;
      const side = (run: RunRef, g: Groups): ScorecardSide => ({ value: show(g), runId: run.id, runName: run.name, cells: cellCount(g) });
      const b = other ? def.groups(theirCells) : null;
      const theirsSide = other && b && cellCount(b) ? side(other.run, b) : null;
      let note: string | null = null;
      if (!against) note = 'no comparison model: this model has no lineage parent';
      else if (!other) note = `${against.name} has no finished ${entry.suite === 'niah' ? 'run on this grid' : `${entry.suite} run`}`;
      else if (!theirsSide) note = `${against.name}'s run has no scored cells for this row`;
      else note = def.incomparable?.(entry.run, other.run) ?? null;
      const comparable = theirsSide !== null && note === null;
      const interval = comparable ? cachedInterval(`${def.key}|${entry.run.id}:${cellCount(a)}|${other!.run.id}:${cellCount(b!)}`, () => bootstrapDifference(a, b!, def.stat, rowBootstrap(def.key))) : null;
      // A row's 2,000 resamples are tens of milliseconds of arithmetic: other requests get their turn between rows.
      if (comparable) await new Promise((r) => setTimeout(r, 0));
      const mineSide = side(entry.run, a);
      rows.push({
        key: def.key, suite: def.suite, label: def.label, unit: def.unit, better: def.better,
        model: mineSide,
        against: theirsSide,
        difference: comparable && mineSide.value !== null && theirsSide.value !== null ? mineSide.value - theirsSide.value : comparable && interval ? interval.difference : null,
        interval: interval ? { low: interval.low, high: interval.high } : null,
        verdict: comparable ? verdictOf(interval, def.better) : 'not comparable',
        note,
        flag: comparable ? (def.flag?.(mineSide.value, theirsSide!.value) ?? null) : null,
      });
    }
  }
  return {
    model: { id: model.id, name: model.name },
    against,
    againstSource,
    rows,
    method: { kind: 'percentile bootstrap' as const, resamples: BOOTSTRAP_RESAMPLES, confidence: BOOTSTRAP_CONFIDENCE, text: BOOTSTRAP_METHOD },
  };
}

/** The overview's newest scorecards: the models whose latest finished run is newest, each against its parent, one NIAH grid each. */
export async function newestScorecards(repos: Repositories, take = 3) {
  const models = await repos.evals.modelsWithNewestResults(take);
  return Promise.all(models.map(async (m) => ({ finishedAt: m.finishedAt, ...(await scorecard(repos, m.modelId, { niahGrids: 1 })) })));
}
