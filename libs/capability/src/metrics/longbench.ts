import { f1 } from '@ctxlab/niah';
import { jiebaCut } from './jieba';
import { fuzzRatio } from './levenshtein-ratio';
import { pltrdyRougeLF } from './pltrdy-rouge';
import { npMean, npRound2, pyFindDigitRuns, pyRound2, pySplit } from './python';

/**
 * LongBench's metrics, ported from THUDM/LongBench LongBench/metrics.py and LongBench/eval.py at
 * commit 2e00731f8d0bff23dc4325161044d0ed8af94c1e. Every metric returns the official 0–1 value;
 * the item/task helpers below put it on LongBench's 0–100 scale.
 */

export type LongBenchMetric =
  | 'qa_f1_score'
  | 'qa_f1_zh_score'
  | 'rouge_score'
  | 'rouge_zh_score'
  | 'classification_score'
  | 'retrieval_score'
  | 'retrieval_zh_score'
  | 'count_score'
  | 'code_sim_score';

/** eval.py's `dataset2metric`; LongBench-E's files (`qasper_e`, …) use their base dataset's metric. */
const BASE_METRIC = {
  narrativeqa: 'qa_f1_score',
  qasper: 'qa_f1_score',
  multifieldqa_en: 'qa_f1_score',
  multifieldqa_zh: 'qa_f1_zh_score',
  hotpotqa: 'qa_f1_score',
  '2wikimqa': 'qa_f1_score',
  musique: 'qa_f1_score',
  dureader: 'rouge_zh_score',
  gov_report: 'rouge_score',
  qmsum: 'rouge_score',
  multi_news: 'rouge_score',
  vcsum: 'rouge_zh_score',
  trec: 'classification_score',
  triviaqa: 'qa_f1_score',
  samsum: 'rouge_score',
  lsht: 'classification_score',
  passage_retrieval_en: 'retrieval_score',
  passage_count: 'count_score',
  passage_retrieval_zh: 'retrieval_zh_score',
  lcc: 'code_sim_score',
  'repobench-p': 'code_sim_score',
} as const satisfies Record<string, LongBenchMetric>;

/** The 13 datasets of LongBench-E (pred.py's `--e` list), published as `<name>_e`. */
const LONGBENCH_E_BASES = [
  'qasper', 'multifieldqa_en', 'hotpotqa', '2wikimqa', 'gov_report', 'multi_news', 'trec',
  'triviaqa', 'samsum', 'passage_count', 'passage_retrieval_en', 'lcc', 'repobench-p',
] as const;

export const LONGBENCH_METRIC: Readonly<Record<string, LongBenchMetric>> = Object.freeze({
  ...BASE_METRIC,
  ...Object.fromEntries(LONGBENCH_E_BASES.map((d) => [`${d}_e`, BASE_METRIC[d]])),
});

/** eval.py: for these the prediction is cut to its first line (`lstrip('\n').split('\n')[0]`). */
const FIRST_LINE_DATASETS = new Set(['trec', 'triviaqa', 'samsum', 'lsht']);

const ASCII_PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
const ZH_PUNCTUATION = '！？｡。＂＃＄％＆＇（）＊＋，－／：；＜＝＞＠［＼］＾＿｀｛｜｝～｟｠｢｣､、〃》「」『』【】〔〕〖〗〘〙〚〛〜〝〞〟〰〾〿–—‘’‛“”„‟…‧﹏.';
const EN_EXCLUDE = new Set(ASCII_PUNCTUATION);
const ZH_EXCLUDE = new Set(Array.from(ASCII_PUNCTUATION + ZH_PUNCTUATION));
/** Python's `\b(a|an|the)\b` on a str: word characters are Unicode letters, digits and "_". */
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

function removeChars(text: string, exclude: ReadonlySet<string>): string {
  return Array.from(text).filter((ch) => !exclude.has(ch)).join('');
}

/** metrics.py normalize_answer: lower, drop ASCII punctuation, articles → " ", collapse whitespace. */
export function normalizeAnswer(s: string): string {
  return pySplit(removeChars(s.toLowerCase(), EN_EXCLUDE).replace(ARTICLES, ' ')).join(' ');
}

