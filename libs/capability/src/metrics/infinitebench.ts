import { normalizeAnswer, normalizeZhAnswer, tokenF1 } from './longbench';
import { pySplit, pyStrip } from './python';

/**
 * InfiniteBench's scoring of its book tasks, ported from OpenBMB/InfiniteBench src/compute_scores.py
 * and src/eval_utils.py (get_answer) at 88b3daa6989da2fbe0077170d7a3c84c25d5ae58. Its normalisation
 * and token F1 are the same definitions as LongBench's (copied there), so they are shared.
 * longbook_sum_eng goes through HF evaluate 0.4.1's "rouge" (metrics/rouge/rouge.py), i.e.
 * google-research rouge-score 0.1.2: RougeScorer(["rouge1","rouge2","rougeL","rougeLsum"])
 * .score_multi(answers, prediction)["rougeLsum"].fmeasure, no stemmer, default tokenizer.
 */

export type InfiniteBenchTask = 'longbook_qa_eng' | 'longbook_sum_eng' | 'longbook_choice_eng' | 'longbook_qa_chn';

export const INFINITEBENCH_METRIC: Readonly<Record<InfiniteBenchTask, string>> = Object.freeze({
  longbook_qa_eng: 'qa_f1_score',
  longbook_sum_eng: 'rougeLsum',
  longbook_choice_eng: 'choice_match',
  longbook_qa_chn: 'qa_f1_score_zh',
});

/** compute_scores.py qa_f1_score: max token F1 over the answers (normalize_answer, split). */
export function infiniteBenchQaF1(prediction: string, answers: readonly string[]): number {
  let f1 = 0;
  for (const a of answers) f1 = Math.max(f1, tokenF1(pySplit(normalizeAnswer(prediction)), pySplit(normalizeAnswer(a))));
  return f1;
}

/** compute_scores.py qa_f1_score_zh: one token per character after normalize_zh_answer (no jieba). */
export function infiniteBenchQaF1Zh(prediction: string, answers: readonly string[]): number {
  let f1 = 0;
  for (const a of answers) f1 = Math.max(f1, tokenF1(Array.from(normalizeZhAnswer(prediction)), Array.from(normalizeZhAnswer(a))));
  return f1;
}

/** rouge-score's tokenize: lower, non-[a-z0-9] runs → " ", split on whitespace, keep [a-z0-9]+ tokens. */
function rougeTokenize(text: string): string[] {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').split(/\s+/).filter((t) => /^[a-z0-9]+$/.test(t));
}

function lcsTable(ref: readonly string[], can: readonly string[]): Int32Array[] {
  const t = Array.from({ length: ref.length + 1 }, () => new Int32Array(can.length + 1));
  for (let i = 1; i <= ref.length; i++) {
    for (let j = 1; j <= can.length; j++) t[i]![j] = ref[i - 1] === can[j - 1] ? t[i - 1]![j - 1]! + 1 : Math.max(t[i - 1]![j]!, t[i]![j - 1]!);
  }
  return t;
}

/** rouge_scorer._backtrack_norec: indices into ref of one LCS (left when t[i][j-1] > t[i-1][j], else up). */
function lcsIndices(ref: readonly string[], can: readonly string[]): number[] {
  const t = lcsTable(ref, can);
  const out: number[] = [];
  let i = ref.length;
  let j = can.length;
  while (i > 0 && j > 0) {
    if (ref[i - 1] === can[j - 1]) {
      out.push(i - 1);
      i--;
      j--;
    } else if (t[i]![j - 1]! > t[i - 1]![j]!) j--;
    else i--;
  }
  return out;
}

function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0.0;
}

/**
 * rouge_scorer._summary_level_lcs on newline-separated sentences: for each reference sentence the
 * union of its LCS indices with every candidate sentence, counted against token budgets so that no
 * token is matched more often than it occurs on either side.
 */
