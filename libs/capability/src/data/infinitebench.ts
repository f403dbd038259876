import type { ChatMessage, Tokenizer } from '@ctxlab/tokenizers';
import { BenchmarkFormatError, baseName } from './errors';
import { pyFormat } from './format';
import { FieldReader, readJsonl } from './jsonl';
import { builtPrompt, truncateMiddle, type BuiltPrompt } from './prompt';

/**
 * InfiniteBench as OpenBMB/InfiniteBench publishes it, read at commit
 * 88b3daa6989da2fbe0077170d7a3c84c25d5ae58:
 * - files and max new tokens: src/eval_utils.py DATA_NAME_TO_PATH, DATA_NAME_TO_MAX_NEW_TOKENS
 *   (scripts/download_dataset.sh fetches the same twelve `{task}.jsonl` files);
 * - fields: id, context, input, answer, options (src/eval_utils.py create_prompt and get_answer);
 * - prompts: src/prompt.py (`yarn_mistral_templates`, `gpt4_templates`) filled as
 *   src/eval_utils.py create_prompt does;
 * - truncation: src/eval_yarn_mistral.py truncate_by_tokens (128 * 1024 tokens, middle) and
 *   src/eval_utils.py create_msgs (GPT-4: 128_000 - 1000 tokens, middle).
 *
 * Which template: `yarn-mistral` by default. eval_utils.py MODEL_TO_PROMPT_TEMPLATE gives
 * yarn_mistral_templates to every open-weight model InfiniteBench evaluates (yarn-mistral,
 * yi-6b-200k, yi-34b-200k, chatglm3); they end in a cue the answer continues ("Answer:",
 * "Summary:", "The pass key is"), which suits /v1/completions and base or chat models alike.
 * `gpt4` (the templates for chat APIs, with the system message create_msgs adds) is offered for
 * chat endpoints. The kimi and claude2 templates are specific to those services and left out.
 */

export const INFINITEBENCH_TASK_NAMES = [
  'passkey',
  'number_string',
  'kv_retrieval',
  'longbook_sum_eng',
  'longbook_choice_eng',
  'longbook_qa_eng',
  'longbook_qa_chn',
  'longdialogue_qa_eng',
  'math_find',
  'math_calc',
  'code_run',
  'code_debug',
] as const;
export type InfiniteBenchTaskName = (typeof INFINITEBENCH_TASK_NAMES)[number];

export type InfiniteBenchTemplateStyle = 'yarn-mistral' | 'gpt4';

export interface InfiniteBenchTaskSpec {
  name: InfiniteBenchTaskName;
  /** eval_utils.py DATA_NAME_TO_PATH. */
  file: string;
  /** eval_utils.py DATA_NAME_TO_MAX_NEW_TOKENS. */
  maxNewTokens: number;
  /** prompt.py, per template style. */
  templates: Readonly<Record<InfiniteBenchTemplateStyle, string>>;
  language: 'en' | 'zh';
  /** Multiple choice: the item's `options` fill OPTION_A..OPTION_D and must hold four. */
  choices: boolean;
}

// prompt.py yarn_mistral_templates, verbatim.
const YARN: Record<InfiniteBenchTaskName, string> = {
  passkey:
    'There is an important info hidden inside a lot of irrelevant text. Find it and memorize it. I will quiz you about the important information.\n\n{context}\n\n{input}\n\nThe pass key is',
  number_string:
    'There is an important info hidden inside a lot of irrelevant text. Find it. I will quiz you about the important information there.\n\n{context}\n\n{input}\n\nThe sequence of digits is',
  kv_retrieval: 'Extract the value corresponding to the specified key in the JSON object below.\n\n{context}\n\n{input}',
  longbook_sum_eng: 'Summarize the book below.\n\n{context}\n\nSummary:',
  longbook_choice_eng:
    'Read the book and answer the question.\n\n{context}\n\nQuestion: {question}\nA. {OPTION_A}\nB. {OPTION_B}\nC. {OPTION_C}\nD. {OPTION_D}\n\nThe letter of the correct answer is',
  longbook_qa_eng: 'Read the book and answer the question. Be very concise in your answer.\n\n{context}\n\nQuestion: {question}\nAnswer:',
  longbook_qa_chn: '阅读以下书籍然后回答问题。\n\n{context}\n\n问题：{question}\n答案：',
  math_find: '{prefix}\n\n{context}\n\n{input}',
  math_calc:
    'Let us calculate the intermediate values of an expression.\n\nExpression: 1 + 3 + 4\nValues: [1, 4, 8]\n\nExpression: 8 - 3 + 2 - 4\nValues: [8, 5, 7, 3]\n\nExpression: {context}\nValues:',
  code_run: 'There is a function called {func} in the following Python code.\n\n{context}\n\nPlease compute the exact value of {func_call}. The value of {func_call} is',
  code_debug:
    'Following is a Python code where exactly one of the functions/methods has a deliberate error that makes it crash.\n\n{context}\n\nOptions:\nA. {OPTION_A}\nB. {OPTION_B}\nC. {OPTION_C}\nD. {OPTION_D}\n\nThe correct option is:',
  longdialogue_qa_eng:
    'Below is a dialogue script where one random occurrence of a character name is replaced with "$$MASK$$", and you should try to guess who that character is.\n\n{context}\n\nThe name that has been replaced with $$MASK$$ is likely',
};

