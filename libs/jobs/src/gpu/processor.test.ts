import { describe, expect, it } from 'vitest';
import { progressTracker } from './processor';

describe('GPU job progress from tool output', () => {
  it('reads the trainer\'s steps and loss into a curve', () => {
    const t = progressTracker(Date.now() - 10_000);
    expect(t.take()).toBeNull();
    t.line('stage 2 theta 40000 params 820736');
    expect(t.take()).toBeNull();
    t.line('step 1/4 len 1024 bs 2 loss_ans 3.2100 (ema 3.2100) loss_lm 5.1 lr 1.00e-03');
    t.line('step 2/4 len 1024 bs 2 loss_ans 2.5000 (ema 3.0000) loss_lm 5.0 lr 1.00e-03');
    const p = t.take()!;
    expect(p).toMatchObject({ done: 2, total: 4, unit: 'steps', loss: 2.5, curve: [[1, 3.21], [2, 2.5]] });
    expect(p.etaSeconds).toBeGreaterThan(9);
    expect(t.take()).toBeNull();
  });

  it('reads lora.py modules and tqdm bars, ignores counts that are not progress', () => {
    const t = progressTracker();
    t.line('module 3/28 model.layers.0.self_attn.v_proj rank 8 rel_error 0.41 energy 0.83');
    expect(t.take()).toMatchObject({ done: 3, total: 28, unit: 'modules', loss: null, curve: [] });
    t.line('Extracting LoRA:  50%|█████     | 112/224 [00:10<00:10, 11.2it/s]');
    expect(t.take()).toMatchObject({ done: 112, total: 224, unit: 'items' });
    t.line('ratio 9/4 of something');
    t.line('step 5/4 is not a step');
    expect(t.take()).toBeNull();
  });

  it('thins a long curve instead of growing without bound', () => {
    const t = progressTracker();
    for (let i = 1; i <= 5000; i++) t.line(`step ${i}/5000 loss ${(10 / i).toFixed(4)}`);
    const p = t.take()!;
    expect(p.curve.length).toBeLessThanOrEqual(240);
    expect(p.curve.at(-1)).toEqual([5000, 0.002]);
    expect(p.curve[0]![0]).toBe(1);
  });
});