export function rougeLsumF(target: string, prediction: string): number {
  const sents = (text: string) => text.split('\n').filter((s) => s.length > 0).map(rougeTokenize);
  const refSents = sents(target);
  const canSents = sents(prediction);
  if (refSents.length === 0 || canSents.length === 0) return 0;
  const m = refSents.reduce((a, s) => a + s.length, 0);
  const n = canSents.reduce((a, s) => a + s.length, 0);
  if (n === 0 || m === 0) return 0;
  const countR = new Map<string, number>();
  const countC = new Map<string, number>();
  for (const s of refSents) for (const t of s) countR.set(t, (countR.get(t) ?? 0) + 1);
  for (const s of canSents) for (const t of s) countC.set(t, (countC.get(t) ?? 0) + 1);
  let hits = 0;
  for (const r of refSents) {
    const union = [...new Set(canSents.flatMap((c) => lcsIndices(r, c)))].sort((a, b) => a - b);
    for (const t of union.map((k) => r[k]!)) {
      if ((countC.get(t) ?? 0) > 0 && (countR.get(t) ?? 0) > 0) {
        hits++;
        countC.set(t, countC.get(t)! - 1);
        countR.set(t, countR.get(t)! - 1);
      }
    }
  }
  return fmeasure(hits / n, hits / m);
}

/** score_multi's rougeLsum: the first answer with the highest F (np.argmax). */
export function infiniteBenchRougeLsum(prediction: string, answers: readonly string[]): number {
  if (answers.length === 0) throw new Error('longbook_sum_eng needs at least one reference');
  let best = -Infinity;
  for (const a of answers) best = Math.max(best, rougeLsumF(a, prediction));
  return best;
}

/**
 * eval_utils.get_answer for longbook_choice_eng: [answer text, its letter]; an answer already
 * given as [text, letter] is kept.
 */
export function infiniteBenchChoiceLabel(answers: readonly string[], options: readonly string[] | undefined): string[] {
  if (answers.length === 2 && ['A', 'B', 'C', 'D'].includes(answers[1]!)) return [...answers];
  if (answers.length !== 1 || options === undefined) throw new Error('longbook_choice_eng needs one answer and the options (or [answer, letter])');
  const index = options.indexOf(answers[0]!);
  if (index < 0 || index > 3) throw new Error(`longbook_choice_eng: answer "${answers[0]}" is not among the first four options`);
  return [answers[0]!, 'ABCD'[index]!];
}

/** compute_scores.py get_score_one_longbook_choice_eng, with label = [answer text, letter]. */
export function infiniteBenchChoiceMatch(prediction: string, label: readonly string[]): boolean {
  let pred = pyStrip(prediction);
  if (pred === '') return false;
  const first = Array.from(pred)[0]!;
  if ('ABCD'.includes(first)) return label.includes(first);
  if (label.includes(pred)) return true;
  for (const c of ['\n', '"', "'", '.', ',', '?', '!', '{', '}']) pred = pred.replaceAll(c, ' ');
  while (pred.includes('  ')) pred = pred.replaceAll('  ', ' ');
  for (const prefix of ['answer is:', 'answer:', 'answer is', 'option is']) {
    const idx = pred.indexOf(prefix);
    if (idx === -1) continue;
    if (pred.length < idx + prefix.length + 1) return false;
    const after = pred.slice(idx + prefix.length + 1);
    return label.some((s) => after.startsWith(s));
  }
  for (const word of pySplit(pred)) if ('ABCD'.includes(word)) return label.includes(word);
  return false;
}

export function isInfiniteBenchScoredTask(task: string): task is InfiniteBenchTask {
  return Object.hasOwn(INFINITEBENCH_METRIC, task);
}

/**
 * One item's score on a 0–100 scale (compute_scores.py get_score_one × 100; the script itself
 * prints the 0–1 mean). `options` is needed for longbook_choice_eng when `answers` is the raw
 * dataset answer. Tasks outside INFINITEBENCH_METRIC throw.
 */
export function infiniteBenchItemScore(task: string, prediction: string, answers: string[], options?: string[]): number {
  if (!isInfiniteBenchScoredTask(task)) throw new Error(`unsupported InfiniteBench task "${task}"`);
  switch (task) {
    case 'longbook_qa_eng':
      return 100 * infiniteBenchQaF1(prediction, answers);
    case 'longbook_qa_chn':
      return 100 * infiniteBenchQaF1Zh(prediction, answers);
    case 'longbook_sum_eng':
      return 100 * infiniteBenchRougeLsum(prediction, answers);
    case 'longbook_choice_eng':
      return infiniteBenchChoiceMatch(prediction, infiniteBenchChoiceLabel(answers, options)) ? 100 : 0;
  }
}
