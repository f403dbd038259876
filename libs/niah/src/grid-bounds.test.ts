import { niahGridSchema } from '@ctxlab/contracts';
import { describe, expect, it } from 'vitest';
import { gridSize, lengthValues, resolveGrid } from './grid';
import { buildPrompt } from './prompt';

describe('grid sizes without expansion', () => {
  it('counts cells and prompt tokens from the axes, matching the expanded grid', () => {
    const grid = { lengths: { kind: 'step' as const, min: 100, max: 1_140_200, step: 86_675 }, depths: { kind: 'step' as const, min: 0, max: 1, step: 0.2 }, samples: 3 };
    const r = resolveGrid(grid);
    expect(gridSize(grid)).toEqual({ cells: r.lengths.length * r.depths.length * 3, promptTokens: r.lengths.reduce((a, l) => a + l, 0) * r.depths.length * 3 });
    expect(gridSize({ preset: '360zhinao', samples: 1 }).cells).toBe(210);
  });

  it('sizes a grid of trillions of cells at once, and refuses to list a step axis beyond the bound', () => {
    const huge = { kind: 'step' as const, min: 1, max: 1e12, step: 1 };
    expect(gridSize({ lengths: huge, depths: { kind: 'list', values: [0.5] }, samples: 100 }).cells).toBe(1e14);
    expect(() => lengthValues(huge)).toThrow(/the length axis has 1,000,000,000,000 values; at most 1,000/);
    expect(niahGridSchema.safeParse({ lengths: huge, depths: { kind: 'list', values: [0.5] } }).success).toBe(false);
    expect(niahGridSchema.safeParse({ lengths: { kind: 'list', values: [3_000_000_000] }, depths: { kind: 'list', values: [0.5] } }).success).toBe(false);
    expect(niahGridSchema.safeParse({ lengths: { kind: 'list', values: [1000] }, depths: { kind: 'step', step: 1e-300 } }).success).toBe(false);
  });

  it('refuses a prompt length beyond the longest context before building anything', () => {
    expect(() => buildPrompt({ length: 3_000_000_000 } as never)).toThrow(/from 1 to 16,777,216; got 3000000000/);
  });
});
