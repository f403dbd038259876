import { getTokenizer } from '@ctxlab/tokenizers';
import { describe, expect, it } from 'vitest';
import { buildNiahCell, generateNiahCells, naiveCellOrder, planNiahCells, resolveNiahSpec, scoreNiahCell } from './engine';
import { NiahError } from './errors';
import { CITIES_EN, ORIGINAL_NEEDLE } from './needles';
import { loadDefaultCorpus } from './node/default-corpora';
import { loadNiahContext } from './node/context';
import { prefillLowerBound, simulatePrefill } from './prefix-cache';

describe('spec resolution', () => {
  it('applies presets and per-variant defaults', () => {
    const g = resolveNiahSpec({ variant: 'value', tokenizer: 'llama3', grid: { preset: 'gradient' } });
    expect(g.digits).toBe(8);
    expect(g.lengths).toHaveLength(14);
    expect(g.layout).toBe('chat');
    expect(g.corpus).toBe('sotu-en');
    const z = resolveNiahSpec({ variant: 'value', language: 'zh', tokenizer: 'llama3', grid: { preset: '360zhinao' } });
    expect(z.digits).toBe(7);
    expect(z.layout).toBe('single');
    expect(z.systemPrompt).toBeUndefined();
    expect(z.corpus).toBe('tang-zh');
    expect(resolveNiahSpec({ variant: 'zh-story', tokenizer: 'byte', grid: { preset: '360zhinao' } }).language).toBe('zh');
  });

  it('rejects bad specs with a message a person can act on', () => {
    expect(() => resolveNiahSpec({ variant: 'value', tokenizer: 'llama3', grid: {} })).toThrow(/preset, or both lengths and depths/);
    expect(() => resolveNiahSpec({ variant: 'custom', tokenizer: 'llama3', grid: { preset: 'gradient' } })).toThrow(NiahError);
    expect(() =>
      resolveNiahSpec({ variant: 'value', tokenizer: 'llama3', grid: { lengths: { kind: 'list', values: [1000] }, depths: { kind: 'list', values: [1.5] } } }),
    ).toThrow(/fraction from 0 to 1/);
    expect(() => resolveNiahSpec({ variant: 'multi-key', language: 'zh', tokenizer: 'llama3', grid: { preset: 'gradient' } })).toThrow(/English-only/);
  });
});

describe('cells', () => {
  const small = (variant: string, over: object = {}) =>
    resolveNiahSpec({
      variant: variant as never,
      tokenizer: 'llama3',
      grid: { lengths: { kind: 'list', values: [1500, 3000] }, depths: { kind: 'list', values: [0, 0.5, 1] }, samples: 2 },
      seed: 7,
      ...over,
    });

  it('builds every variant at the exact length, with the expected answer inside the prompt', () => {
    for (const variant of ['original', 'value', 'multi-needle', 'multi-key', 'multi-value', 'multi-query', 'negative']) {
      const spec = small(variant, { options: { verify: true } });
      const ctx = loadNiahContext(spec);
      for (const cell of generateNiahCells(spec, ctx)) {
        expect(cell.promptTokens).toBe(cell.length);
        const prompt = cell.messages.map((m) => m.content).join('\n');
        for (const n of cell.needles) expect(prompt).toContain(n);
        if (variant !== 'negative' && variant !== 'original' && variant !== 'multi-needle') for (const e of cell.expected) expect(prompt).toContain(e);
        expect(cell.needleTokenPositions.every((p) => p >= 0 && p < cell.length)).toBe(true);
      }
    }
    const zh = resolveNiahSpec({ variant: 'zh-story', tokenizer: 'llama3', grid: { lengths: { kind: 'list', values: [2000] }, depths: { kind: 'list', values: [0.5] } } });
    const cell = [...generateNiahCells(zh, loadNiahContext(zh))][0]!;
    expect(cell.question).toBe('王莽在谁的手下工作？');
    expect(cell.messages[1]!.content).toContain('刘秀');
  });

  it('uses the field strings and the right digit counts', () => {
    const spec = small('value', { options: { digits: 8 } });
    const cell = buildNiahCell(spec, loadNiahContext(spec), planNiahCells(spec)[0]!);
    expect(cell.needle).toMatch(/^The special magic (.+) number is: \d{8}$/);
    expect(CITIES_EN).toContain(/magic (.+) number/.exec(cell.needle)![1]);
    expect(cell.question).toMatch(/^What is the special magic .+ number\?$/);
    expect(cell.instruction).toBe("Don't give information outside the document or repeat your findings");
    const orig = small('original');
    expect(buildNiahCell(orig, loadNiahContext(orig), planNiahCells(orig)[0]!).needle).toBe(ORIGINAL_NEEDLE);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const a = small('value');
    const key = planNiahCells(a)[3]!;
    const ctx = loadNiahContext(a);
    expect(buildNiahCell(a, ctx, key).needle).toBe(buildNiahCell(a, ctx, key).needle);
    expect(buildNiahCell(small('value', { seed: 8 }), ctx, key).needle).not.toBe(buildNiahCell(a, ctx, key).needle);
  });

  it('resumes by id without rebuilding finished cells', () => {
    const spec = small('value');
    const plan = planNiahCells(spec);
    const done = new Set(plan.slice(0, 5).map((k) => k.id));
    const rest = [...generateNiahCells(spec, loadNiahContext(spec), { skip: done })];
    expect(rest.map((c) => c.id)).toEqual(plan.slice(5).map((k) => k.id));
    expect(new Set(plan.map((k) => k.id)).size).toBe(plan.length);
  });

  it('scores a response for a cell', () => {
    const spec = small('value');
    const cell = buildNiahCell(spec, loadNiahContext(spec), planNiahCells(spec)[0]!);
    expect(scoreNiahCell(cell, `It is ${cell.expected[0]}.`)).toBe(100);
    expect(scoreNiahCell(cell, 'No idea.')).toBe(0);
  });
});

