import { qaDocuments, suiteSpecSchema } from '@ctxlab/contracts';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readQaDocuments, suiteCells, suiteSize, suiteSummary } from './suites';

const fixture = (name: string) => readFileSync(new URL(`../../ruler/src/testing/fixtures/${name}`, import.meta.url), 'utf8');
const rulerSpec = (over: Record<string, unknown> = {}) => suiteSpecSchema.parse({ suite: 'ruler', tasks: ['niah_single_1', 'vt'], lengths: [4096, 2048], samples: 2, ...over });

describe('suite cells and sizes', () => {
  it('lists every (task, length, sample) once, shortest length first', () => {
    const cells = suiteCells(rulerSpec());
    expect(cells).toHaveLength(8);
    expect(new Set(cells.map((c) => `${c.task}|${c.contextLength}|${c.sample}`)).size).toBe(8);
    expect(cells.slice(0, 4).every((c) => c.contextLength === 2048)).toBe(true);
    const topics = suiteCells(suiteSpecSchema.parse({ suite: 'topic-retrieval', topics: [10, 5], samples: 3 }));
    expect(topics.map((c) => c.contextLength)).toEqual([5, 5, 5, 10, 10, 10]);
    expect(topics.every((c) => c.task === 'topic_retrieval')).toBe(true);
  });

  it('counts prompt tokens as RULER does: each length less the task’s tokens to generate', () => {
    expect(suiteSize(rulerSpec())).toEqual({ cells: 8, requests: 8, promptTokens: 2 * (4096 - 128 + 2048 - 128 + 4096 - 30 + 2048 - 30) });
    expect(suiteSize(suiteSpecSchema.parse({ suite: 'topic-retrieval', topics: [5, 10], length: 3000, samples: 4 }))).toEqual({ cells: 8, requests: 8, promptTokens: 24_000 });
  });

  it('refuses a repeated task or length and an unknown task, naming the field', () => {
    expect(suiteSpecSchema.safeParse({ suite: 'ruler', tasks: ['vt', 'vt'], lengths: [4096] }).error?.issues[0]?.path).toEqual(['tasks']);
    expect(suiteSpecSchema.safeParse({ suite: 'ruler', tasks: ['vt'], lengths: [4096, 4096] }).error?.issues[0]?.path).toEqual(['lengths']);
    expect(suiteSpecSchema.safeParse({ suite: 'ruler', tasks: ['niah_single_9'], lengths: [4096] }).success).toBe(false);
    expect(suiteSpecSchema.safeParse({ suite: 'ruler', tasks: ['vt'], lengths: [4096], samples: 1001 }).success).toBe(false);
  });
});

describe('suite summary', () => {
  it('means per task and length, RULER averages per length, the effective length; failed cells counted and left out', () => {
    const spec = rulerSpec({ threshold: 60 });
    const s = suiteSummary(spec, [
      { task: 'niah_single_1', contextLength: 2048, score: 100 },
      { task: 'niah_single_1', contextLength: 2048, score: 50 },
      { task: 'vt', contextLength: 2048, score: 40 },
      { task: 'vt', contextLength: 2048, score: null },
      { task: 'niah_single_1', contextLength: 4096, score: 0 },
      { task: 'vt', contextLength: 4096, score: 20 },
    ]);
    expect(s).toEqual({
      perTask: { niah_single_1: { 2048: 75, 4096: 0 }, vt: { 2048: 40, 4096: 20 } },
      perLength: { 2048: 57.5, 4096: 10 },
      average: 33.75,
      effectiveLength: null,
      threshold: 60,
      failed: 1,
    });
    expect(suiteSummary(rulerSpec({ threshold: 50 }), [{ task: 'vt', contextLength: 2048, score: 60 }])).toMatchObject({ effectiveLength: 2048 });
    expect(suiteSummary(suiteSpecSchema.parse({ suite: 'topic-retrieval', topics: [5] }), [
      { task: 'topic_retrieval', contextLength: 5, score: 100 },
      { task: 'topic_retrieval', contextLength: 5, score: 0 },
      { task: 'topic_retrieval', contextLength: 5, score: null },
    ])).toEqual({ perTopics: { 5: 50 }, average: 50, failed: 1 });
  });
});

describe('QA datasets stored as documents', () => {
  it('reads SQuAD and HotpotQA back from their parts, whatever the part size', () => {
    const squad = fixture('squad-v2.json');
    const parts = qaDocuments('squad', squad, 700);
    expect(parts.length).toBeGreaterThan(3);
    expect(parts.map((p) => p.text).join('')).toBe(squad);
    const back = readQaDocuments('fixtures', [...parts].reverse().concat(qaDocuments('hotpotqa', fixture('hotpotqa.json'), 1_000_000)));
    expect(back.squad?.items.length).toBeGreaterThan(0);
    expect(back.hotpotqa?.format).toBe('hotpotqa');
  });

  it('never cuts a surrogate pair in two', () => {
    const text = `${'a'.repeat(9)}😀${'b'.repeat(9)}`;
    const parts = qaDocuments('squad', text, 10);
    expect(parts.map((p) => p.text).join('')).toBe(text);
    expect(parts.every((p) => !/[\uD800-\uDBFF]$/.test(p.text))).toBe(true);
  });
});
