import type { Tokenizer } from '@ctxlab/tokenizers';
import { BenchmarkFormatError } from './errors';
import { pyFormat } from './format';
import { FieldReader, readJsonl } from './jsonl';
import { builtPrompt, truncateMiddle, type BuiltPrompt } from './prompt';

/**
 * LongBench (v1) as THUDM/LongBench publishes it, read at commit
 * 2e00731f8d0bff23dc4325161044d0ed8af94c1e (the v1 code lives under LongBench/ there):
 * - data format: LongBench/README.md "Data Format" (input, context, answers, length, dataset,
 *   language, all_classes, _id; one JSONL file per dataset in data/, `{name}_e.jsonl` for LongBench-E);
 * - prompts: LongBench/config/dataset2prompt.json; max new tokens: LongBench/config/dataset2maxlen.json;
 * - truncation and chat templates: LongBench/pred.py get_pred;
 * - the dataset lists: LongBench/pred.py __main__ (`datasets`, with and without --e).
 */

export const LONGBENCH_DATASETS = [
  'narrativeqa',
  'qasper',
  'multifieldqa_en',
  'multifieldqa_zh',
  'hotpotqa',
  '2wikimqa',
  'musique',
  'dureader',
  'gov_report',
  'qmsum',
  'multi_news',
  'vcsum',
  'trec',
  'triviaqa',
  'samsum',
  'lsht',
  'passage_count',
  'passage_retrieval_en',
  'passage_retrieval_zh',
  'lcc',
  'repobench-p',
] as const;
export type LongBenchDataset = (typeof LONGBENCH_DATASETS)[number];

/** pred.py with --e: the 13 datasets LongBench-E has (files `{name}_e.jsonl`). */
export const LONGBENCH_E_DATASETS: readonly LongBenchDataset[] = [
  'qasper',
  'multifieldqa_en',
  'hotpotqa',
  '2wikimqa',
  'gov_report',
  'multi_news',
  'trec',
  'triviaqa',
  'samsum',
  'passage_count',
  'passage_retrieval_en',
  'lcc',
  'repobench-p',
];

/** pred.py: "chat models are better off without build prompts on these tasks". */
const NO_CHAT: ReadonlySet<LongBenchDataset> = new Set(['trec', 'triviaqa', 'samsum', 'lsht', 'lcc', 'repobench-p']);

export interface LongBenchTask {
  name: LongBenchDataset;
  /** dataset2prompt.json, a Python format string over the item's fields ({context}, {input}). */
  prompt: string;
  /** dataset2maxlen.json. */
  maxNewTokens: number;
  /** False for the six tasks pred.py leaves without the chat template. */
  chat: boolean;
  /** The language of the prompt and answers; code tasks say 'code' (their items name the programming language). */
  language: 'en' | 'zh' | 'code';
  inLongBenchE: boolean;
  /**
   * pred.py samsum only: generation also stops at the "\n" token (eos_token_id is
   * [tokenizer.eos_token_id, tokenizer.encode("\n", add_special_tokens=False)[-1]]) and
   * min_length is the prompt plus one token.
   */
  stopAtNewline: boolean;
}

const QA_PASSAGES =
  'Answer the question based on the given passages. Only give me the answer and do not output any other words.\n\nThe following are given passages.\n{context}\n\nAnswer the question based on the given passages. Only give me the answer and do not output any other words.\n\nQuestion: {input}\nAnswer:';