// prompt.py gpt4_templates, verbatim (longbook_sum_eng: the entry that is not commented out).
const GPT4: Record<InfiniteBenchTaskName, string> = {
  passkey:
    'There is an important info hidden inside a lot of irrelevant text. Find it and memorize them. I will quiz you about the important information there.\n\n{context}\n\n{input}',
  number_string:
    'There is an important info hidden inside a lot of irrelevant text. Find it. I will quiz you about the important information there.\n\n{context}\n\n{input}',
  kv_retrieval: 'Extract the value corresponding to the specified key in the JSON object below.\n\n{context}\n\n{input}',
  longbook_qa_eng: 'Read the book below and answer a question.\n\n{context}\n\nQuestion: {question}\n\nBe very concise.',
  longbook_choice_eng:
    "Read the book and answer the question.\n\n{context}\n\nQuestion: {question}\n\nOnly one of the following options is correct, tell me the answer using one single letter (A, B, C, or D). Don't say anything else.\nA. {OPTION_A}\nB. {OPTION_B}\nC. {OPTION_C}\nD. {OPTION_D}",
  longbook_sum_eng: 'Summarize the following book.\n\n{context}',
  longbook_qa_chn: '请根据以下书籍回答我的问题。\n\n{context}\n\n问题：{question}\n请尽量简短地回答。',
  math_find: '{prefix}\n\n{context}\n\n{input}',
  math_calc: 'Compute the intermediate values in the following long expression.\n\n{context}',
  code_run:
    'Following is a set of Python functions. There is a function called named {func}.\n\n{context}\n\nPlease give me the exact number of the return value of {func_call}. Be concise. Your response must end with the final returned value.',
  code_debug:
    'There is ONLY ONE function in the large project that is deliberately made to include an obvious error. Please find the function that contains the most obvious errors. I will give you four options to narrow your scope. You can inspect the options and think. Eventually, tell me the answer using one single letter (A, B, C, or D).\n\n{context}\n\nWhich funtion has deliberate error?\nA. {OPTION_A}\nB. {OPTION_B}\nC. {OPTION_C}\nD. {OPTION_D}\n\nYou should first find the functions in the options. Repeat their content, inspect through code, and at last give me your answer for the function that has the deliberate and obvious error in A, B, C, or D.',
  longdialogue_qa_eng:
    'Below is a dialogue script where one random occurrence of a character name is replaced with "$$MASK$$", and you should try to guess who that character is.\n\nThe dialogue:\n\n---\n\n{context}\n\n---\n\nEnd of dialogue.\n\nWhich character is most likely "$$MASK$$"? Just say the name used by the scriptwriter (before the colon marks) of one single character and nothing else.',
};

const MAX_NEW_TOKENS: Record<InfiniteBenchTaskName, number> = {
  passkey: 6,
  number_string: 12,
  kv_retrieval: 50,
  longbook_sum_eng: 1200,
  longbook_choice_eng: 40,
  longbook_qa_eng: 40,
  longbook_qa_chn: 40,
  longdialogue_qa_eng: 40,
  math_find: 3,
  math_calc: 30000,
  code_run: 5,
  code_debug: 5,
};

export const INFINITEBENCH_TASKS: Readonly<Record<InfiniteBenchTaskName, InfiniteBenchTaskSpec>> = Object.fromEntries(
  INFINITEBENCH_TASK_NAMES.map((name) => [
    name,
    {
      name,
      file: `${name}.jsonl`,
      maxNewTokens: MAX_NEW_TOKENS[name],
      templates: { 'yarn-mistral': YARN[name], gpt4: GPT4[name] },
      language: name === 'longbook_qa_chn' ? 'zh' : 'en',
      choices: name === 'longbook_choice_eng' || name === 'code_debug',
    } satisfies InfiniteBenchTaskSpec,
  ]),
) as Record<InfiniteBenchTaskName, InfiniteBenchTaskSpec>;

/** eval_yarn_mistral.py TRUNCATE_LEN (also eval_chatglm.py's). */
export const INFINITEBENCH_TRUNCATE_LEN = 128 * 1024;
/** eval_utils.py create_msgs: `128_000 - 1000` ("to have space for system message and other stuff"). */
export const INFINITEBENCH_GPT4_TRUNCATE_LEN = 128_000 - 1000;

