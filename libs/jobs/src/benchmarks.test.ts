import { suiteSpecSchema, type CapabilitySpec } from '@ctxlab/contracts';
import { describe, expect, it } from 'vitest';
import { capabilitySummary, readBenchmarkFiles } from './benchmarks';

const spec = (s: unknown) => suiteSpecSchema.parse(s) as CapabilitySpec;

describe('capability summaries', () => {
  it("LongBench: each task's score is eval.py's round(mean, 2); the average is over tasks; failed items are counted, not scored", () => {
    const s = capabilitySummary(spec({ suite: 'longbench', dataset: 'lb', maxLength: 8000 }), [
      { task: 'qasper', contextLength: 8000, score: 100 },
      { task: 'qasper', contextLength: 8000, score: 0 },
      { task: 'qasper', contextLength: 8000, score: 33.333333 },
      { task: 'trec', contextLength: 8000, score: 100 },
      { task: 'trec', contextLength: 8000, score: null },
    ]);
    expect(s).toEqual({ suite: 'longbench', perTask: { qasper: { 8000: 44.44 }, trec: { 8000: 100 } }, perSetting: { 8000: 72.22 }, average: 72.22, items: 4, failed: 1 });
  });

  it('MMLU: accuracy per subject and shot count, and overall over every question (not the mean of subjects)', () => {
    const cells = [
      ...[100, 100, 0, 0].map((score) => ({ task: 'astronomy', contextLength: 5, score })),
      ...[100, 100].map((score) => ({ task: 'anatomy', contextLength: 5, score })),
      { task: 'anatomy', contextLength: 0, score: 0 },
    ];
    const s = capabilitySummary(spec({ suite: 'mmlu', dataset: 'm' }), cells, 'logprobs');
    expect(s).toMatchObject({ suite: 'mmlu', perTask: { astronomy: { 5: 50 }, anatomy: { 5: 100, 0: 0 } }, perSetting: { 0: 0, 5: 66.67 }, scoring: 'logprobs', items: 7, failed: 0 });
  });

  it('endpoint perplexity: the geometric mean of the windows per length', () => {
    const s = capabilitySummary(spec({ suite: 'perplexity', lengths: [1024] }), [
      { task: 'perplexity', contextLength: 1024, score: 4 },
      { task: 'perplexity', contextLength: 1024, score: 9 },
      { task: 'perplexity', contextLength: 1024, score: null },
    ]);
    expect(s).toEqual({ suite: 'perplexity', perLength: { 1024: 6 }, failed: 1 });
  });

  it('reads an import by format; a file the format refuses is a BAD_REQUEST naming file, line and field', () => {
    const line = (o: object) => JSON.stringify({ input: 'q', context: 'c', answers: ['a'], length: 3, dataset: 'qasper', language: 'en', all_classes: null, _id: 'x', ...o });
    const d = readBenchmarkFiles('longbench', [{ name: 'qasper.jsonl', text: `${line({})}\n${line({ _id: 'y' })}\n` }]);
    expect(d.items.get('qasper')).toHaveLength(2);
    expect(() => readBenchmarkFiles('longbench', [{ name: 'qasper.jsonl', text: `${line({})}\n${line({ length: 'long' })}\n` }])).toThrow(/^documents: qasper\.jsonl:2: length: /);
  });
});
