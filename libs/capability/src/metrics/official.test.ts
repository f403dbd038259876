/**
 * Every expected value here was computed by the OFFICIAL Python code, not by hand:
 *
 *   python3 tools/capability/official-metrics.py --longbench <LongBench>/LongBench --rouge <pltrdy/rouge> \
 *     --rouge-score <dir of rouge_score> --infinitebench <InfiniteBench>/src > libs/capability/src/metrics/official-expected.json
 *
 * run with Debian 12's /usr/bin/python3 (CPython 3.11.2), jieba 0.42.1, fuzzywuzzy 0.18.0 with
 * python-Levenshtein 0.12.2, numpy 1.24.2, on these sources:
 *  - THUDM/LongBench 2e00731f8d0bff23dc4325161044d0ed8af94c1e (LongBench/metrics.py, LongBench/eval.py);
 *  - pltrdy/rouge c1b90a78c303b5d5956b1c1f2dac19cdd553d9b9 (the `rouge` package, 1.0.1);
 *  - OpenBMB/InfiniteBench 88b3daa6989da2fbe0077170d7a3c84c25d5ae58 (src/compute_scores.py, with
 *    `evaluate` stubbed by the lines of HF evaluate v0.4.1 metrics/rouge/rouge.py it uses);
 *  - google-research rouge/ (rouge_scorer.py 61ce9f0ca76025dac5b671c0631e443a9975a8a3, tokenize.py
 *    0c1bbe5fc971a1de1a427debc814e66ab4f1e7fa, tokenizers.py 30adf0ec5f35f9609c2f1d896005e184195d9146,
 *    scoring.py 0b7b841b4d58aac0854fd6daa3f80ea2724d14b3) plus rouge-score 0.1.2's score_multi (argmax).
 * The JSON also holds Python jieba's segmentation of each Chinese text, compared with jieba-rs below.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jiebaCut } from './jieba';
import {
  infiniteBenchItemScore,
  INFINITEBENCH_METRIC,
  type InfiniteBenchTask,
  longBenchEScores,
  longBenchEScoresFromRaw,
  longBenchItemScore,
  longBenchRawItemScore,
  longBenchTaskScore,
  longBenchTaskScoreFromRaw,
  LONGBENCH_METRIC,
} from './index';

interface Expected {
  longbench: { dataset: string; prediction: string; answers: string[]; allClasses: string[] | null; raw: number; difflibRatio?: number }[];
  longbench_task: { dataset: string; predictions: string[]; answers: string[][]; score: number }[];
  longbench_e: { dataset: string; predictions: string[]; answers: string[][]; lengths: number[]; scores: Record<'0-4k' | '4-8k' | '8k+', number | null> }[];
  infinitebench: { task: InfiniteBenchTask; prediction: string; answers: string[]; options: string[] | null; raw: number }[];
  jieba: { text: string; cut: string[] }[];
}

const expected = JSON.parse(readFileSync(resolve(import.meta.dirname, 'official-expected.json'), 'utf8')) as Expected;

/** Floating-point agreement: 1e-9 relative (exact zeros stay exact). */
function close(actual: number, want: number): void {
  if (want === 0) expect(actual).toBe(0);
  else expect(Math.abs(actual - want) / Math.abs(want)).toBeLessThan(1e-9);
}

const label = (s: string) => JSON.stringify(s.length > 50 ? `${s.slice(0, 47)}...` : s);

describe('LongBench item scores = official metrics.py / eval.py', () => {
  it.each(expected.longbench.map((c, i) => [i, c.dataset, label(c.prediction), c] as const))('#%i %s %s', (_i, _d, _p, c) => {
    close(longBenchRawItemScore(c.dataset, c.prediction, c.answers, c.allClasses), c.raw);
    close(longBenchItemScore(c.dataset, c.prediction, c.answers, c.allClasses), 100 * c.raw);
  });

  it('covers every dataset of LongBench and LongBench-E', () => {
    const covered = new Set(expected.longbench.map((c) => c.dataset.replace(/_e$/, '')));
    for (const d of Object.keys(LONGBENCH_METRIC)) expect(covered.has(d.replace(/_e$/, ''))).toBe(true);
    expect(Object.keys(LONGBENCH_METRIC)).toHaveLength(21 + 13);
  });
});

describe('LongBench task and LongBench-E scores = eval.py scorer / scorer_e', () => {
  it.each(expected.longbench_task.map((c) => [c.predictions.length, c] as const))('scorer over %i items', (_n, c) => {
    const raw = c.predictions.map((p, i) => longBenchRawItemScore(c.dataset, p, c.answers[i]!, null));
    expect(longBenchTaskScoreFromRaw(raw)).toBe(c.score);
    expect(longBenchTaskScore(raw.map((r) => 100 * r))).toBe(c.score);
  });

  it.each(expected.longbench_e.map((c) => [c.predictions.length, c] as const))('scorer_e over %i items', (_n, c) => {
    const raw = c.predictions.map((p, i) => ({ length: c.lengths[i]!, score: longBenchRawItemScore(c.dataset, p, c.answers[i]!, null) }));
    const want = Object.fromEntries(Object.entries(c.scores).map(([k, v]) => [k, v ?? NaN]));
    expect(longBenchEScoresFromRaw(raw)).toEqual(want);
    expect(longBenchEScores(raw.map((r) => ({ length: r.length, score: 100 * r.score })))).toEqual(want);
  });
});

describe('InfiniteBench item scores = official compute_scores.py', () => {
  it.each(expected.infinitebench.map((c, i) => [i, c.task, label(c.prediction), c] as const))('#%i %s %s', (_i, _t, _p, c) => {
    close(infiniteBenchItemScore(c.task, c.prediction, c.answers, c.options ?? undefined), 100 * c.raw);
  });

  it('names a metric for each supported task', () => {
    expect(new Set(expected.infinitebench.map((c) => c.task))).toEqual(new Set(Object.keys(INFINITEBENCH_METRIC)));
  });
});

describe('jieba-rs segments the test sentences as Python jieba 0.42.1 does', () => {
  it.each(expected.jieba.map((c) => [c.text, c.cut] as const))('%s', (text, cut) => {
    expect(jiebaCut(text)).toEqual(cut);
  });
});