/** metrics.py normalize_zh_answer: lower, drop ASCII and Chinese punctuation, remove all whitespace. */
export function normalizeZhAnswer(s: string): string {
  return pySplit(removeChars(s.toLowerCase(), ZH_EXCLUDE)).join('');
}

/**
 * metrics.py f1_score over token lists (Counter intersection); 0 when nothing is shared. The same
 * token F1 as the NIAH scorers' (one implementation, in @ctxlab/niah).
 */
export const tokenF1: (prediction: readonly string[], groundTruth: readonly string[]) => number = f1;

export function qaF1Score(prediction: string, groundTruth: string): number {
  return tokenF1(pySplit(normalizeAnswer(prediction)), pySplit(normalizeAnswer(groundTruth)));
}

/** qa_f1_zh_score: jieba words, each normalised, empty ones dropped. */
export function qaF1ZhScore(prediction: string, groundTruth: string): number {
  const tokens = (s: string) => jiebaCut(s).map(normalizeZhAnswer).filter((t) => t.length > 0);
  return tokenF1(tokens(prediction), tokens(groundTruth));
}

export function rougeScore(prediction: string, groundTruth: string): number {
  return pltrdyRougeLF(prediction, groundTruth, 9);
}

/** rouge_zh_score: both texts jieba-cut and joined with spaces; one Python frame deeper. */
export function rougeZhScore(prediction: string, groundTruth: string): number {
  return pltrdyRougeLF(jiebaCut(prediction).join(' '), jiebaCut(groundTruth).join(' '), 10);
}

/**
 * classification_score: the classes found (as substrings) in the prediction, minus those that are
 * substrings of the ground truth without being it — removed while iterating the same Python list,
 * so the element after each removed one is skipped, as in the original; 1/len if the truth remains.
 */
export function classificationScore(prediction: string, groundTruth: string, allClasses: readonly string[]): number {
  const matches = allClasses.filter((c) => prediction.includes(c));
  for (let i = 0; i < matches.length; i++) {
    const term = matches[i]!;
    if (groundTruth.includes(term) && term !== groundTruth) matches.splice(matches.indexOf(term), 1);
  }
  return matches.includes(groundTruth) ? 1.0 / matches.length : 0.0;
}

/** The share of the prediction's digit runs equal to `id` (0 when it has none). */
function shareOfNumbers(prediction: string, id: string): number {
  const numbers = pyFindDigitRuns(prediction);
  const right = numbers.filter((n) => n === id).length;
  return numbers.length === 0 ? 0.0 : right / numbers.length;
}

function paragraphId(groundTruth: string, pattern: RegExp, metric: string): string {
  const id = pattern.exec(groundTruth)?.[1];
  if (id === undefined) throw new Error(`${metric}: ground truth "${groundTruth}" has no paragraph number (IndexError in metrics.py)`);
  return id;
}

export function retrievalScore(prediction: string, groundTruth: string): number {
  return shareOfNumbers(prediction, paragraphId(groundTruth, /Paragraph (\p{Nd}+)/u, 'retrieval_score'));
}

export function retrievalZhScore(prediction: string, groundTruth: string): number {
  return shareOfNumbers(prediction, paragraphId(groundTruth, /段落(\p{Nd}+)/u, 'retrieval_zh_score'));
}

export function countScore(prediction: string, groundTruth: string): number {
  return shareOfNumbers(prediction, groundTruth);
}

/** code_sim_score: the first line (after leading newlines) without "`", "#" or "//", fuzz.ratio / 100. */
export function codeSimScore(prediction: string, groundTruth: string): number {
  const line = prediction.replace(/^\n+/, '').split('\n').find((l) => !l.includes('`') && !l.includes('#') && !l.includes('//')) ?? '';
  return fuzzRatio(line, groundTruth) / 100;
}

