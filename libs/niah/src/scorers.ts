import type { NiahScorerName } from '@ctxlab/contracts';
import { removePythonSpace } from '@ctxlab/tokenizers';
import { ZH_STORY_REFERENCE } from './needles';

/** What a scorer compares the answer with. */
export interface ScoreReference {
  expected: readonly string[];
  /** The inserted needle text (360Zhinao's English fallback compares against it). */
  needle?: string;
  /** Negative control: strings that must not appear, and the digit count of made-up values. */
  forbidden?: readonly string[];
  digits?: number;
}

export type Scorer = (answer: string, ref: ScoreReference) => number;

/** Levenshtein distance over code points (Python string semantics). */
export function levenshtein(a: string, b: string): number {
  const s = Array.from(a);
  const t = Array.from(b);
  if (s.length < t.length) return levenshtein(b, a);
  if (t.length === 0) return s.length;
  let prev = Array.from({ length: t.length + 1 }, (_v, j) => j);
  for (let i = 0; i < s.length; i++) {
    const cur = [i + 1];
    for (let j = 0; j < t.length; j++) cur.push(Math.min(prev[j + 1]! + 1, cur[j]! + 1, prev[j]! + (s[i] === t[j] ? 0 : 1)));
    prev = cur;
  }
  return prev[t.length]!;
}

/** 100 × (1 − distance / longer length) with all whitespace removed; 100 when both are empty. */
export function editSimilarity(answer: string, reference: string): number {
  const a = removePythonSpace(answer);
  const b = removePythonSpace(reference);
  const max = Math.max(Array.from(a).length, Array.from(b).length);
  return max === 0 ? 100 : 100 * (1 - levenshtein(a, b) / max);
}

/** Python's re `.` matches anything but "\n" (JavaScript's also refuses \r, U+2028, U+2029). */
const SANDWICH = /sandwich[^\n]+?dolores[^\n]+?sunny/;

/** 360Zhinao's English rule: regex on the lower-cased answer, else edit similarity to the needle. */
export function zhinaoEnglishScore(answer: string, needle: string): number {
  if (SANDWICH.test(answer.toLowerCase())) return 100;
  return editSimilarity(answer, needle);
}

// LongBench's normalize_zh_answer: Python string.punctuation plus these CJK marks.
const PUNCT = new Set(Array.from('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~' + '！？｡。＂＃＄％＆＇（）＊＋，－／：；＜＝＞＠［＼］＾＿｀｛｜｝～｟｠｢｣､、〃》「」『』【】〔〕〖〗〘〙〚〛〜〝〞〟〰〾〿–—‘’‛“”„‟…‧﹏.'));

/**
 * Chinese "words" for the F1: jieba is not available in JavaScript, so every Han character is
 * one word and every run of other letters/digits (English words, numbers) is one word. Then
 * LongBench's normalisation per word (lower case, punctuation and whitespace removed, empty
 * words dropped). Character-level F1 is the usual fallback for Chinese QA when no segmenter
 * is used; on short answers it tracks jieba's word-level F1 closely.
 */
export function chineseWords(text: string): string[] {
  const words = text.match(/\p{Script=Han}|[\p{L}\p{N}]+|[^\p{L}\p{N}]/gu) ?? [];
  return words
    .map((w) => removePythonSpace(Array.from(w.toLowerCase()).filter((c) => !PUNCT.has(c)).join('')))
    .filter((w) => w.length > 0);
}

export function f1(prediction: readonly string[], reference: readonly string[]): number {
  const counts = new Map<string, number>();
  for (const w of reference) counts.set(w, (counts.get(w) ?? 0) + 1);
  let same = 0;
  for (const w of prediction) {
    const c = counts.get(w) ?? 0;
    if (c > 0) {
      same++;
      counts.set(w, c - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / prediction.length;
  const recall = same / reference.length;
  return (2 * precision * recall) / (precision + recall);
}

/** 360Zhinao's Chinese rule: 100 when 刘秀 appears, else 100 × F1 against 王莽在刘秀的手下工作。 */
export function zhinaoChineseScore(answer: string): number {
  if (answer.toLowerCase().includes('刘秀')) return 100;
  return 100 * f1(chineseWords(answer), chineseWords(ZH_STORY_REFERENCE));
}

export const SCORERS: Record<NiahScorerName, Scorer> = {
  'zhinao-en': (answer, ref) => zhinaoEnglishScore(answer, ref.needle ?? ref.expected[0] ?? ''),
  'zhinao-zh': (answer) => zhinaoChineseScore(answer),
  value: (answer, ref) => (ref.expected.length > 0 && ref.expected.every((v) => answer.includes(v)) ? 100 : 0),
  // RULER string_match_all: share of references present, case-insensitive.
  'string-match-all': (answer, ref) => {
    if (ref.expected.length === 0) return 0;
    const a = answer.toLowerCase();
    return (100 * ref.expected.filter((r) => a.includes(r.toLowerCase())).length) / ref.expected.length;
  },
  // RULER string_match_part: any reference present, case-insensitive.
  'string-match-part': (answer, ref) => {
    const a = answer.toLowerCase();
    return ref.expected.some((r) => a.includes(r.toLowerCase())) ? 100 : 0;
  },
  exact: (answer, ref) => (ref.expected.includes(answer.trim()) ? 100 : 0),
  negative: (answer, ref) => {
    if ((ref.forbidden ?? []).some((f) => answer.includes(f))) return 0;
    const digits = ref.digits ?? 5;
    return new RegExp(`\\d{${digits},}`).test(answer.replace(/[,\s](?=\d{3})/g, '')) ? 0 : 100;
  },
};

export function scoreAnswer(scorer: NiahScorerName, answer: string, ref: ScoreReference): number {
  const s = SCORERS[scorer](answer, ref);
  return Math.max(0, Math.min(100, s));
}
