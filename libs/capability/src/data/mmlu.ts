import type { Tokenizer } from '@ctxlab/tokenizers';
import { parseCsv, CsvSyntaxError } from './csv';
import { BenchmarkFormatError, baseName } from './errors';
import { builtPrompt, type BuiltPrompt } from './prompt';

/**
 * MMLU as hendrycks/test distributes and prompts it, read at commit
 * 4450500f923c49f1fb1dd3d99108a0bd9717b660:
 * - files: evaluate.py main reads `data/dev/{subject}_dev.csv` and `data/test/{subject}_test.csv`
 *   with `pd.read_csv(..., header=None)` (data/val/{subject}_val.csv ships alongside): no header,
 *   columns question, A, B, C, D, answer (the letter);
 * - prompt: evaluate.py format_subject, format_example, gen_prompt; the model is asked for
 *   `max_tokens=1` and the logprobs of " A" … " D" at that position.
 * lm-evaluation-harness (EleutherAI, lm_eval/tasks/mmlu/default/_default_template_yaml at commit
 * 4e7e0d47f33bc71070c1d38394bafbb52b117163) differs: its description says "about anatomy."
 * (one space, no format_subject), it strips the question, and it scores the loglikelihood of
 * " A" … " D" (output_type multiple_choice, no generation at all); its generative variant
 * (tasks/mmlu/generative) generates until "\n" with the default max_gen_toks, 256.
 */

export const MMLU_LETTERS = ['A', 'B', 'C', 'D'] as const;
export type MmluLetter = (typeof MMLU_LETTERS)[number];
export type MmluSplit = 'dev' | 'val' | 'test';

export interface MmluItem {
  /** From the file name: "high_school_geography". */
  subject: string;
  question: string;
  choices: [string, string, string, string];
  answer: MmluLetter;
}

const FILE = /^(.+)_(dev|val|test)\.csv$/;

/**
 * One MMLU CSV. The subject and split come from the name (`{subject}_{split}.csv`); when the path
 * has a folder, it must be the split's (data/dev/…). Each record has exactly six fields and the
 * answer is a letter A–D. Cells are kept as written: pandas would turn a choice of "None" into
 * NaN (printed "nan") and "0.50" into 0.5 in an all-numeric column; the text is what the
 * Hugging Face copies (cais/mmlu) and lm-evaluation-harness use.
 */
export function parseMmluCsv(file: string, text: string): { subject: string; split: MmluSplit; items: MmluItem[] } {
  const m = FILE.exec(baseName(file));
  if (!m) throw new BenchmarkFormatError(file, null, null, 'not an MMLU file name (expected {subject}_dev.csv, {subject}_val.csv or {subject}_test.csv)');
  const subject = m[1]!;
  const split = m[2] as MmluSplit;
  const parts = file.split(/[\\/]/);
  if (parts.length >= 2 && ['dev', 'val', 'test'].includes(parts[parts.length - 2]!) && parts[parts.length - 2] !== split) {
    throw new BenchmarkFormatError(file, null, null, `a ${split} file in the ${parts[parts.length - 2]}/ folder`);
  }
  let records;
  try {
    records = parseCsv(text);
  } catch (e) {
    if (e instanceof CsvSyntaxError) throw new BenchmarkFormatError(file, e.line, null, e.message);
    throw e;
  }
  if (records.length === 0) throw new BenchmarkFormatError(file, null, null, 'holds no records');
  const items = records.map(({ line, fields }): MmluItem => {
    if (fields.length !== 6) {
      throw new BenchmarkFormatError(file, line, null, `expected 6 fields (question, A, B, C, D, answer), got ${fields.length}`);
    }
    const [question, a, b, c, d, answer] = fields as [string, string, string, string, string, string];
    if (!(MMLU_LETTERS as readonly string[]).includes(answer)) throw new BenchmarkFormatError(file, line, 'answer', `must be A, B, C or D, got "${answer}"`);
    return { subject, question, choices: [a, b, c, d], answer: answer as MmluLetter };
  });
  return { subject, split, items };
}

/** evaluate.py format_subject: "high_school_geography" → " high school geography" (a space before each word). */
export function formatMmluSubject(subject: string): string {
  return subject
    .split('_')
    .map((w) => ` ${w}`)
    .join('');
}