const METRIC_FN: Record<LongBenchMetric, (prediction: string, groundTruth: string, allClasses: readonly string[]) => number> = {
  qa_f1_score: qaF1Score,
  qa_f1_zh_score: qaF1ZhScore,
  rouge_score: rougeScore,
  rouge_zh_score: rougeZhScore,
  classification_score: classificationScore,
  retrieval_score: retrievalScore,
  retrieval_zh_score: retrievalZhScore,
  count_score: countScore,
  code_sim_score: codeSimScore,
};

function metricOf(dataset: string): LongBenchMetric {
  const metric = LONGBENCH_METRIC[dataset];
  if (metric === undefined) throw new Error(`unknown LongBench dataset "${dataset}"`);
  return metric;
}

/** eval.py's per-item score, 0–1: first-line rule, then the max over ground truths (starting at 0). */
export function longBenchRawItemScore(dataset: string, prediction: string, answers: readonly string[], allClasses: readonly string[] | null): number {
  const metric = METRIC_FN[metricOf(dataset)];
  const base = dataset.replace(/_e$/, '');
  const pred = FIRST_LINE_DATASETS.has(base) ? prediction.replace(/^\n+/, '').split('\n')[0]! : prediction;
  if (metric === classificationScore && allClasses === null) throw new Error(`${dataset}: classification needs all_classes`);
  let score = 0;
  for (const answer of answers) score = Math.max(score, metric(pred, answer, allClasses ?? []));
  return score;
}

/** One item's score on LongBench's 0–100 scale: 100 × the max over answers, unrounded. */
export function longBenchItemScore(dataset: string, prediction: string, answers: string[], allClasses: string[] | null): number {
  return 100 * longBenchRawItemScore(dataset, prediction, answers, allClasses);
}

/**
 * A dataset's score from item scores on the 0–100 scale: round(mean, 2) with Python's round.
 * eval.py computes round(100 * Σraw / n, 2); from raw 0–1 scores use longBenchScorer's arithmetic
 * via longBenchTaskScoreFromRaw to match it bit for bit.
 */
export function longBenchTaskScore(itemScores: number[]): number {
  if (itemScores.length === 0) throw new Error('a LongBench task score needs at least one item');
  return pyRound2(itemScores.reduce((a, b) => a + b, 0) / itemScores.length);
}

/** eval.py scorer's final line exactly: `round(100 * total_score / len(predictions), 2)`. */
export function longBenchTaskScoreFromRaw(rawScores: readonly number[]): number {
  if (rawScores.length === 0) throw new Error('a LongBench task score needs at least one item');
  let total = 0;
  for (const s of rawScores) total += s;
  return pyRound2((100 * total) / rawScores.length);
}

export interface LongBenchEScores {
  '0-4k': number;
  '4-8k': number;
  '8k+': number;
}

/**
 * LongBench-E's scorer_e from items' 0–100 scores and their `length`: buckets <4000, <8000, rest,
 * each `round(np.mean(bucket), 2)` with NumPy's pairwise sum and rounding (scorer_e takes
 * 100 × np.mean of raw scores; an empty bucket is NaN, as np.mean([]) gives).
 */
export function longBenchEScores(items: readonly { length: number; score: number }[]): LongBenchEScores {
  return longBenchEScoresFromRaw(items.map((it) => ({ length: it.length, score: it.score / 100 })));
}

/** scorer_e exactly, from raw 0–1 scores: `round(100 * np.mean(bucket), 2)`. */
export function longBenchEScoresFromRaw(items: readonly { length: number; score: number }[]): LongBenchEScores {
  const buckets: Record<keyof LongBenchEScores, number[]> = { '0-4k': [], '4-8k': [], '8k+': [] };
  for (const { length, score } of items) buckets[length < 4000 ? '0-4k' : length < 8000 ? '4-8k' : '8k+'].push(score);
  return {
    '0-4k': npRound2(100 * npMean(buckets['0-4k'])),
    '4-8k': npRound2(100 * npMean(buckets['4-8k'])),
    '8k+': npRound2(100 * npMean(buckets['8k+'])),
  };
}
