import { describe, expect, it } from 'vitest';
import { costRange, fmtCosts, fmtGpuHours, fmtMoney, fmtPercent, fmtRatio, gpuTime, readEstimate, versusEstimate } from './costs';

describe('cost figures', () => {
  it('shows money in its currency, with the decimals a small amount needs', () => {
    expect(fmtMoney(1234.5, 'USD')).toBe('$1,234.50');
    expect(fmtMoney(0.5, 'USD')).toBe('$0.50');
    expect(fmtMoney(0.00417, 'USD')).toBe('$0.0042');
    expect(fmtMoney(0, 'EUR')).toBe('€0.00');
    expect(fmtMoney(2, 'CHF')).toMatch(/^CHF\s?2\.00$/);
    expect(fmtMoney(null, 'USD')).toBe('—');
    expect(fmtMoney(1, null)).toBe('—');
  });

  it('never adds two currencies together', () => {
    expect(fmtCosts({ USD: 1.2, EUR: 0.4 })).toBe('€0.40 + $1.20');
    expect(fmtCosts({})).toBe('—');
  });

  it('shows GPU-hours, ratios and MFU with the precision their size needs', () => {
    expect([1204.4, 12.54, 10, 1.5, 0.423, 0.00213, 0, null].map(fmtGpuHours)).toEqual(['1,204', '12.5', '10', '1.5', '0.42', '0.0021', '0', '—']);
    expect([1.349, 12.3, null].map(fmtRatio)).toEqual(['1.35×', '12.3×', '—']);
    expect([0.3812, 0.00012].map(fmtPercent)).toEqual(['38.1%', '0.012%']);
  });
});

describe('the /costs range', () => {
  const now = new Date('2026-12-06T10:30:00Z');

  it('is this month so far by default', () => {
    expect(costRange({}, now)).toEqual({ fromDay: '2026-12-01', toDay: '2026-12-06', from: new Date('2026-12-01T00:00:00Z'), to: now, errors: {} });
  });

  it('takes whole UTC days, the last one included', () => {
    const r = costRange({ from: '2026-10-01', to: '2026-11-30' }, now);
    expect(r).toMatchObject({ fromDay: '2026-10-01', toDay: '2026-11-30', from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z'), errors: {} });
  });

  it('names a day it cannot read, or a range that ends before it starts, and uses the default', () => {
    const bad = costRange({ from: '2026-13-01', to: 'yesterday' }, now);
    expect(bad).toMatchObject({ fromDay: '2026-12-01', toDay: '2026-12-06' });
    expect(bad.errors.from).toMatch(/“2026-13-01” is not a date/);
    expect(bad.errors.to).toMatch(/“yesterday” is not a date/);
    const backwards = costRange({ from: '2026-11-10', to: '2026-11-01' }, now);
    expect(backwards).toMatchObject({ fromDay: '2026-11-10', toDay: '2026-12-06', to: now });
    expect(backwards.errors.to).toMatch(/ends \(2026-11-01\) before it starts \(2026-11-10\)/);
    const future = costRange({ from: '2027-01-01' }, now);
    expect(future).toMatchObject({ fromDay: '2026-12-01', errors: { from: expect.stringMatching(/2027-01-01 is in the future/) } });
  });
});

describe("a job's GPU time against the planner's estimate", () => {
  const now = new Date('2026-12-06T10:00:00Z');

  it('counts GPUs × hours from the executor’s start to its end (or now); no GPU is one cpu device', () => {
    expect(gpuTime({ gpus: 8, gpuType: 'h100-sxm-80gb', gpuStartedAt: '2026-12-06T08:00:00Z', gpuEndedAt: '2026-12-06T09:30:00Z' }, now)).toEqual({ device: 'h100-sxm-80gb', devices: 8, hours: 1.5, gpuHours: 12, running: false });
    expect(gpuTime({ gpus: 0, gpuType: 'cpu', gpuStartedAt: new Date('2026-12-06T09:00:00Z'), gpuEndedAt: null }, now)).toEqual({ device: 'cpu', devices: 1, hours: 1, gpuHours: 1, running: true });
    expect(gpuTime({ gpus: 1, gpuType: 'cpu', gpuStartedAt: null, gpuEndedAt: null }, now)).toBeNull();
  });

  it('reads the estimate a training job records and sets the actual beside it', () => {
    const e = readEstimate({ gpuHours: 2, wallHours: 0.25, mfu: 0.4, peakFlops: 989e12, tokens: 1e9, device: 'h100-sxm-80gb', devices: 8, peakFrom: 'catalog' })!;
    expect(e).toMatchObject({ gpuHours: 2, mfu: 0.4, devices: 8 });
    expect(versusEstimate(4, e)).toEqual({ ratio: 2, impliedMfu: 0.2 });
    expect(versusEstimate(0, e)).toEqual({ ratio: null, impliedMfu: null });
    expect(readEstimate(null)).toBeNull();
    expect(readEstimate({ wallHours: 1 })).toBeNull();
    expect(readEstimate({ gpuHours: 1 })).toMatchObject({ gpuHours: 1, mfu: null });
  });
});
