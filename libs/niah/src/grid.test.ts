import { describe, expect, it } from 'vitest';
import { depthValues, GRID_PRESETS, lengthValues, logisticPercent, resolveGrid, roundHalfEven } from './grid';

describe('grids', () => {
  it("reproduces Gradient's grid: 100 … 1,140,200 step 86,675 → 14 lengths, depth step 0.2", () => {
    const g = resolveGrid({ preset: 'gradient', samples: 1 });
    expect(g.lengths).toHaveLength(14);
    expect(g.lengths[0]).toBe(100);
    expect(g.lengths[13]).toBe(1_126_875);
    expect(g.lengths.every((l, i) => l === 100 + i * 86_675)).toBe(true);
    expect(g.depths).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(GRID_PRESETS.gradient.digits).toBe(8);
  });

  it("reproduces 360Zhinao's grid: np.round(np.linspace(1024, 360000, 10)) × 21 depths", () => {
    const g = resolveGrid({ preset: '360zhinao', samples: 1 });
    expect(g.lengths).toEqual([1024, 40910, 80796, 120683, 160569, 200455, 240341, 280228, 320114, 360000]);
    expect(g.depths).toHaveLength(21);
    expect(g.depths[1]).toBe(0.05);
    expect(g.depths[20]).toBe(1);
    expect(GRID_PRESETS['360zhinao'].digits).toBe(7);
  });

  it('supports lists, steps and the sigmoid depth curve', () => {
    expect(lengthValues({ kind: 'list', values: [3000, 1000, 1000] })).toEqual([1000, 3000]);
    expect(lengthValues({ kind: 'step', min: 1000, max: 3000, step: 1000 })).toEqual([1000, 2000, 3000]);
    expect(depthValues({ kind: 'step', min: 0, max: 1, step: 0.1 })).toHaveLength(11);
    const sig = depthValues({ kind: 'linspace', min: 0, max: 1, count: 5, curve: 'sigmoid' });
    expect(sig[0]).toBe(0);
    expect(sig[4]).toBe(1);
    expect(sig[2]).toBe(0.5);
    expect(logisticPercent(25)).toBe(7.586);
    expect(depthValues({ kind: 'linspace', min: 0, max: 1, count: 35, curve: 'linear' })).toContain(0.03); // round(2.94) = 3
  });

  it('lists a step axis as counted: a step below the rounding ends at once, max below min is refused', () => {
    // Found by the API fuzz suite: a depth step of 2.2e-16 rounded to 0 and the listing ran for millions of steps.
    const t0 = performance.now();
    expect(() => depthValues({ kind: 'step', min: 2.5632313475115815e-67, max: 7e-323, step: 2.220446049250313e-16 })).toThrow(/depth max 7e-323 is below min 2.56/);
    expect(depthValues({ kind: 'step', min: 0, max: 1e-13, step: 2.220446049250313e-16 })).toEqual([0]);
    expect(performance.now() - t0).toBeLessThan(50);
    expect(() => depthValues({ kind: 'step', min: 0, max: 1e-9, step: 2.220446049250313e-16 })).toThrow(/the depth axis has 4,503,600 values; at most 1,000/);
  });

  it('rounds half to even like numpy', () => {
    expect([0.5, 1.5, 2.5, 3.5, -0.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, 4, -0, 3]);
  });
});
