import { scoreAnswer } from '@ctxlab/niah';
import { RulerError } from './errors';
import { isRulerTaskName, RULER_TASKS, type RulerMetric, type RulerTaskName } from './tasks/config';

/**
 * RULER's scoring (scripts/eval/evaluate.py and scripts/eval/synthetic/constants.py):
 *  - a prediction is stripped, every control character \x00–\x1f becomes "\n", and it is
 *    stripped again (postprocess_pred);
 *  - string_match_all: the share of references found in the prediction, case-insensitive
 *    (Python `r.lower() in pred.lower()`); string_match_part: 1 if any is found;
 *  - a task's score is the mean over its samples × 100, rounded to 2 decimals (Python round).
 * The per-sample matches are libs/niah's string-match scorers (the same definitions).
 */

/** RULER's 85.6: Llama-2-7B's average at 4K, the bar for its "effective length". */
export const RULER_EFFECTIVE_LENGTH_THRESHOLD = 85.6;

/** Python's str.strip() set plus what `re.sub('[\x00-\x1f]', '\n', …)` leaves. */
export function postprocessPrediction(prediction: string): string {
  const strip = (s: string) => s.replace(/^[\s\x1c-\x1f\x85]+|[\s\x1c-\x1f\x85]+$/g, '');
  return strip(strip(prediction).replace(/[\x00-\x1f]/g, '\n'));
}

/** One sample's score, 0–100, with the task's metric. */
export function scoreRulerPrediction(metric: RulerMetric, prediction: string, answers: readonly string[]): number {
  if (answers.length === 0) throw new RulerError('a RULER sample needs at least one reference answer', 'answers');
  const pred = postprocessPrediction(prediction);
  return scoreAnswer(metric === 'string_match_all' ? 'string-match-all' : 'string-match-part', pred, { expected: [...answers] });
}

export function scoreRuler(task: RulerTaskName, prediction: string, answers: readonly string[]): number {
  if (!isRulerTaskName(task)) throw new RulerError(`unknown RULER task "${String(task)}"`, 'task');
  return scoreRulerPrediction(RULER_TASKS[task].metric, prediction, answers);
}

/** Python's round(x, 2): the nearest hundredth, exact binary ties to even. */
export function pythonRound2(x: number): number {
  const tie = Number.isInteger(x * 8) && !Number.isInteger(x * 4);
  if (!tie) return Number(x.toFixed(2));
  const lower = Math.floor(x * 100);
  return (lower % 2 === 0 ? lower : lower + 1) / 100;
}

/** A task's score from its samples' scores (each 0–100), as RULER reports it. */
export function rulerTaskScore(sampleScores: readonly number[]): number {
  if (sampleScores.length === 0) throw new RulerError('a task score needs at least one sample', 'scores');
  return pythonRound2(sampleScores.reduce((a, b) => a + b, 0) / sampleScores.length);
}

/** The suite's average at one length: the mean of the task scores given (RULER averages its 13). */
export function rulerAverage(taskScores: Readonly<Partial<Record<RulerTaskName, number>>>): number {
  const values = Object.values(taskScores).filter((v): v is number => typeof v === 'number');
  if (values.length === 0) throw new RulerError('the RULER average needs at least one task score', 'scores');
  return pythonRound2(values.reduce((a, b) => a + b, 0) / values.length);
}

/**
 * RULER's effective length: the longest tested length whose average beats (is strictly above)
 * the threshold; undefined when none does. Lengths above a failing one still count, as in
 * RULER's tables (a model can dip at one length and recover).
 */
export function effectiveLength(averageByLength: Readonly<Record<number, number>> | ReadonlyMap<number, number>, threshold = RULER_EFFECTIVE_LENGTH_THRESHOLD): number | undefined {
  const entries = averageByLength instanceof Map ? [...averageByLength.entries()] : Object.entries(averageByLength).map(([k, v]) => [Number(k), v] as const);
  let best: number | undefined;
  for (const [length, avg] of entries) if (avg > threshold && (best === undefined || length > best)) best = length;
  return best;
}
