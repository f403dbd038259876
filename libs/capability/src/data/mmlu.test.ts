import { getTokenizer } from '@ctxlab/tokenizers';
import { describe, expect, it } from 'vitest';
import { buildMmluPrompt, formatMmluSubject, mmluLetterFromLogprobs, mmluLetterFromText, parseMmluCsv } from './mmlu';
import { errorOf, fixture } from './testing';

const llama3 = getTokenizer('llama3');
const read = (name: string) => parseMmluCsv(name, fixture(name).text);

describe('parseMmluCsv', () => {
  it('reads the shipped dev, val and test files', () => {
    const dev = read('mmlu/data/dev/astronomy_dev.csv');
    expect(dev).toMatchObject({ subject: 'astronomy', split: 'dev' });
    expect(dev.items).toHaveLength(5);
    expect(dev.items[0]).toEqual({
      subject: 'astronomy',
      question: 'Which planet in the solar system has the shortest year?',
      choices: ['Mercury', 'Venus', 'Mars', 'Neptune'],
      answer: 'A',
    });
    const test = read('mmlu/data/test/astronomy_test.csv');
    expect(test.split).toBe('test');
    expect(test.items[1]!.choices[3]).toBe('interstellar dust, "scintillating" clouds');
    expect(test.items[2]!.question).toBe('Rank by size, smallest first:\nI. Earth\nII. Jupiter\nIII. Mars');
    expect(read('mmlu/data/dev/high_school_computer_science_dev.csv').subject).toBe('high_school_computer_science');
    expect(read('mmlu/data/val/astronomy_val.csv').split).toBe('val');
  });

  it('reads CRLF files', () => {
    const p = parseMmluCsv('x_test.csv', 'Q1?,a,b,c,d,A\r\n"Q2,\r\nmore",a,b,c,d,D\r\n');
    expect(p.items.map((i) => [i.question, i.answer])).toEqual([
      ['Q1?', 'A'],
      ['Q2,\r\nmore', 'D'],
    ]);
  });

  it('names file, line and field', () => {
    const text = 'Q1,a,b,c,d,A\n"Q2\nspans",a,b,c,d,E\n';
    const e = errorOf(() => parseMmluCsv('data/test/anatomy_test.csv', text));
    expect(e.message).toBe('data/test/anatomy_test.csv:2: answer: must be A, B, C or D, got "E"');
    expect([e.file, e.line, e.field]).toEqual(['data/test/anatomy_test.csv', 2, 'answer']);
    expect(errorOf(() => parseMmluCsv('anatomy_dev.csv', 'Q1,a,b,c,d,A\nQ1,a,b,c,A\n')).message).toBe(
      'anatomy_dev.csv:2: expected 6 fields (question, A, B, C, D, answer), got 5',
    );
    expect(errorOf(() => parseMmluCsv('anatomy_dev.csv', 'Q1,a,b,c,d,A\n"Q2,a,b,c,d,A\n')).message).toBe('anatomy_dev.csv:2: a quoted field is never closed');
    expect(errorOf(() => parseMmluCsv('anatomy.csv', 'Q,a,b,c,d,A\n')).message).toMatch(/^anatomy\.csv: not an MMLU file name/);
    expect(errorOf(() => parseMmluCsv('data/dev/anatomy_test.csv', 'Q,a,b,c,d,A\n')).message).toBe('data/dev/anatomy_test.csv: a test file in the dev/ folder');
    expect(errorOf(() => parseMmluCsv('anatomy_test.csv', '')).message).toBe('anatomy_test.csv: holds no records');
  });
});