describe('sweep order', () => {
  it('sends the cells of one haystack by first-needle position, latest first', () => {
    const spec = resolveNiahSpec({ variant: 'value', tokenizer: 'llama3', grid: { preset: '360zhinao', samples: 2 } });
    const plan = planNiahCells(spec);
    expect(plan).toHaveLength(420);
    const groups = [0, 1].map((s) => plan.filter((k) => k.sample === s));
    expect(plan.slice(0, 210).every((k) => k.sample === 0)).toBe(true);
    for (const g of groups) for (let i = 1; i < g.length; i++) expect(g[i]!.depth * g[i]!.length).toBeLessThanOrEqual(g[i - 1]!.depth * g[i - 1]!.length);
  });

  it('never prefills more than the naive order and reaches the lower bound with a roomy cache (simulated)', () => {
    const spec = resolveNiahSpec({
      variant: 'value',
      tokenizer: 'llama3',
      grid: { lengths: { kind: 'linspace', min: 2000, max: 20_000, count: 4 }, depths: { kind: 'linspace', min: 0, max: 1, count: 6 } },
    });
    const ctx = { corpus: loadDefaultCorpus('sotu-en'), tokenizer: getTokenizer('llama3') };
    const prompts = (order: ReturnType<typeof planNiahCells>) => [...generateNiahCells(spec, ctx, { cells: order })].map((c) => c.promptIds);
    const ours = prompts(planNiahCells(spec));
    const naive = prompts(naiveCellOrder(spec));
    for (const capacityTokens of [24_000, 1_000_000]) {
      const a = simulatePrefill(ours, { blockSize: 16, capacityTokens });
      const b = simulatePrefill(naive, { blockSize: 16, capacityTokens });
      expect(a.promptTokens).toBe(b.promptTokens);
      expect(a.prefillTokens).toBeLessThanOrEqual(b.prefillTokens);
    }
    // Lower bound: the longest shared prefix once, plus every cell's tail after its needle.
    const cells = [...generateNiahCells(spec, ctx)];
    const bound = Math.max(...cells.map((c) => c.needleTokenPositions[0]!)) + cells.reduce((s, c) => s + (c.promptTokens - c.needleTokenPositions[0]!), 0);
    const roomy = simulatePrefill(ours, { blockSize: 16, capacityTokens: 1_000_000 });
    expect(roomy.prefillTokens).toBeLessThanOrEqual(bound + 16 * cells.length * 2);
  });

  it('reaches the optimum (every distinct full block once) with a cache of 1.1× the longest prompt', () => {
    // 360Zhinao's layout and 21 depths on shorter lengths: depth-1 cells that no end fits take a
    // gap near their end instead of a new start, so every cell shares the trunk.
    const spec = resolveNiahSpec({
      variant: 'value',
      tokenizer: 'llama3',
      grid: { preset: '360zhinao', lengths: { kind: 'linspace', min: 2000, max: 20_000, count: 6 } },
    });
    const ctx = { corpus: loadDefaultCorpus('sotu-en'), tokenizer: getTokenizer('llama3') };
    const ours = [...generateNiahCells(spec, ctx)].map((c) => c.promptIds);
    const optimum = prefillLowerBound(ours);
    expect(simulatePrefill(ours, { blockSize: 16, capacityTokens: 22_000 }).prefillTokens).toBe(optimum);
    const naive = [...generateNiahCells(spec, ctx, { cells: naiveCellOrder(spec) })].map((c) => c.promptIds);
    expect(prefillLowerBound(naive)).toBe(optimum);
    expect(simulatePrefill(naive, { blockSize: 16, capacityTokens: 22_000 }).prefillTokens).toBeGreaterThan(optimum);
  });
});