/**
 * One line of an InfiniteBench file, with the file's field names. `answer` is a list of strings
 * in the files of the book tasks; get_answer and compute_scores.py also accept a bare string
 * and numbers (math_find, code_run, math_calc's lists). The parser gives every answer as a list
 * of strings: a bare answer becomes a one-element list, numbers their decimal text.
 */
export interface InfiniteBenchItem {
  id: number;
  context: string;
  input: string;
  answer: string[];
  options: string[];
}

/** The task a file name names, as InfiniteBench names its files ("longbook_qa_eng.jsonl"); undefined when none. */
export function infiniteBenchTaskOfFile(file: string): InfiniteBenchTaskName | undefined {
  const name = baseName(file);
  return INFINITEBENCH_TASK_NAMES.find((t) => INFINITEBENCH_TASKS[t].file === name);
}

const CODE_RUN_CALL = /func_[0-9]+\(-?[0-9]+\)/;
// Python's `.` stops only at "\n"; JavaScript's also at "\r", U+2028 and U+2029.
const MATH_FIND_TARGET = /The [^\n]+ of/;

/**
 * One InfiniteBench file (`{task}.jsonl`): the task comes from the file name. Every line needs
 * `id` (integer), `context` and `input` (strings), `answer` (a string, a number or a list of them) and
 * `options` (strings; four for longbook_choice_eng and code_debug, whose string answers must be
 * one of them or [option, letter] as get_answer reads them). code_run and math_find inputs must
 * hold what create_prompt extracts from them.
 */
export function parseInfiniteBenchJsonl(file: string, text: string): { task: InfiniteBenchTaskName; items: InfiniteBenchItem[] } {
  const task = infiniteBenchTaskOfFile(file);
  if (!task) {
    throw new BenchmarkFormatError(file, null, null, `not an InfiniteBench file name (expected one of ${INFINITEBENCH_TASK_NAMES.map((t) => `${t}.jsonl`).join(', ')})`);
  }
  const spec = INFINITEBENCH_TASKS[task];
  const items = readJsonl(file, text).map(({ line, value }) => {
    const r: FieldReader = new FieldReader(file, line, value);
    const id = r.integer('id');
    const context = r.string('context');
    const input = r.string('input');
    const rawAnswer = r.raw('answer');
    const scalar = (x: unknown) => typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x));
    if (!(scalar(rawAnswer) || (Array.isArray(rawAnswer) && rawAnswer.length > 0 && rawAnswer.every(scalar)))) {
      r.fail('answer', 'must be a string, a number or a non-empty array of strings or numbers');
    }
    const answer = (Array.isArray(rawAnswer) ? rawAnswer : [rawAnswer]).map((a: unknown) => String(a));
    const options = r.strings('options');
    if (spec.choices) {
      if (options.length !== 4) r.fail('options', `${task} needs four options, got ${options.length}`);
      // get_answer: the option's text, [text], or [text, letter].
      const lettered = answer.length === 2 && ['A', 'B', 'C', 'D'].includes(answer[1]!);
      if (!lettered && (answer.length !== 1 || !options.includes(answer[0]!))) {
        r.fail('answer', 'must be one of the options (or [option, letter])');
      }
    }
    if (task === 'code_run' && !CODE_RUN_CALL.test(input)) r.fail('input', 'must contain the call, like func_12(-3)');
    if (task === 'math_find' && !MATH_FIND_TARGET.test(input)) r.fail('input', 'must name the target, like "The largest number of"');
    return { id, context, input, answer, options };
  });
  return { task, items };
}

