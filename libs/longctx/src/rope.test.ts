import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LongctxError } from './errors';
import {
  criticalDimension,
  criticalDimMaxContext,
  criticalDimSupportedLength,
  criticalDimTheta,
  dynamicNtkChain,
  dynamicNtkTheta,
  llama3InvFreq,
  ntkTheta,
  ropeInvFreq,
  thetaForTarget,
  yarnCorrectionDim,
  yarnRope,
  type ThetaRequest,
} from './rope';

const LLAMA3 = { theta0: 500000, headDim: 128, originalLength: 8192 };

describe('field notes §2: RoPE theta numbers, reproduced exactly', () => {
  it('dynamic NTK α=4 chained: 500000@8192 → 15,296,098@65536 → 207,112,184@262144 → 1,062,356,830@524288', () => {
    const chain = dynamicNtkChain({ ...LLAMA3, lengths: [65536, 262144, 524288], alpha: 4 });
    expect(chain.map((s) => s.theta)).toEqual([15_296_098, 207_112_184, 1_062_356_830]);
    // Each stage's L0 is the previous stage's length and θ0 its truncated theta.
    expect(chain.map((s) => [s.fromLength, s.fromTheta])).toEqual([
      [8192, 500000],
      [65536, 15_296_098],
      [262144, 207_112_184],
    ]);
  });

  it('thetaForTarget(dynamic-ntk) reproduces the same chain and shows the working', () => {
    const r = thetaForTarget({ ...LLAMA3, rule: 'dynamic-ntk', alpha: 4, via: [65536, 262144], targetLength: 524288 });
    expect(r.theta).toBe(1_062_356_830);
    expect(r.chain?.map((s) => s.theta)).toEqual([15_296_098, 207_112_184, 1_062_356_830]);
    expect(r.explanation).toContain('15,296,098 (truncated)');
    expect(r.explanation).toContain('207,112,184 (truncated)');
    expect(r.explanation).toContain('1,062,356,830 (truncated)');
    // The first stage alone, from the base model.
    expect(thetaForTarget({ ...LLAMA3, rule: 'dynamic-ntk', targetLength: 65536 }).theta).toBe(15_296_098);
  });

  it('critical dimension: d_extra = 69.968… for Llama-3; the paper form rounds up to 70', () => {
    const d = criticalDimension(LLAMA3);
    expect(d).toBeCloseTo(69.968, 3);
    expect(d.toFixed(3)).toBe('69.968');
    expect(criticalDimension({ ...LLAMA3, roundUpEven: true })).toBe(70);
  });

  it('critical dimension: θ(2^20) rounded = 3,580,165,449 (Gradient 1048K)', () => {
    const r = thetaForTarget({ ...LLAMA3, rule: 'critical-dim', targetLength: 2 ** 20 });
    expect(r.theta).toBe(3_580_165_449);
    expect(Math.round(criticalDimTheta({ ...LLAMA3, targetLength: 2 ** 20 }))).toBe(3_580_165_449);
    expect(r.criticalDimension).toBeCloseTo(69.968238, 6);
    expect(r.explanation).toContain('69.968238');
    expect(r.explanation).toContain('3,580,165,449 (rounded)');
  });

  it('critical dimension, even variant (d_extra = 70) gives a slightly lower base at 2^20', () => {
    const r = thetaForTarget({ ...LLAMA3, rule: 'critical-dim-even', targetLength: 2 ** 20 });
    expect(r.criticalDimension).toBe(70);
    // (2^20/2π)^(128/70), computed with the same formula; lower than the unrounded rule's.
    expect(r.theta).toBe(Math.round((2 ** 20 / (2 * Math.PI)) ** (128 / 70)));
    expect(r.theta).toBe(3_544_606_929);
    expect(r.theta).toBeLessThan(3_580_165_449);
  });

  it('critical dimension: θ(L0) = θ0 when d_extra is not rounded', () => {
    expect(criticalDimTheta({ ...LLAMA3, targetLength: 8192 })).toBeCloseTo(500000, 4);
  });

  it('YaRN: ramp over floor(corr_dim(32)) … ceil(corr_dim(1)) = 18 … 35 for Llama-3, attention factor 0.1·ln(s)+1', () => {
    const s = 128;
    const y = yarnRope({ theta: 500000, headDim: 128, factor: s, originalLength: 8192 });
    expect(yarnCorrectionDim(32, 128, 500000, 8192)).toBeCloseTo(18.08, 2);
    expect(y.low).toBe(18);
    expect(y.high).toBe(35);
    // corr_dim(1) is exactly half the critical dimension: the same "full period in L0" boundary.
    expect(2 * yarnCorrectionDim(1, 128, 500000, 8192)).toBeCloseTo(criticalDimension(LLAMA3), 12);
    expect(y.attentionFactor).toBe(0.1 * Math.log(s) + 1);
    const base = ropeInvFreq(500000, 128);
    for (let i = 0; i <= 18; i++) expect(y.invFreq[i]).toBe(base[i]);
    for (let i = 35; i < 64; i++) expect(y.invFreq[i]).toBeCloseTo(base[i]! / s, 20);
    // Inside the ramp: linear mix with weight (i − low)/(high − low) on the interpolated frequency.
    const i = 26;
    const ramp = (i - 18) / (35 - 18);
    expect(y.invFreq[i]).toBeCloseTo((base[i]! / s) * ramp + base[i]! * (1 - ramp), 20);
  });

  it('YaRN via thetaForTarget keeps θ0 and returns the rope_scaling to write', () => {
    const r = thetaForTarget({ ...LLAMA3, rule: 'yarn', targetLength: 131072 });
    expect(r.theta).toBe(500000);
    expect(r.ropeScaling).toEqual({ type: 'yarn', factor: 16, originalMaxPositionEmbeddings: 8192, betaFast: 32, betaSlow: 1 });
    expect(r.explanation).toContain('pairs < 18');
    expect(r.explanation).toContain('pairs > 35');
  });

  it('llama3 scaling (factor 8, low 1, high 4, original 8192): short wavelengths kept, long ones ÷8, smooth between', () => {
    const base = ropeInvFreq(500000, 128);
    const inv = llama3InvFreq({ theta: 500000, headDim: 128 });
    const wl = base.map((f) => (2 * Math.PI) / f);
    let kept = 0;
    let divided = 0;
    let smoothed = 0;
    for (let i = 0; i < 64; i++) {
      if (wl[i]! < 8192 / 4) {
        expect(inv[i]).toBe(base[i]);
        kept++;
      } else if (wl[i]! > 8192 / 1) {
        expect(inv[i]).toBe(base[i]! / 8);
        divided++;
      } else {
        const smooth = (8192 / wl[i]! - 1) / (4 - 1);
        expect(inv[i]).toBe(((1 - smooth) * base[i]!) / 8 + smooth * base[i]!);
        expect(inv[i]!).toBeGreaterThan(base[i]! / 8);
        expect(inv[i]!).toBeLessThan(base[i]!);
        smoothed++;
      }
    }
    // For θ0 = 500000, d = 128: pairs 0–28 kept, 29–34 smoothed, 35–63 divided.
    expect([kept, smoothed, divided]).toEqual([29, 6, 29]);
    const r = thetaForTarget({ ...LLAMA3, rule: 'llama3', targetLength: 131072 });
    expect(r.theta).toBe(500000);
    expect(r.ropeScaling).toEqual({ type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
  });

  it('fixed NTK-aware: θ0 · s^(d/(d−2))', () => {
    const r = thetaForTarget({ ...LLAMA3, rule: 'ntk', targetLength: 65536 });
    expect(r.exactTheta).toBe(500000 * 8 ** (128 / 126));
    expect(r.theta).toBe(Math.round(500000 * 8 ** (128 / 126)));
  });

  it('manual passes the theta through', () => {
    const r = thetaForTarget({ ...LLAMA3, rule: 'manual', theta: 200_000_000, targetLength: 81920 });
    expect(r.theta).toBe(200_000_000);
    expect(r.explanation).toContain('given');
  });
});

describe('inverse: longest context a theta supports (critical dimension)', () => {
  it('Gradient 1048K theta supports exactly 2^20 (with the rule\u2019s rounding) and 2π·θ^(d_extra/d) ≈ 2^20', () => {
    expect(criticalDimSupportedLength({ ...LLAMA3, theta: 3_580_165_449 })).toBe(2 ** 20);
    expect(criticalDimMaxContext({ ...LLAMA3, theta: 3_580_165_449 })).toBeCloseTo(2 ** 20, 3);
    expect(criticalDimMaxContext({ ...LLAMA3, theta: 500000 })).toBeCloseTo(8192, 6);
  });

  it('property: theta → max context → theta round-trips', () => {
    fc.assert(
      fc.property(fc.integer({ min: 8192, max: 2 ** 26 }), fc.boolean(), (t, even) => {
        const theta = criticalDimTheta({ ...LLAMA3, targetLength: t, roundUpEven: even });
        const back = criticalDimMaxContext({ ...LLAMA3, theta, roundUpEven: even });
        expect(Math.abs(back - t) / t).toBeLessThan(1e-9);
        const rounded = Math.round(theta);
        const supported = criticalDimSupportedLength({ ...LLAMA3, theta: rounded, roundUpEven: even });
        expect(supported).toBeGreaterThanOrEqual(t);
        expect(Math.round(criticalDimTheta({ ...LLAMA3, targetLength: supported + 1, roundUpEven: even }))).toBeGreaterThan(rounded);
      }),
      { numRuns: 200 },
    );
  });
});

describe('property: a longer target never gives a smaller theta', () => {
  const base = fc.record({
    theta0: fc.integer({ min: 10_000, max: 10_000_000 }),
    headDim: fc.constantFrom(64, 80, 96, 128, 256),
    originalLength: fc.integer({ min: 1024, max: 32768 }),
  });
  const lengths = fc.tuple(fc.integer({ min: 1, max: 2 ** 24 }), fc.integer({ min: 1, max: 2 ** 24 })).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);
  const rules = ['manual', 'ntk', 'dynamic-ntk', 'critical-dim', 'critical-dim-even', 'yarn', 'llama3'] as const;

  for (const rule of rules) {
    it(rule, () => {
      fc.assert(
        fc.property(base, lengths, fc.integer({ min: 1, max: 16 }), (b, [short, long], alpha) => {
          const req = (t: number): ThetaRequest =>
            rule === 'manual'
              ? { ...b, rule, theta: 1e8, targetLength: t }
              : rule === 'dynamic-ntk'
                ? { ...b, rule, alpha, targetLength: t }
                : { ...b, rule, targetLength: t };
          const a = thetaForTarget(req(short));
          const c = thetaForTarget(req(long));
          expect(c.theta).toBeGreaterThanOrEqual(a.theta);
          expect(c.exactTheta).toBeGreaterThanOrEqual(a.exactTheta);
        }),
        { numRuns: 100 },
      );
    });
  }

  it('the raw formulas too (ntk, dynamic, critical-dim)', () => {
    fc.assert(
      fc.property(base, lengths, (b, [short, long]) => {
        expect(ntkTheta({ ...b, targetLength: long })).toBeGreaterThanOrEqual(ntkTheta({ ...b, targetLength: short }));
        expect(dynamicNtkTheta({ ...b, alpha: 4, targetLength: long })).toBeGreaterThanOrEqual(dynamicNtkTheta({ ...b, alpha: 4, targetLength: short }));
        expect(criticalDimTheta({ ...b, targetLength: long })).toBeGreaterThanOrEqual(criticalDimTheta({ ...b, targetLength: short }));
      }),
      { numRuns: 100 },
    );
  });
});

describe('bad inputs', () => {
  it('throws LongctxError with a code and the field', () => {
    const e = (() => {
      try {
        thetaForTarget({ ...LLAMA3, headDim: 127, rule: 'ntk', targetLength: 65536 });
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(LongctxError);
    expect((e as LongctxError).code).toBe('INVALID_HEAD_DIM');
    expect((e as LongctxError).field).toBe('headDim');
    expect(() => thetaForTarget({ ...LLAMA3, rule: 'critical-dim', targetLength: 0 })).toThrow(/targetLength/);
    expect(() => dynamicNtkChain({ ...LLAMA3, lengths: [65536, 65536], alpha: 4 })).toThrow(/longer than the one before/);
    expect(() => ropeInvFreq(1, 128)).toThrow(/theta/);
  });

  it('targets inside the original context keep θ0', () => {
    for (const rule of ['ntk', 'dynamic-ntk', 'critical-dim'] as const) {
      expect(thetaForTarget({ ...LLAMA3, rule, targetLength: 4096 }).theta).toBe(500000);
    }
  });
});
