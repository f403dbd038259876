import { describe, expect, it } from 'vitest';
import { resultsToCsv, suiteCellsToCsv } from './results';

describe('suite cell exports', () => {
  it('puts the task first and quotes fields as RFC 4180 says', () => {
    const csv = suiteCellsToCsv([
      { task: 'niah_multikey_2', length: 4096, depth: 0.333, sample: 0, promptTokens: 4090, expected: '1234 | 5678', response: 'say "1234", 5678', score: 100, latencyMs: 12.6, attempts: 1, error: null },
      { task: 'vt', length: 4096, depth: 0, sample: 1, promptTokens: null, expected: 'X', response: null, score: null, latencyMs: null, attempts: 3, error: 'http: HTTP 500 (after 3 attempts)' },
    ]);
    expect(csv).toBe(
      'task,length,depth,depth_percent,sample,prompt_tokens,expected,response,score,latency_ms,attempts,error\r\n' +
        'niah_multikey_2,4096,0.333,33.3,0,4090,1234 | 5678,"say ""1234"", 5678",100,13,1,\r\n' +
        'vt,4096,0,0,1,,X,,,,3,http: HTTP 500 (after 3 attempts)\r\n',
    );
  });

  it('leaves the NIAH export as it was', () => {
    const csv = resultsToCsv([{ cellId: 'L1000-D50-S0', length: 1000, depth: 0.5, sample: 0, promptTokens: 998, needle: 'n, "q"', expected: ['42', '43'], response: 'r', score: 50, latencyMs: 10.4, error: null }]);
    expect(csv).toBe('cell_id,length,depth,depth_percent,sample,prompt_tokens,needle,expected,response,score,latency_ms,error\r\nL1000-D50-S0,1000,0.5,50,0,998,"n, ""q""",42 | 43,r,50,10,\r\n');
  });
});
