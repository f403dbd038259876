import { RULER_TASK_IDS } from '@ctxlab/contracts';
/**
 * RULER's 13 tasks as NVIDIA/RULER defines them (read at commit c3f5e3b):
 *  - templates, answer prefixes and tokens_to_generate: scripts/data/synthetic/constants.py;
 *  - the 13 task names and their arguments: scripts/synthetic.yaml (the list run by
 *    scripts/config_tasks.sh);
 *  - metrics: scripts/eval/synthetic/constants.py (string_match_all for every family but qa,
 *    which uses string_match_part).
 * The strings below are RULER's, character for character; `{…}` are its format fields.
 */

export type RulerFamily = 'niah' | 'variable_tracking' | 'common_words_extraction' | 'freq_words_extraction' | 'qa';
export type RulerMetric = 'string_match_all' | 'string_match_part';
export type HaystackType = 'noise' | 'essay' | 'needle';
export type NeedleType = 'words' | 'numbers' | 'uuids';

export interface NiahArgs {
  type_haystack: HaystackType;
  type_needle_k: NeedleType;
  type_needle_v: NeedleType;
  num_needle_k: number;
  num_needle_v: number;
  num_needle_q: number;
}
export interface VtArgs {
  type_haystack: 'noise' | 'essay';
  num_chains: number;
  num_hops: number;
}
export interface CweArgs {
  freq_cw: number;
  freq_ucw: number;
  num_cw: number;
  num_fewshot: number;
}
export interface FweArgs {
  alpha: number;
  coded_wordlen: number;
}
export interface QaArgs {
  dataset: 'squad' | 'hotpotqa';
}

interface Family<F extends RulerFamily> {
  family: F;
  template: string;
  answerPrefix: string;
  tokensToGenerate: number;
  metric: RulerMetric;
}

const NIAH: Family<'niah'> = {
  family: 'niah',
  tokensToGenerate: 128,
  template:
    'Some special magic {type_needle_v} are hidden within the following text. Make sure to memorize it. I will quiz you about the {type_needle_v} afterwards.\n{context}\nWhat are all the special magic {type_needle_v} for {query} mentioned in the provided text?',
  answerPrefix: ' The special magic {type_needle_v} for {query} mentioned in the provided text are',
  metric: 'string_match_all',
};
const VT: Family<'variable_tracking'> = {
  family: 'variable_tracking',
  tokensToGenerate: 30,
  template:
    'Memorize and track the chain(s) of variable assignment hidden in the following text.\n\n{context}\nQuestion: Find all variables that are assigned the value {query} in the text above.',
  answerPrefix: ' Answer: According to the chain(s) of variable assignment in the text above, {num_v} variables are assigned the value {query}, they are: ',
  metric: 'string_match_all',
};
const CWE: Family<'common_words_extraction'> = {
  family: 'common_words_extraction',
  tokensToGenerate: 120,
  template:
    'Below is a numbered list of words. In these words, some appear more often than others. Memorize the ones that appear most often.\n{context}\nQuestion: What are the 10 most common words in the above list?',
  answerPrefix: ' Answer: The top 10 words that appear most often in the list are:',
  metric: 'string_match_all',
};
const FWE: Family<'freq_words_extraction'> = {
  family: 'freq_words_extraction',
  tokensToGenerate: 50,
  template:
    "Read the following coded text and track the frequency of each coded word. Find the three most frequently appeared coded words. {context}\nQuestion: Do not provide any explanation. Please ignore the dots '....'. What are the three most frequently appeared words in the above coded text?",
  answerPrefix: ' Answer: According to the coded text above, the three most frequently appeared words are:',
  metric: 'string_match_all',
};
const QA: Family<'qa'> = {
  family: 'qa',
  tokensToGenerate: 32,
  template:
    'Answer the question based on the given documents. Only give me the answer and do not output any other words.\n\nThe following are given documents.\n\n{context}\n\nAnswer the question based on the given documents. Only give me the answer and do not output any other words.\n\nQuestion: {query}',
  answerPrefix: ' Answer:',
  metric: 'string_match_part',
};

export type RulerTaskConfig =
  | (Family<'niah'> & { name: string; args: NiahArgs })
  | (Family<'variable_tracking'> & { name: string; args: VtArgs })
  | (Family<'common_words_extraction'> & { name: string; args: CweArgs })
  | (Family<'freq_words_extraction'> & { name: string; args: FweArgs })
  | (Family<'qa'> & { name: string; args: QaArgs });

const niah = (name: string, args: NiahArgs): RulerTaskConfig => ({ ...NIAH, name, args });

/** RULER's 13 tasks in its order: the one list, kept with the run specs in @ctxlab/contracts. */
export const RULER_TASK_NAMES = RULER_TASK_IDS;
export type RulerTaskName = (typeof RULER_TASK_NAMES)[number];

const one = { num_needle_k: 1, num_needle_v: 1, num_needle_q: 1 };

export const RULER_TASKS: Readonly<Record<RulerTaskName, RulerTaskConfig>> = {
  niah_single_1: niah('niah_single_1', { type_haystack: 'noise', type_needle_k: 'words', type_needle_v: 'numbers', ...one }),
  niah_single_2: niah('niah_single_2', { type_haystack: 'essay', type_needle_k: 'words', type_needle_v: 'numbers', ...one }),
  niah_single_3: niah('niah_single_3', { type_haystack: 'essay', type_needle_k: 'words', type_needle_v: 'uuids', ...one }),
  niah_multikey_1: niah('niah_multikey_1', { type_haystack: 'essay', type_needle_k: 'words', type_needle_v: 'numbers', ...one, num_needle_k: 4 }),
  niah_multikey_2: niah('niah_multikey_2', { type_haystack: 'needle', type_needle_k: 'words', type_needle_v: 'numbers', ...one }),
  niah_multikey_3: niah('niah_multikey_3', { type_haystack: 'needle', type_needle_k: 'uuids', type_needle_v: 'uuids', ...one }),
  niah_multivalue: niah('niah_multivalue', { type_haystack: 'essay', type_needle_k: 'words', type_needle_v: 'numbers', ...one, num_needle_v: 4 }),
  niah_multiquery: niah('niah_multiquery', { type_haystack: 'essay', type_needle_k: 'words', type_needle_v: 'numbers', ...one, num_needle_q: 4 }),
  // num_fewshot and coded_wordlen are the scripts' argparse defaults (the yaml leaves them out).
  vt: { ...VT, name: 'vt', args: { type_haystack: 'noise', num_chains: 1, num_hops: 4 } },
  cwe: { ...CWE, name: 'cwe', args: { freq_cw: 30, freq_ucw: 3, num_cw: 10, num_fewshot: 1 } },
  fwe: { ...FWE, name: 'fwe', args: { alpha: 2.0, coded_wordlen: 6 } },
  qa_1: { ...QA, name: 'qa_1', args: { dataset: 'squad' } },
  qa_2: { ...QA, name: 'qa_2', args: { dataset: 'hotpotqa' } },
};

export function isRulerTaskName(name: string): name is RulerTaskName {
  return (RULER_TASK_NAMES as readonly string[]).includes(name);
}
