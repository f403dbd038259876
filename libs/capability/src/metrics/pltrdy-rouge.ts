import { pySplit } from './python';

/**
 * ROUGE-L F as LongBench computes it: pltrdy/rouge 1.0.1 (rouge/rouge.py, rouge/rouge_score.py at
 * c1b90a78c303b5d5956b1c1f2dac19cdd553d9b9), `Rouge().get_scores([hyp], [ref], avg=True)["rouge-l"]["f"]`
 * inside LongBench's `try/except: return 0.0` (THUDM/LongBench LongBench/metrics.py, rouge_score,
 * at 2e00731f8d0bff23dc4325161044d0ed8af94c1e). What that code does, step by step:
 *  - a text is split on "." into sentences, empty pieces dropped, each re-joined on single spaces
 *    (Python `" ".join(s.split())`); a sentence's words are its `split(" ")`;
 *  - no sentence in the hypothesis or the reference → ValueError → LongBench scores 0;
 *  - `m`, `n` are the numbers of DISTINCT words of reference and hypothesis (exclusive n-grams);
 *  - for each reference sentence and each hypothesis sentence, one LCS is read back recursively
 *    (`_recon`) and its words join a set shared across all pairs; `llcs` is that set's size;
 *  - F = 2·(P·R)/(P + R + 1e-8) with P = llcs/n, R = llcs/m.
 * `_recon` recurses once per step of the LCS read-back: when that chain would take Python past its
 * default recursion limit (1000 frames), RecursionError is raised and LongBench's bare `except`
 * turns the item's score into 0. `callerFrames` is the number of Python frames below the first
 * `_recon` call (9 for rouge_score called from eval.py's scorer, 10 through rouge_zh_score: checked
 * on CPython 3.11 by tools/capability/official-metrics.py).
 */
export function pltrdyRougeLF(hypothesis: string, reference: string, callerFrames = 9): number {
  const hyp = sentences(hypothesis);
  const ref = sentences(reference);
  if (hyp.length === 0 || ref.length === 0) return 0;
  const m = new Set(ref.flatMap(words)).size;
  const n = new Set(hyp.flatMap(words)).size;
  const union = new Set<string>();
  for (const refSentence of ref) {
    const refWords = words(refSentence);
    for (const hypSentence of hyp) {
      const lcs = readBackLcs(refWords, words(hypSentence), 1000 - callerFrames);
      if (lcs === undefined) return 0; // RecursionError, caught by LongBench's bare except
      for (const w of lcs) union.add(w);
    }
  }
  const llcs = union.size;
  const r = llcs / m;
  const p = llcs / n;
  return 2.0 * ((p * r) / (p + r + 1e-8));
}

function sentences(text: string): string[] {
  return text
    .split('.')
    .filter((s) => s.length > 0)
    .map((s) => pySplit(s).join(' '));
}

function words(sentence: string): string[] {
  return sentence.split(' ');
}

/**
 * The words of x on the LCS path pltrdy's `_recon` takes (a match first, then up when
 * table[i-1][j] > table[i][j-1], else left); undefined when its recursion would exceed `maxFrames`.
 */
function readBackLcs(x: readonly string[], y: readonly string[], maxFrames: number): string[] | undefined {
  const cols = y.length + 1;
  const table = new Int32Array((x.length + 1) * cols);
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      table[i * cols + j] = x[i - 1] === y[j - 1] ? table[(i - 1) * cols + j - 1]! + 1 : Math.max(table[(i - 1) * cols + j]!, table[i * cols + j - 1]!);
    }
  }
  const out: string[] = [];
  let i = x.length;
  let j = y.length;
  let frames = 1;
  while (i > 0 && j > 0) {
    if (x[i - 1] === y[j - 1]) {
      out.push(x[i - 1]!);
      i--;
      j--;
    } else if (table[(i - 1) * cols + j]! > table[i * cols + j - 1]!) i--;
    else j--;
    frames++;
  }
  return frames > maxFrames ? undefined : out;
}
