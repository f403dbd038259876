import { describe, expect, it } from 'vitest';
import { failedCellsMessage, toCellResult } from './results';
import type { NiahCell } from './engine';

const cell = { id: 'L1000-D0.5-S0', length: 1000, depth: 0.5, sample: 0, promptTokens: 1000, needle: 'n', expected: ['42'] } as unknown as NiahCell;

describe('failed cells say once what happened', () => {
  it("a cell's error counts its own attempts, in words", () => {
    expect(toCellResult(cell, { ok: false, kind: 'http', error: 'HTTP 400: too long', status: 400, latencyMs: 3, attempts: 1 }).error).toBe('http: HTTP 400: too long (after 1 attempt)');
    expect(toCellResult(cell, { ok: false, kind: 'http', error: 'HTTP 500: boom', status: 500, latencyMs: 3, attempts: 5 }).error).toBe('http: HTTP 500: boom (after 5 attempts)');
  });

  it('the run names the attempts the cells really took and quotes the last error without a second count', () => {
    const e500 = 'http: HTTP 500: CUDA out of memory (after 5 attempts)';
    expect(failedCellsMessage(220, [e500, e500, e500])).toBe('3 of 220 cells failed after 5 attempts each; last error: http: HTTP 500: CUDA out of memory');
    // A 400 is not retried: "after 1 attempt", not the configured 5.
    expect(failedCellsMessage(220, ['http: HTTP 400: too long (after 1 attempt)'])).toBe('1 of 220 cells failed after 1 attempt; last error: http: HTTP 400: too long');
    expect(failedCellsMessage(9, ['http: HTTP 400: too long (after 1 attempt)', e500])).toBe('2 of 9 cells failed after 1 to 5 attempts; last error: http: HTTP 500: CUDA out of memory');
    // Errors that do not count attempts (written elsewhere): no claim about attempts at all.
    expect(failedCellsMessage(4, ['engine: differs at 3'])).toBe('1 of 4 cells failed; last error: engine: differs at 3');
  });
});
