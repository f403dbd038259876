import { getTokenizer } from '@ctxlab/tokenizers';
import { describe, expect, it } from 'vitest';
import {
  buildInfiniteBenchPrompt,
  formatInfiniteBenchPrompt,
  INFINITEBENCH_TASK_NAMES,
  INFINITEBENCH_TASKS,
  parseInfiniteBenchJsonl,
  type InfiniteBenchItem,
} from './infinitebench';
import { errorOf, fixture } from './testing';

const llama3 = getTokenizer('llama3');
const byte = getTokenizer('byte');
const good = { id: 0, context: 'Book text.', input: 'Who?', answer: ['Edda'], options: [] as string[] };
const jl = (...rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

describe('INFINITEBENCH_TASKS', () => {
  it('has the twelve tasks with their files and max new tokens', () => {
    expect(INFINITEBENCH_TASK_NAMES).toHaveLength(12);
    expect(INFINITEBENCH_TASKS.longbook_qa_eng).toMatchObject({ file: 'longbook_qa_eng.jsonl', maxNewTokens: 40, language: 'en' });
    expect(INFINITEBENCH_TASKS.longbook_sum_eng.maxNewTokens).toBe(1200);
    expect(INFINITEBENCH_TASKS.passkey.maxNewTokens).toBe(6);
    expect(INFINITEBENCH_TASKS.math_calc.maxNewTokens).toBe(30000);
    expect(INFINITEBENCH_TASKS.longbook_qa_chn.language).toBe('zh');
  });
});

describe('parseInfiniteBenchJsonl', () => {
  it('reads the shipped fixtures, the task from the file name', () => {
    for (const task of ['longbook_qa_eng', 'longbook_sum_eng'] as const) {
      const f = fixture(`infinitebench/${task}.jsonl`);
      const parsed = parseInfiniteBenchJsonl(f.name, f.text);
      expect(parsed.task).toBe(task);
      expect(parsed.items.length).toBeGreaterThan(0);
      expect(parsed.items.every((i) => Array.isArray(i.answer) && i.options.length === 0)).toBe(true);
    }
    const qa = parseInfiniteBenchJsonl('longbook_qa_eng.jsonl', fixture('infinitebench/longbook_qa_eng.jsonl').text);
    expect(qa.items[0]).toMatchObject({ id: 0, input: 'On which day of the week did the ferry run?', answer: ['Thursday', 'Thursdays'] });
  });

  it('gives bare and numeric answers as lists of strings, as get_answer accepts them', () => {
    const p = parseInfiniteBenchJsonl('data/passkey.jsonl', jl({ ...good, answer: '71432' }, { ...good, id: 1, answer: 88 }, { ...good, id: 2, answer: [1, 4, 8] }));
    expect(p.task).toBe('passkey');
    expect(p.items.map((i) => i.answer)).toEqual([['71432'], ['88'], ['1', '4', '8']]);
  });

  it('checks multiple-choice options and answers, and the inputs create_prompt parses', () => {
    const opts = ['Alpha', 'Beta', 'Gamma', 'Delta'];
    const ok = parseInfiniteBenchJsonl(
      'longbook_choice_eng.jsonl',
      jl({ ...good, options: opts, answer: ['Gamma'] }, { ...good, options: opts, answer: 'Beta' }, { ...good, options: opts, answer: ['Beta', 'B'] }),
    );
    expect(ok.items).toHaveLength(3);
    expect(errorOf(() => parseInfiniteBenchJsonl('longbook_choice_eng.jsonl', jl({ ...good, options: opts.slice(0, 3), answer: ['Beta'] }))).message).toBe(
      'longbook_choice_eng.jsonl:1: options: longbook_choice_eng needs four options, got 3',
    );
    expect(errorOf(() => parseInfiniteBenchJsonl('code_debug.jsonl', jl(good, { ...good, options: opts, answer: ['Omega'] }))).message).toBe(
      'code_debug.jsonl:1: options: code_debug needs four options, got 0',
    );
    expect(errorOf(() => parseInfiniteBenchJsonl('code_debug.jsonl', jl({ ...good, options: opts, answer: ['Omega'] }))).message).toBe(
      'code_debug.jsonl:1: answer: must be one of the options (or [option, letter])',
    );
    expect(errorOf(() => parseInfiniteBenchJsonl('code_run.jsonl', jl({ ...good, input: 'run it' }))).message).toBe(
      'code_run.jsonl:1: input: must contain the call, like func_12(-3)',
    );
    expect(errorOf(() => parseInfiniteBenchJsonl('math_find.jsonl', jl({ ...good, input: 'Find it.' }))).field).toBe('input');
  });

  it.each([
    [{ id: 'x' }, 'id: must be an integer >= 0'],
    [{ context: ['a'] }, 'context: must be a string'],
    [{ input: 3 }, 'input: must be a string'],
    [{ answer: [] }, 'answer: must be a string, a number or a non-empty array of strings or numbers'],
    [{ answer: { a: 1 } }, 'answer: must be a string, a number or a non-empty array of strings or numbers'],
    [{ answer: null }, 'answer: must be a string, a number or a non-empty array of strings or numbers'],
    [{ options: null }, 'options: must be an array of strings'],
  ])('names file, line and field: %j', (patch, message) => {
    const e = errorOf(() => parseInfiniteBenchJsonl('infinitebench/longbook_qa_eng.jsonl', jl(good, { ...good, ...patch })));
    expect(e.message).toBe(`infinitebench/longbook_qa_eng.jsonl:2: ${message}`);
    expect([e.line, e.field]).toEqual([2, message.split(':')[0]]);
  });

  it('refuses a file name InfiniteBench does not use and a missing field', () => {
    const e = errorOf(() => parseInfiniteBenchJsonl('longbook_qa.jsonl', jl(good)));
    expect(e.message).toMatch(/^longbook_qa\.jsonl: not an InfiniteBench file name/);
    expect(e.line).toBeNull();
    const { options: _o, ...noOptions } = good;
    expect(errorOf(() => parseInfiniteBenchJsonl('longbook_qa_eng.jsonl', jl(noOptions))).message).toBe('longbook_qa_eng.jsonl:1: options: missing');
  });
});

const item = (patch: Partial<InfiniteBenchItem>): InfiniteBenchItem => ({ ...good, ...patch });

describe('InfiniteBench prompts', () => {
  it('fills the yarn-mistral templates as create_prompt does', () => {
    expect(formatInfiniteBenchPrompt(item({}), 'longbook_qa_eng')).toBe(
      'Read the book and answer the question. Be very concise in your answer.\n\nBook text.\n\nQuestion: Who?\nAnswer:',
    );
    expect(formatInfiniteBenchPrompt(item({}), 'longbook_sum_eng')).toBe('Summarize the book below.\n\nBook text.\n\nSummary:');
    expect(formatInfiniteBenchPrompt(item({ options: ['w', 'x', 'y', 'z'] }), 'longbook_choice_eng')).toBe(
      'Read the book and answer the question.\n\nBook text.\n\nQuestion: Who?\nA. w\nB. x\nC. y\nD. z\n\nThe letter of the correct answer is',
    );
    expect(formatInfiniteBenchPrompt(item({ input: 'What is func_3(-2)?', context: 'def func_3(x): ...' }), 'code_run')).toBe(
      'There is a function called func_3 in the following Python code.\n\ndef func_3(x): ...\n\nPlease compute the exact value of func_3(-2). The value of func_3(-2) is',
    );
    // `find_result[0].lower()[:-3]` drops " of".
    expect(formatInfiniteBenchPrompt(item({ input: 'The largest number of the list is: ', context: '[3, 9, 1]' }), 'math_find')).toBe(
      'What is the largest number in the following list?\n\n[3, 9, 1]\n\nThe largest number of the list is: ',
    );
    expect(formatInfiniteBenchPrompt(item({ input: 'What is the pass key?', context: 'noise' }), 'passkey')).toBe(
      'There is an important info hidden inside a lot of irrelevant text. Find it and memorize it. I will quiz you about the important information.\n\nnoise\n\nWhat is the pass key?\n\nThe pass key is',
    );
  });

  it('builds yarn-mistral prompts as BOS + text, or one chat turn when asked', () => {
    const plain = buildInfiniteBenchPrompt(item({}), 'longbook_qa_eng', { tokenizer: llama3, chatTemplate: false });
    expect(plain).toMatchObject({ useChat: false, truncated: false, maxNewTokens: 40 });
    expect([...plain.promptIds]).toEqual([llama3.special.bos.id, ...llama3.encode(plain.text)]);
    expect(plain.fullTokens).toBe(plain.promptTokens);
    const chat = buildInfiniteBenchPrompt(item({}), 'longbook_sum_eng', { tokenizer: llama3, chatTemplate: true });
    expect(chat.messages).toEqual([{ role: 'user', content: 'Summarize the book below.\n\nBook text.\n\nSummary:' }]);
    expect([...chat.promptIds]).toEqual(llama3.encodeChat(chat.messages));
    expect(chat.maxNewTokens).toBe(1200);
  });

  it('builds gpt4 prompts with create_msgs system message', () => {
    const p = buildInfiniteBenchPrompt(item({}), 'longbook_qa_eng', { tokenizer: llama3, chatTemplate: true, style: 'gpt4' });
    expect(p.messages).toEqual([
      { role: 'system', content: 'You are a helpful assistant' },
      { role: 'user', content: 'Read the book below and answer a question.\n\nBook text.\n\nQuestion: Who?\n\nBe very concise.' },
    ]);
    expect(p.text).toBe(llama3.applyChatTemplate(p.messages));
    const calc = buildInfiniteBenchPrompt(item({ context: '1 + 2 + 3' }), 'math_calc', { tokenizer: llama3, chatTemplate: true, style: 'gpt4' });
    expect(calc.messages.map((m) => m.role)).toEqual(['system', 'user', 'system', 'user']);
    expect(calc.messages[3]!.content).toBe('1 + 2 + 3');
  });

  it('truncates in the middle to maxLength tokens counted with BOS (yarn-mistral) or without (gpt4)', () => {
    const context = 'Chapter line. '.repeat(1000);
    const it0 = item({ context });
    const yarn = buildInfiniteBenchPrompt(it0, 'longbook_qa_eng', { tokenizer: byte, chatTemplate: false, maxLength: 1001 });
    expect(yarn.truncated).toBe(true);
    expect(yarn.promptTokens).toBe(1000);
    expect(yarn.text.startsWith('Read the book and answer')).toBe(true);
    expect(yarn.text.endsWith('Question: Who?\nAnswer:')).toBe(true);
    const gpt = buildInfiniteBenchPrompt(it0, 'longbook_qa_eng', { tokenizer: byte, chatTemplate: false, maxLength: 1000, style: 'gpt4' });
    expect(gpt.text.length).toBe(1000);
    expect(gpt.fullTokens).toBe(formatPromptLength(it0));

    const prompt = formatInfiniteBenchPrompt(it0, 'longbook_qa_eng');
    const ids = [llama3.special.bos.id, ...llama3.encode(prompt)];
    const p = buildInfiniteBenchPrompt(it0, 'longbook_qa_eng', { tokenizer: llama3, chatTemplate: false, maxLength: 600 });
    expect(p.text).toBe(llama3.decode([...ids.slice(1, 300), ...ids.slice(ids.length - 300)]));
    expect(Math.abs(p.promptTokens - 600)).toBeLessThanOrEqual(2);
  });
});

function formatPromptLength(it0: InfiniteBenchItem): number {
  return byte.encode(formatInfiniteBenchPrompt(it0, 'longbook_qa_eng', 'gpt4')).length;
}
