import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { detectBenchmarkFormat, summarizeBenchmarkFiles } from './digest';
import { BenchmarkFormatError } from './errors';
import { fixtureFiles } from './testing';

const sha = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('summarizeBenchmarkFiles', () => {
  it('summarises the LongBench fixtures per dataset', () => {
    const files = fixtureFiles('longbench');
    const s = summarizeBenchmarkFiles(files);
    expect(s.format).toBe('longbench');
    expect(Object.keys(s.tasks).sort()).toEqual(files.map((f) => f.name.replace(/^longbench\/|\.jsonl$/g, '')).sort());
    const qasper = files.find((f) => f.name === 'longbench/qasper.jsonl')!;
    expect(s.tasks.qasper).toEqual({ items: 3, digest: sha(qasper.text) });
  });

  it('summarises the InfiniteBench and MMLU fixtures', () => {
    const ib = summarizeBenchmarkFiles(fixtureFiles('infinitebench'));
    expect(ib.format).toBe('infinitebench');
    expect(Object.keys(ib.tasks).sort()).toEqual(['longbook_qa_eng', 'longbook_sum_eng']);
    expect(ib.tasks.longbook_qa_eng!.items).toBe(3);
    const mmlu = summarizeBenchmarkFiles(fixtureFiles('mmlu'));
    expect(mmlu.format).toBe('mmlu');
    expect(mmlu.tasks).toMatchObject({ astronomy_dev: { items: 5 }, astronomy_test: { items: 3 }, astronomy_val: { items: 1 }, high_school_computer_science_test: { items: 2 } });
    for (const f of fixtureFiles('mmlu')) expect(Object.values(mmlu.tasks).map((t) => t.digest)).toContain(sha(f.text));
  });

  it('digests non-ASCII text as UTF-8', () => {
    const zh = fixtureFiles('longbench').find((f) => f.name.endsWith('multifieldqa_zh.jsonl'))!;
    expect(summarizeBenchmarkFiles([zh]).tasks.multifieldqa_zh!.digest).toBe(sha(zh.text));
  });

  it('detects LongBench files under any name from their first line', () => {
    const lb = fixtureFiles('longbench')[0]!;
    expect(detectBenchmarkFormat('upload-1.jsonl', lb.text)).toBe('longbench');
    expect(detectBenchmarkFormat('notes.txt', lb.text)).toBeUndefined();
  });

  it('refuses a mixture, unknown files, an empty list, a bad file and the same task twice', () => {
    const mixed = [...fixtureFiles('longbench').slice(0, 2), ...fixtureFiles('mmlu').slice(0, 1)];
    expect(() => summarizeBenchmarkFiles(mixed)).toThrow(/must all be of one format, got a mixture: longbench \(.*\); mmlu \(mmlu\/data\/dev\/astronomy_dev\.csv\)/);
    expect(() => summarizeBenchmarkFiles([{ name: 'readme.md', text: '# hi' }])).toThrow(BenchmarkFormatError);
    expect(() => summarizeBenchmarkFiles([])).toThrow(/no benchmark files/);
    const lb = fixtureFiles('longbench').find((f) => f.name.endsWith('qasper.jsonl'))!;
    const broken = { name: 'longbench/qasper.jsonl', text: lb.text.replace('"answers": [', '"answers": 7, "x": [') };
    expect(() => summarizeBenchmarkFiles([broken])).toThrow('longbench/qasper.jsonl:1: answers: must be an array of strings');
    expect(() => summarizeBenchmarkFiles([lb, { name: 'copy/qasper.jsonl', text: lb.text }])).toThrow(/copy\/qasper\.jsonl: holds qasper again/);
  });
});