// Verbatim from LongBench/config/dataset2prompt.json (including its typos: "asconcisely",
// the space before "Answer the question" in qasper, the space before "\n\nNews:").
const PROMPTS: Record<LongBenchDataset, string> = {
  narrativeqa:
    'You are given a story, which can be either a novel or a movie script, and a question. Answer the question asconcisely as you can, using a single phrase if possible. Do not provide any explanation.\n\nStory: {context}\n\nNow, answer the question based on the story asconcisely as you can, using a single phrase if possible. Do not provide any explanation.\n\nQuestion: {input}\n\nAnswer:',
  qasper:
    'You are given a scientific article and a question. Answer the question as concisely as you can, using a single phrase or sentence if possible. If the question cannot be answered based on the information in the article, write "unanswerable". If the question is a yes/no question, answer "yes", "no", or "unanswerable". Do not provide any explanation.\n\nArticle: {context}\n\n Answer the question based on the above article as concisely as you can, using a single phrase or sentence if possible. If the question cannot be answered based on the information in the article, write "unanswerable". If the question is a yes/no question, answer "yes", "no", or "unanswerable". Do not provide any explanation.\n\nQuestion: {input}\n\nAnswer:',
  multifieldqa_en:
    'Read the following text and answer briefly.\n\n{context}\n\nNow, answer the following question based on the above text, only give me the answer and do not output any other words.\n\nQuestion: {input}\nAnswer:',
  multifieldqa_zh: '阅读以下文字并用中文简短回答：\n\n{context}\n\n现在请基于上面的文章回答下面的问题，只告诉我答案，不要输出任何其他字词。\n\n问题：{input}\n回答：',
  hotpotqa: QA_PASSAGES,
  '2wikimqa': QA_PASSAGES,
  musique: QA_PASSAGES,
  dureader: '请基于给定的文章回答下述问题。\n\n文章：{context}\n\n请基于上述文章回答下面的问题。\n\n问题：{input}\n回答：',
  gov_report:
    'You are given a report by a government agency. Write a one-page summary of the report.\n\nReport:\n{context}\n\nNow, write a one-page summary of the report.\n\nSummary:',
  qmsum:
    'You are given a meeting transcript and a query containing a question or instruction. Answer the query in one or more sentences.\n\nTranscript:\n{context}\n\nNow, answer the query based on the above meeting transcript in one or more sentences.\n\nQuery: {input}\nAnswer:',
  multi_news:
    'You are given several news passages. Write a one-page summary of all news. \n\nNews:\n{context}\n\nNow, write a one-page summary of all the news.\n\nSummary:',
  vcsum: '下面有一段会议记录，请你阅读后，写一段总结，总结会议的内容。\n会议记录：\n{context}\n\n会议总结：',
  trec: 'Please determine the type of the question below. Here are some examples of questions.\n\n{context}\n{input}',
  triviaqa:
    'Answer the question based on the given passage. Only give me the answer and do not output any other words. The following are some examples.\n\n{context}\n\n{input}',
  samsum: 'Summarize the dialogue into a few short sentences. The following are some examples.\n\n{context}\n\n{input}',
  lsht: '请判断给定新闻的类别，下面是一些例子。\n\n{context}\n{input}',
  passage_count:
    'There are some paragraphs below sourced from Wikipedia. Some of them may be duplicates. Please carefully read these paragraphs and determine how many unique paragraphs there are after removing duplicates. In other words, how many non-repeating paragraphs are there in total?\n\n{context}\n\nPlease enter the final count of unique paragraphs after removing duplicates. The output format should only contain the number, such as 1, 2, 3, and so on.\n\nThe final answer is: ',
  passage_retrieval_en:
    'Here are 30 paragraphs from Wikipedia, along with an abstract. Please determine which paragraph the abstract is from.\n\n{context}\n\nThe following is an abstract.\n\n{input}\n\nPlease enter the number of the paragraph that the abstract is from. The answer format must be like "Paragraph 1", "Paragraph 2", etc.\n\nThe answer is: ',
  passage_retrieval_zh:
    '以下是若干段落文字，以及其中一个段落的摘要。请确定给定的摘要出自哪一段。\n\n{context}\n\n下面是一个摘要\n\n{input}\n\n请输入摘要所属段落的编号。答案格式必须是"段落1"，"段落2"等格式\n\n答案是：',
  lcc: 'Please complete the code given below. \n{context}Next line of code:\n',
  'repobench-p': 'Please complete the code given below. \n{context}{input}Next line of code:\n',
};

