import { getTokenizer } from '@ctxlab/tokenizers';
import { describe, expect, it } from 'vitest';
import { BenchmarkFormatError } from './errors';
import { buildLongBenchPrompt, LONGBENCH_DATASETS, LONGBENCH_TASKS, longBenchTaskOf, parseLongBenchJsonl, type LongBenchItem } from './longbench';
import { decodeSkippingSpecials } from './prompt';
import { errorOf, fixture, fixtureFiles } from './testing';

const llama3 = getTokenizer('llama3');
const byte = getTokenizer('byte');

function line(o: Record<string, unknown>): string {
  return JSON.stringify(o);
}
const good = {
  input: 'Who?',
  context: 'Ann met Bob.',
  answers: ['Ann'],
  length: 4,
  dataset: 'qasper',
  language: 'en',
  all_classes: null,
  _id: 'abc',
};

describe('LONGBENCH_TASKS', () => {
  it('has the 21 datasets, the six without chat template, and LongBench-E membership', () => {
    expect(LONGBENCH_DATASETS).toHaveLength(21);
    expect(LONGBENCH_DATASETS.filter((d) => !LONGBENCH_TASKS[d].chat).sort()).toEqual(['lcc', 'lsht', 'repobench-p', 'samsum', 'trec', 'triviaqa']);
    expect(LONGBENCH_DATASETS.filter((d) => LONGBENCH_TASKS[d].inLongBenchE)).toHaveLength(13);
    expect(LONGBENCH_TASKS.gov_report.maxNewTokens).toBe(512);
    expect(LONGBENCH_TASKS.hotpotqa.maxNewTokens).toBe(32);
    expect(LONGBENCH_TASKS.multifieldqa_zh.language).toBe('zh');
    expect(LONGBENCH_TASKS.lcc.language).toBe('code');
    expect(longBenchTaskOf('qasper_e')).toBe('qasper');
    expect(longBenchTaskOf('narrativeqa_e')).toBeUndefined();
  });
});

describe('parseLongBenchJsonl', () => {
  it('reads every shipped fixture', () => {
    const files = fixtureFiles('longbench');
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const f of files) {
      const items = parseLongBenchJsonl(f.name, f.text);
      expect(items.length).toBeGreaterThan(0);
      expect(`longbench/${items[0]!.dataset}.jsonl`).toBe(f.name);
    }
    const trec = parseLongBenchJsonl('longbench/trec.jsonl', fixture('longbench/trec.jsonl').text);
    expect(trec[0]!.all_classes).toContain('Location');
    const lcc = parseLongBenchJsonl('longbench/lcc.jsonl', fixture('longbench/lcc.jsonl').text);
    expect(lcc[0]).toMatchObject({ input: '', language: 'python', all_classes: null });
  });

  it('accepts CRLF, a BOM, trailing blank lines, extra fields and LongBench-E names', () => {
    const text = `\uFEFF${line({ ...good, dataset: 'qasper_e', retrieved: ['x'] })}\r\n${line({ ...good, dataset: 'qasper_e', _id: 'd' })}\r\n\r\n`;
    const items = parseLongBenchJsonl('qasper_e.jsonl', text);
    expect(items.map((i) => i._id)).toEqual(['abc', 'd']);
    expect(items[0]).toEqual({ ...good, dataset: 'qasper_e' });
  });

  it.each([
    [{ answers: 'Ann' }, 'answers: must be an array of strings'],
    [{ answers: ['Ann', 3] }, 'answers: must be an array of strings'],
    [{ length: 4.5 }, 'length: must be an integer >= 0'],
    [{ length: '4' }, 'length: must be an integer >= 0'],
    [{ input: null }, 'input: must be a string'],
    [{ context: 7 }, 'context: must be a string'],
    [{ dataset: 'squad' }, 'dataset: "squad" is not a LongBench or LongBench-E dataset'],
    [{ dataset: 'narrativeqa_e', language: 'en' }, 'dataset: "narrativeqa_e" is not a LongBench or LongBench-E dataset'],
    [{ language: 'zh' }, 'language: must be "en" for qasper, got "zh"'],
    [{ all_classes: 'x' }, 'all_classes: must be null or an array of strings'],
    [{ _id: 12 }, '_id: must be a string'],
  ])('names file, line and field: %j', (patch, message) => {
    const text = [line(good), line(good), line({ ...good, ...patch })].join('\n');
    const e = errorOf(() => parseLongBenchJsonl('longbench/qasper.jsonl', text));
    expect(e.message).toBe(`longbench/qasper.jsonl:3: ${message}`);
    expect(e.file).toBe('longbench/qasper.jsonl');
    expect(e.line).toBe(3);
    expect(e.field).toBe(message.split(':')[0]);
  });

  it('names a missing field, bad JSON, a non-object, a blank line, another dataset and an empty file', () => {
    const { _id: _drop, ...noId } = good;
    expect(errorOf(() => parseLongBenchJsonl('a.jsonl', line(noId))).message).toBe('a.jsonl:1: _id: missing');
    const bad = errorOf(() => parseLongBenchJsonl('a.jsonl', `${line(good)}\n{"input": `));
    expect(bad.message).toMatch(/^a\.jsonl:2: not valid JSON/);
    expect(bad.field).toBeNull();
    expect(errorOf(() => parseLongBenchJsonl('a.jsonl', '[1]')).message).toBe('a.jsonl:1: must be a JSON object');
    expect(errorOf(() => parseLongBenchJsonl('a.jsonl', `${line(good)}\n\n${line(good)}`)).message).toMatch(/^a\.jsonl:2: empty line/);
    expect(errorOf(() => parseLongBenchJsonl('a.jsonl', `${line(good)}\n${line({ ...good, dataset: 'hotpotqa' })}`)).message).toBe(
      `a.jsonl:2: dataset: "hotpotqa" differs from the file's first line ("qasper")`,
    );
    const empty = errorOf(() => parseLongBenchJsonl('a.jsonl', '\n'));
    expect(empty.message).toBe('a.jsonl: holds no records');
    expect(empty.line).toBeNull();
  });
});