/** evaluate.py format_example: "{question}\nA. …\nB. …\nC. …\nD. …\nAnswer:" and, with the answer, " {letter}\n\n". */
export function formatMmluExample(item: MmluItem, includeAnswer: boolean): string {
  let s = item.question;
  item.choices.forEach((c, j) => (s += `\n${MMLU_LETTERS[j]}. ${c}`));
  s += '\nAnswer:';
  if (includeAnswer) s += ` ${item.answer}\n\n`;
  return s;
}

/**
 * evaluate.py gen_prompt + format_example: "The following are multiple choice questions (with
 * answers) about {format_subject(subject)}.\n\n" (two spaces before the subject: format_subject
 * starts with one), the first k dev examples with answers, then the question ending "Answer:".
 */
export function formatMmluPrompt(item: MmluItem, dev: readonly MmluItem[], shots: number): string {
  let prompt = `The following are multiple choice questions (with answers) about ${formatMmluSubject(item.subject)}.\n\n`;
  for (let i = 0; i < shots; i++) prompt += formatMmluExample(dev[i]!, true);
  return prompt + formatMmluExample(item, false);
}

export interface MmluPromptOptions {
  tokenizer: Tokenizer;
  /** Put the whole prompt in one user turn of the tokenizer's chat template (hendrycks/test has none). */
  chatTemplate: boolean;
}

export interface MmluPrompt extends BuiltPrompt {
  answer: MmluLetter;
}

/**
 * The prompt hendrycks/test's evaluate.py sends for `item` with `shots` (0–5, its default
 * ntrain is 5) dev examples of the same subject, in file order. evaluate.py also drops shots
 * while the prompt exceeds 2048 GPT-3 tokens (crop.py); prompts here keep the shots asked for.
 * maxNewTokens is 1 as in evaluate.py (read the letter from the top logprobs with
 * mmluLetterFromLogprobs, or from the text with mmluLetterFromText).
 */
export function buildMmluPrompt(item: MmluItem, dev: readonly MmluItem[], shots: number, opts: MmluPromptOptions): MmluPrompt {
  if (!Number.isInteger(shots) || shots < 0 || shots > 5) throw new RangeError(`shots must be an integer from 0 to 5, got ${shots}`);
  if (dev.length < shots) throw new RangeError(`${shots} shots need ${shots} dev examples, got ${dev.length}`);
  const other = dev.slice(0, shots).find((d) => d.subject !== item.subject);
  if (other) throw new RangeError(`a dev example of "${other.subject}" for a question about "${item.subject}"`);
  const content = formatMmluPrompt(item, dev, shots);
  const messages = [{ role: 'user', content }];
  return { ...builtPrompt(opts.tokenizer, messages, opts.chatTemplate, 1), answer: item.answer };
}

/**
 * The first answer letter in a generated reply: a leading letter ("B", " B", "B.", "(B)", "B)"),
 * else one after "answer is", "answer:", "option" or "choice", else the first standalone A–D
 * (an "A" followed by a lowercase word is read as the article). Null when there is none.
 */
export function mmluLetterFromText(text: string): MmluLetter | null {
  const s = text.trim();
  const lead = /^[([*"'\s]*([ABCD])(?![A-Za-z0-9])/.exec(s);
  if (lead && !(lead[1] === 'A' && /^[([*"'\s]*A\s+[a-z]/.test(s))) return lead[1] as MmluLetter;
  const cued = /\b(?:answer|option|choice)(?:\s+is)?\s*[:\-]?\s*[([*"']*([ABCD])(?![A-Za-z0-9])/i.exec(s);
  if (cued) return cued[1] as MmluLetter;
  const any = /(?:^|[^A-Za-z0-9])([ABCD])(?![A-Za-z0-9])/g;
  for (let m = any.exec(s); m; m = any.exec(s)) {
    const after = s.slice(m.index + m[0].length);
    if (m[1] === 'A' && /^\s+[a-z]/.test(after)) continue;
    return m[1] as MmluLetter;
  }
  return null;
}

/**
 * The letter among the top logprobs of the answer position: the highest-logprob token that is
 * "A"–"D" with or without one leading space (evaluate.py reads " A" … " D"). Null when none is there.
 */
export function mmluLetterFromLogprobs(top: readonly { token: string; logprob: number }[]): { letter: MmluLetter; logprob: number } | null {
  let best: { letter: MmluLetter; logprob: number } | null = null;
  for (const { token, logprob } of top) {
    const t = token.startsWith(' ') ? token.slice(1) : token;
    if (!(MMLU_LETTERS as readonly string[]).includes(t)) continue;
    if (!best || logprob > best.logprob) best = { letter: t as MmluLetter, logprob };
  }
  return best;
}