/** LongBench/config/dataset2maxlen.json. */
const MAX_NEW_TOKENS: Record<LongBenchDataset, number> = {
  narrativeqa: 128,
  qasper: 128,
  multifieldqa_en: 64,
  multifieldqa_zh: 64,
  hotpotqa: 32,
  '2wikimqa': 32,
  musique: 32,
  dureader: 128,
  gov_report: 512,
  qmsum: 512,
  multi_news: 512,
  vcsum: 512,
  trec: 64,
  triviaqa: 32,
  samsum: 128,
  lsht: 64,
  passage_count: 32,
  passage_retrieval_en: 32,
  passage_retrieval_zh: 32,
  lcc: 64,
  'repobench-p': 64,
};

const ZH: ReadonlySet<LongBenchDataset> = new Set(['multifieldqa_zh', 'dureader', 'vcsum', 'lsht', 'passage_retrieval_zh']);
const CODE: ReadonlySet<LongBenchDataset> = new Set(['lcc', 'repobench-p']);

export const LONGBENCH_TASKS: Readonly<Record<LongBenchDataset, LongBenchTask>> = Object.fromEntries(
  LONGBENCH_DATASETS.map((name) => [
    name,
    {
      name,
      prompt: PROMPTS[name],
      maxNewTokens: MAX_NEW_TOKENS[name],
      chat: !NO_CHAT.has(name),
      language: CODE.has(name) ? 'code' : ZH.has(name) ? 'zh' : 'en',
      inLongBenchE: LONGBENCH_E_DATASETS.includes(name),
      stopAtNewline: name === 'samsum',
    } satisfies LongBenchTask,
  ]),
) as Record<LongBenchDataset, LongBenchTask>;

/** model2maxlen.json's limits for the models pred.py knows (prompt tokens, leaving room for the answer). */
export const LONGBENCH_MODEL_MAX_LENGTH: Readonly<Record<string, number>> = {
  'llama2-7b-chat-4k': 3500,
  'longchat-v1.5-7b-32k': 31500,
  'xgen-7b-8k': 7500,
  'internlm-7b-8k': 7500,
  'chatglm2-6b': 31500,
  'chatglm2-6b-32k': 31500,
  'chatglm3-6b-32k': 31500,
  'vicuna-v1.5-7b-16k': 15500,
};

/** One line of a LongBench data file, with the file's own field names. */
export interface LongBenchItem {
  input: string;
  context: string;
  answers: string[];
  /** Words (English, code) or characters (Chinese) of input, context and answers, as LongBench counted them. */
  length: number;
  /** As written in the file: a LongBench name, or (LongBench-E) the same name with "_e" (both are accepted). */
  dataset: string;
  language: string;
  all_classes: string[] | null;
  _id: string;
}

/** The task an item's `dataset` names ("qasper" and LongBench-E's "qasper_e" are both qasper); undefined when unknown. */
export function longBenchTaskOf(dataset: string): LongBenchDataset | undefined {
  if ((LONGBENCH_DATASETS as readonly string[]).includes(dataset)) return dataset as LongBenchDataset;
  if (dataset.endsWith('_e')) {
    const base = dataset.slice(0, -2);
    if ((LONGBENCH_E_DATASETS as readonly string[]).includes(base)) return base as LongBenchDataset;
  }
  return undefined;
}

/**
 * One LongBench data file (data/{dataset}.jsonl or data/{dataset}_e.jsonl). Every line must have
 * the eight fields with their types; `dataset` must be a LongBench or LongBench-E name and the
 * same on every line; for the natural-language tasks `language` must be the task's ("en"/"zh").
 * Fields beyond the eight (the retrieval variants add `retrieved`) are ignored.
 */
