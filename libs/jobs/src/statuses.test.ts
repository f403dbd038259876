import { describe, expect, it } from 'vitest';
import { canCancel, canRetry, canStart, canTransition, isFinal, TRANSITIONS } from './statuses';

describe('job statuses', () => {
  it('final statuses are final', () => {
    expect(['succeeded', 'failed', 'cancelled'].every((s) => isFinal(s as never))).toBe(true);
    expect(TRANSITIONS.succeeded).toEqual([]);
  });
  it('cancel, retry and start follow the diagram', () => {
    expect(canCancel('running')).toBe(true);
    expect(canCancel('succeeded')).toBe(false);
    expect(canRetry('failed')).toBe(true);
    expect(canRetry('running')).toBe(false);
    expect(canStart('running')).toBe(true); // resume after a worker died
    expect(canStart('cancelled')).toBe(false);
    expect(canTransition('queued', 'succeeded')).toBe(false);
    expect(canTransition('failed', 'queued')).toBe(true);
  });
});