const item = (patch: Partial<LongBenchItem>): LongBenchItem => ({ ...good, ...patch });

describe('buildLongBenchPrompt', () => {
  it('formats dataset2prompt exactly and applies the chat template on chat tasks', () => {
    const p = buildLongBenchPrompt(item({ dataset: 'multifieldqa_en', context: 'The sky is {blue}.', input: 'What colour?' }), {
      tokenizer: llama3,
      maxLength: 31500,
      chatTemplate: true,
    });
    const content =
      'Read the following text and answer briefly.\n\nThe sky is {blue}.\n\nNow, answer the following question based on the above text, only give me the answer and do not output any other words.\n\nQuestion: What colour?\nAnswer:';
    expect(p.messages).toEqual([{ role: 'user', content }]);
    expect(p.text).toBe(`<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n${content}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`);
    expect([...p.promptIds]).toEqual(llama3.encodeChat(p.messages));
    expect(p.promptTokens).toBe(p.promptIds.length);
    expect(p).toMatchObject({ maxNewTokens: 64, truncated: false, useChat: true, stopTokenIds: [] });
  });

  it('leaves trec, triviaqa, samsum, lsht, lcc and repobench-p as plain text after BOS', () => {
    for (const dataset of ['trec', 'triviaqa', 'samsum', 'lsht', 'lcc', 'repobench-p'] as const) {
      const p = buildLongBenchPrompt(item({ dataset, language: LONGBENCH_TASKS[dataset].language === 'zh' ? 'zh' : 'en' }), {
        tokenizer: llama3,
        maxLength: 31500,
        chatTemplate: true,
      });
      expect(p.useChat).toBe(false);
      expect([...p.promptIds]).toEqual([llama3.special.bos.id, ...llama3.encode(p.text)]);
    }
    const lcc = buildLongBenchPrompt(item({ dataset: 'lcc', input: '', context: 'def f():\n' }), { tokenizer: llama3, maxLength: 100, chatTemplate: true });
    expect(lcc.text).toBe('Please complete the code given below. \ndef f():\nNext line of code:\n');
    const rb = buildLongBenchPrompt(item({ dataset: 'repobench-p', input: 'x = 1\n', context: '# a.py\n' }), { tokenizer: llama3, maxLength: 100, chatTemplate: true });
    expect(rb.text).toBe('Please complete the code given below. \n# a.py\nx = 1\nNext line of code:\n');
    const trec = buildLongBenchPrompt(item({ dataset: 'trec', input: 'Question: Why?\nType:', context: 'Question: Who?\nType: Human being\n' }), {
      tokenizer: llama3,
      maxLength: 100,
      chatTemplate: true,
    });
    expect(trec.text).toBe('Please determine the type of the question below. Here are some examples of questions.\n\nQuestion: Who?\nType: Human being\n\nQuestion: Why?\nType:');
    const samsum = buildLongBenchPrompt(item({ dataset: 'samsum' }), { tokenizer: llama3, maxLength: 100, chatTemplate: true });
    expect(samsum.stopTokenIds).toEqual([llama3.encode('\n').at(-1)]);
    expect(samsum.maxNewTokens).toBe(128);
  });

  it('sends chat tasks as plain text when chatTemplate is false', () => {
    const p = buildLongBenchPrompt(item({}), { tokenizer: llama3, maxLength: 31500, chatTemplate: false });
    expect(p.useChat).toBe(false);
    expect(p.text.startsWith('You are given a scientific article and a question.')).toBe(true);
    expect(p.text.endsWith('Question: Who?\n\nAnswer:')).toBe(true);
    expect([...p.promptIds]).toEqual([llama3.special.bos.id, ...llama3.encode(p.text)]);
  });

  it('builds the Chinese prompt of multifieldqa_zh', () => {
    const zh = parseLongBenchJsonl('multifieldqa_zh.jsonl', fixture('longbench/multifieldqa_zh.jsonl').text)[0]!;
    const p = buildLongBenchPrompt(zh, { tokenizer: llama3, maxLength: 31500, chatTemplate: false });
    expect(p.text).toBe(`阅读以下文字并用中文简短回答：\n\n${zh.context}\n\n现在请基于上面的文章回答下面的问题，只告诉我答案，不要输出任何其他字词。\n\n问题：${zh.input}\n回答：`);
  });

  it('truncates as pred.py: BOS counted, first and last int(maxLength/2) tokens, specials skipped in decoding', () => {
    const context = Array.from({ length: 400 }, (_v, i) => `Sentence number ${i} says something about item ${i * 7}.`).join(' ');
    const it0 = item({ dataset: 'narrativeqa', context, input: 'What does sentence 3 say?' });
    const prompt = `You are given a story, which can be either a novel or a movie script, and a question. Answer the question asconcisely as you can, using a single phrase if possible. Do not provide any explanation.\n\nStory: ${context}\n\nNow, answer the question based on the story asconcisely as you can, using a single phrase if possible. Do not provide any explanation.\n\nQuestion: What does sentence 3 say?\n\nAnswer:`;
    const ids = [llama3.special.bos.id, ...llama3.encode(prompt)];
    for (const maxLength of [1000, 1001, 4096]) {
      const p = buildLongBenchPrompt(it0, { tokenizer: llama3, maxLength, chatTemplate: false });
      const half = Math.floor(maxLength / 2);
      const expected = llama3.decode(ids.slice(1, half)) + llama3.decode(ids.slice(ids.length - half));
      expect(p.truncated).toBe(true);
      expect(p.fullTokens).toBe(ids.length);
      expect(p.text).toBe(expected);
      expect(p.text.startsWith('You are given a story')).toBe(true);
      expect(p.text.endsWith('Question: What does sentence 3 say?\n\nAnswer:')).toBe(true);
      // Re-encoding the two decoded halves may merge or split a token at the junction only.
      expect(Math.abs(p.promptTokens - 2 * half)).toBeLessThanOrEqual(2);
      const chat = buildLongBenchPrompt(it0, { tokenizer: llama3, maxLength, chatTemplate: true });
      expect(chat.messages[0]!.content).toBe(expected);
      expect([...chat.promptIds]).toEqual(llama3.encodeChat(chat.messages));
    }
    const fits = buildLongBenchPrompt(it0, { tokenizer: llama3, maxLength: ids.length, chatTemplate: false });
    expect(fits.truncated).toBe(false);
    expect(fits.promptTokens).toBe(ids.length);
    expect(buildLongBenchPrompt(it0, { tokenizer: llama3, maxLength: ids.length - 1, chatTemplate: false }).truncated).toBe(true);
  });

  it('keeps exactly maxLength tokens where tokens are bytes (an even maxLength; odd ones keep maxLength - 1)', () => {
    const it0 = item({ dataset: 'gov_report', context: 'Report line. '.repeat(500), input: '' });
    for (const maxLength of [512, 513, 2048]) {
      const p = buildLongBenchPrompt(it0, { tokenizer: byte, maxLength, chatTemplate: false });
      expect(p.truncated).toBe(true);
      expect(p.promptTokens).toBe(2 * Math.floor(maxLength / 2));
      expect(p.text.startsWith('You are given a report by a government agency.')).toBe(true);
      expect(p.text.endsWith('Now, write a one-page summary of the report.\n\nSummary:')).toBe(true);
      expect(p.text.length).toBe(p.promptTokens - 1);
    }
  });

  it('decodes a half that cuts a UTF-8 sequence to U+FFFD, as Hugging Face decode does', () => {
    expect(decodeSkippingSpecials(byte, [byte.special.bos.id, 0xe4, 0xbd])).toBe('\uFFFD');
    expect(decodeSkippingSpecials(llama3, [llama3.special.bos.id, ...llama3.encode('hi')])).toBe('hi');
  });

  it('rejects a maxLength below 2 and an unknown dataset', () => {
    expect(() => buildLongBenchPrompt(item({}), { tokenizer: byte, maxLength: 1, chatTemplate: false })).toThrow(RangeError);
    expect(() => buildLongBenchPrompt(item({ dataset: 'nope' }), { tokenizer: byte, maxLength: 100, chatTemplate: false })).toThrow(BenchmarkFormatError);
  });
});