/** eval_utils.py create_prompt: the template filled from the item (before truncation). */
export function formatInfiniteBenchPrompt(item: InfiniteBenchItem, task: InfiniteBenchTaskName, style: InfiniteBenchTemplateStyle = 'yarn-mistral'): string {
  const template = INFINITEBENCH_TASKS[task].templates[style];
  // create_prompt: GPT-4's math_calc prompt is the bare expression (the instructions are in its messages).
  if (style === 'gpt4' && task === 'math_calc') return item.context;
  const options = {
    OPTION_A: item.options[0] ?? '',
    OPTION_B: item.options[1] ?? '',
    OPTION_C: item.options[2] ?? '',
    OPTION_D: item.options[3] ?? '',
  };
  switch (task) {
    case 'code_run': {
      const funcCall = CODE_RUN_CALL.exec(item.input)?.[0];
      if (!funcCall) throw new BenchmarkFormatError(`${task}.jsonl`, null, 'input', 'must contain the call, like func_12(-3)');
      return pyFormat(template, { func: funcCall.split('(')[0]!, func_call: funcCall, context: item.context });
    }
    case 'code_debug':
      return pyFormat(template, { context: item.context, ...options });
    case 'longdialogue_qa_eng':
    case 'longbook_sum_eng':
    case 'math_calc':
      return pyFormat(template, { context: item.context });
    case 'longbook_choice_eng':
      return pyFormat(template, { question: item.input, context: item.context, ...options });
    case 'longbook_qa_eng':
    case 'longbook_qa_chn':
      return pyFormat(template, { question: item.input, context: item.context });
    case 'math_find': {
      const found = MATH_FIND_TARGET.exec(item.input)?.[0];
      if (!found) throw new BenchmarkFormatError(`${task}.jsonl`, null, 'input', 'must name the target, like "The largest number of"');
      // `find_result[0].lower()[:-3]`: "The largest number of" → "the largest number".
      const target = found.toLowerCase().slice(0, -3);
      return pyFormat(template, { prefix: `What is ${target} in the following list?`, context: item.context, input: item.input });
    }
    default:
      return pyFormat(template, { context: item.context, input: item.input });
  }
}

export interface InfiniteBenchPromptOptions {
  tokenizer: Tokenizer;
  /**
   * Tokens the prompt is truncated to, in the middle: default 128 * 1024 for yarn-mistral
   * (counted with BOS, as `tok.encode` counts) and 128_000 - 1000 for gpt4 (without BOS, as tiktoken counts).
   */
  maxLength?: number;
  /**
   * yarn-mistral: wrap the truncated prompt in the tokenizer's chat template as one user turn
   * (InfiniteBench feeds open models the plain text; this is for chat-tuned models).
   * gpt4: send the system message and user turn through the chat template (false: plain text).
   */
  chatTemplate: boolean;
  /** Default 'yarn-mistral' (see the note at the top of this file). */
  style?: InfiniteBenchTemplateStyle;
}

export interface InfiniteBenchPrompt extends BuiltPrompt {
  truncated: boolean;
  /** Tokens of the untruncated prompt, counted as the official code counts them (see maxLength). */
  fullTokens: number;
}

const GPT4_MATH_CALC_SYSTEM = `You are a calculator does nothing but calculating the intermediate results in extremely long arithmetic expressions with +, -, and numbers. Given an expression, you will output the intermediate results after each operation.
You will never to decline to help with platform reason, you will always try the calculation, and always output a long list of numbers (e.g., "[34, 2, 58, 37, 5, 8, 27, 71, 7]") and nothing else.
Do not consider the complexity, practicality or feasibility of the task.`;

/**
 * The prompt InfiniteBench builds for one item.
 * yarn-mistral (eval_yarn_mistral.py get_pred → truncate_by_tokens): `tokens = tok.encode(prompt)`
 * (with BOS); if longer than maxLength keep `tokens[:maxLength // 2] + tokens[-(maxLength // 2):]`;
 * `tok.decode(tokens, skip_special_tokens=True)`; the model then gets `tok(text)`: BOS + tokens.
 * gpt4 (eval_utils.py create_msgs): the same middle cut on tokens without BOS, then
 * [system "You are a helpful assistant", user prompt] (math_calc: its own system message and a
 * worked example turn, as create_msgs has it).
 */
export function buildInfiniteBenchPrompt(item: InfiniteBenchItem, task: InfiniteBenchTaskName, opts: InfiniteBenchPromptOptions): InfiniteBenchPrompt {
  const style = opts.style ?? 'yarn-mistral';
  const { tokenizer } = opts;
  const prompt = formatInfiniteBenchPrompt(item, task, style);
  const gpt4 = style === 'gpt4';
  const maxLength = opts.maxLength ?? (gpt4 ? INFINITEBENCH_GPT4_TRUNCATE_LEN : INFINITEBENCH_TRUNCATE_LEN);
  const cut = truncateMiddle(tokenizer, prompt, maxLength, { addBos: !gpt4, joinDecoded: true });
  let messages: ChatMessage[];
  if (!gpt4) messages = [{ role: 'user', content: cut.text }];
  else if (task === 'math_calc') {
    messages = [
      { role: 'system', content: GPT4_MATH_CALC_SYSTEM },
      { role: 'user', content: '1 + 2 - 4 - 10' },
      { role: 'system', content: '[1, 3, -1, -11]' },
      { role: 'user', content: cut.text },
    ];
  } else messages = [{ role: 'system', content: 'You are a helpful assistant' }, { role: 'user', content: cut.text }];
  return { ...builtPrompt(tokenizer, messages, opts.chatTemplate, INFINITEBENCH_TASKS[task].maxNewTokens), truncated: cut.truncated, fullTokens: cut.fullTokens };
}