export function parseLongBenchJsonl(file: string, text: string): LongBenchItem[] {
  let first: string | undefined;
  return readJsonl(file, text).map(({ line, value }) => {
    const r: FieldReader = new FieldReader(file, line, value);
    const input = r.string('input');
    const context = r.string('context');
    const answers = r.strings('answers');
    const length = r.integer('length');
    const dataset = r.string('dataset');
    const task = longBenchTaskOf(dataset);
    if (!task) r.fail('dataset', `"${dataset}" is not a LongBench or LongBench-E dataset`);
    if (first === undefined) first = dataset;
    else if (dataset !== first) r.fail('dataset', `"${dataset}" differs from the file's first line ("${first}")`);
    const language = r.string('language');
    const expected = LONGBENCH_TASKS[task].language;
    if (expected !== 'code' && language !== expected) r.fail('language', `must be "${expected}" for ${task}, got "${language}"`);
    if (expected === 'code' && language === '') r.fail('language', 'must name the programming language');
    const all_classes = r.stringsOrNull('all_classes');
    const _id = r.string('_id');
    return { input, context, answers, length, dataset, language, all_classes, _id };
  });
}

export interface LongBenchPromptOptions {
  tokenizer: Tokenizer;
  /**
   * pred.py's max_length (model2maxlen.json): the prompt, counted with BOS, before the chat
   * template; longer prompts keep their first and last int(maxLength/2) tokens.
   */
  maxLength: number;
  /** Apply the tokenizer's chat template (pred.py build_chat) on the tasks that use it. */
  chatTemplate: boolean;
}

export interface LongBenchPrompt extends BuiltPrompt {
  truncated: boolean;
  /** Tokens of the untruncated prompt with BOS, as pred.py counts them before truncating. */
  fullTokens: number;
  /** Extra stop token ids pred.py passes to generate (samsum: the "\n" token), besides the model's EOS. */
  stopTokenIds: number[];
}

/**
 * The prompt pred.py builds for one item:
 * 1. `prompt = dataset2prompt[dataset].format(**item)`;
 * 2. `tokenized = tokenizer(prompt)` (with BOS); when longer than max_length, `half = int(max_length/2)`
 *    and `prompt = decode(tokenized[:half], skip_special_tokens=True) + decode(tokenized[-half:], ...)`;
 * 3. unless the task is trec, triviaqa, samsum, lsht, lcc or repobench-p, build_chat wraps it in
 *    the model's chat format: here the tokenizer's chat template, one user turn (pred.py's
 *    build_chat hard-codes per-model formats; the Hugging Face chat template is the general form);
 * 4. `tokenizer(prompt)` again: BOS + the (truncated) prompt's tokens, or the templated ids.
 * Re-encoding the decoded halves may merge or split a token at the junction, so a truncated
 * prompt can differ from maxLength by a token or two, exactly as in pred.py.
 */
export function buildLongBenchPrompt(item: LongBenchItem, opts: LongBenchPromptOptions): LongBenchPrompt {
  const name = longBenchTaskOf(item.dataset);
  if (!name) throw new BenchmarkFormatError(`longbench/${item.dataset}`, null, 'dataset', `"${item.dataset}" is not a LongBench dataset`);
  const task = LONGBENCH_TASKS[name];
  const { tokenizer } = opts;
  const prompt = pyFormat(task.prompt, { context: item.context, input: item.input });
  const cut = truncateMiddle(tokenizer, prompt, opts.maxLength, { addBos: true, joinDecoded: false });
  const useChat = opts.chatTemplate && task.chat;
  const messages = [{ role: 'user', content: cut.text }];
  return {
    ...builtPrompt(tokenizer, messages, useChat, task.maxNewTokens),
    truncated: cut.truncated,
    fullTokens: cut.fullTokens,
    stopTokenIds: task.stopAtNewline ? [tokenizer.encode('\n').at(-1)!] : [],
  };
}