describe('MMLU prompts (hendrycks/test gen_prompt + format_example)', () => {
  const dev = read('mmlu/data/dev/high_school_computer_science_dev.csv').items;
  const q = read('mmlu/data/test/high_school_computer_science_test.csv').items[1]!;

  it('formats the subject as format_subject does', () => {
    expect(formatMmluSubject('high_school_computer_science')).toBe(' high school computer science');
    expect(formatMmluSubject('astronomy')).toBe(' astronomy');
  });

  it('builds the 0-shot prompt', () => {
    const p = buildMmluPrompt(q, dev, 0, { tokenizer: llama3, chatTemplate: false });
    expect(p.text).toBe(
      'The following are multiple choice questions (with answers) about  high school computer science.\n\nWhat is 1010 in binary as a decimal number?\nA. 8\nB. 10\nC. 12\nD. 5\nAnswer:',
    );
    expect([...p.promptIds]).toEqual([llama3.special.bos.id, ...llama3.encode(p.text)]);
    expect(p).toMatchObject({ maxNewTokens: 1, useChat: false, answer: 'B', promptTokens: p.promptIds.length });
  });

  it('builds the 5-shot prompt', () => {
    const p = buildMmluPrompt(q, dev, 5, { tokenizer: llama3, chatTemplate: false });
    expect(p.text).toBe(
      'The following are multiple choice questions (with answers) about  high school computer science.\n\n' +
        'What is the value of 7 // 2 in Python 3?\nA. 3\nB. 3.5\nC. 4\nD. 2\nAnswer: A\n\n' +
        'Which data structure is first-in, first-out?\nA. Stack\nB. Queue\nC. Tree\nD. Heap\nAnswer: B\n\n' +
        'How many bits are in a byte?\nA. 4\nB. 16\nC. 8\nD. 32\nAnswer: C\n\n' +
        'What does the expression len("a,b") return?\nA. 1\nB. 2\nC. 4\nD. 3\nAnswer: D\n\n' +
        'Binary search on a sorted list of n items takes\nA. O(n)\nB. O(log n)\nC. O(n log n)\nD. O(1)\nAnswer: B\n\n' +
        'What is 1010 in binary as a decimal number?\nA. 8\nB. 10\nC. 12\nD. 5\nAnswer:',
    );
  });

  it('puts the prompt in one user turn with chatTemplate', () => {
    const p = buildMmluPrompt(q, dev, 2, { tokenizer: llama3, chatTemplate: true });
    expect(p.useChat).toBe(true);
    expect(p.messages).toHaveLength(1);
    expect(p.text).toBe(llama3.applyChatTemplate(p.messages));
    expect([...p.promptIds]).toEqual(llama3.encodeChat(p.messages));
  });

  it('refuses more than 5 shots, too few dev rows and another subject', () => {
    expect(() => buildMmluPrompt(q, dev, 6, { tokenizer: llama3, chatTemplate: false })).toThrow(RangeError);
    expect(() => buildMmluPrompt(q, dev.slice(0, 2), 3, { tokenizer: llama3, chatTemplate: false })).toThrow(RangeError);
    const astro = read('mmlu/data/dev/astronomy_dev.csv').items;
    expect(() => buildMmluPrompt(q, astro, 1, { tokenizer: llama3, chatTemplate: false })).toThrow(/astronomy/);
  });
});

describe('MMLU answer letters', () => {
  it.each([
    ['B', 'B'],
    [' B', 'B'],
    ['B.', 'B'],
    ['(B)', 'B'],
    ['B) Queue', 'B'],
    ['The answer is B', 'B'],
    ['The answer is (C).', 'C'],
    ['Answer: D', 'D'],
    ['A', 'A'],
    ['A. Stack', 'A'],
    ['A good choice is C', 'C'],
    ['I think it is D because', 'D'],
    ['**C**', 'C'],
    ['none of them', null],
    ['', null],
    ['ABBA', null],
  ])('%j → %s', (text, letter) => {
    expect(mmluLetterFromText(text)).toBe(letter);
  });

  it('picks the highest-logprob letter token with or without a leading space', () => {
    expect(
      mmluLetterFromLogprobs([
        { token: ' The', logprob: -0.1 },
        { token: ' C', logprob: -1.5 },
        { token: 'B', logprob: -0.9 },
        { token: ' B', logprob: -2 },
        { token: 'E', logprob: -0.2 },
      ]),
    ).toEqual({ letter: 'B', logprob: -0.9 });
    expect(mmluLetterFromLogprobs([{ token: '  A', logprob: -0.1 }, { token: 'a', logprob: -0.1 }])).toBeNull();
    expect(mmluLetterFromLogprobs([])).toBeNull();
  });
});
