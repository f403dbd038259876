import type { NiahCellResult } from '@ctxlab/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAIClient } from './client';
import { generateNiahCells, planNiahCells, resolveNiahSpec } from './engine';
import { loadNiahContext } from './node/context';
import { heatmapData, resultsToCsv, toGkamradtResults } from './results';
import { runNiahCells } from './run';
import { heatmapSvg } from '@ctxlab/contracts';
import { startOpenAITestServer, type OpenAITestServer } from './testing/openai-test-server';

let server: OpenAITestServer;
beforeAll(async () => {
  // The "model" misses every needle in prompts of 5,000 tokens or more.
  server = await startOpenAITestServer({ tokenizer: 'llama3', blindSpots: [{ minTokens: 5000 }] });
});
afterAll(() => server.close());

const spec = resolveNiahSpec({
  variant: 'value',
  tokenizer: 'llama3',
  grid: { lengths: { kind: 'list', values: [1200, 2500, 6000] }, depths: { kind: 'list', values: [0, 0.5, 1] } },
  seed: 3,
});
const ctx = () => loadNiahContext(spec);

describe('running a grid against an OpenAI-compatible server', () => {
  let results: NiahCellResult[];
  let doomed: string;

  beforeAll(async () => {
    // One cell's requests always die mid-connection: it must end up failed, not scored.
    const plan = planNiahCells(spec);
    doomed = plan[4]!.id;
    const doomedQuestion = [...generateNiahCells(spec, ctx(), { cells: [plan[4]!] })][0]!.messages.at(-1)!.content;
    server.setBehaviour((req) => {
      const msgs = (req.body as { messages?: { content: string }[] }).messages;
      return msgs?.at(-1)?.content === doomedQuestion ? { kind: 'reset' } : { kind: 'answer' };
    });
    const client = new OpenAIClient({ baseUrl: server.url, model: server.model, concurrency: 3, maxAttempts: 2, sleep: async () => {} });
    results = await runNiahCells(generateNiahCells(spec, ctx()), client);
  });

  it('scores answers by what the model found, and never scores a failed request', () => {
    expect(results).toHaveLength(9);
    const failed = results.filter((r) => r.error !== null);
    expect(failed.map((r) => r.cellId)).toEqual([doomed]);
    for (const r of failed) {
      expect(r.score).toBeNull();
      expect(r.response).toBeNull();
      expect(r.error).toMatch(/network|reset|socket|terminated|fetch failed/i);
    }
    for (const r of results.filter((x) => x.error === null)) {
      expect(r.score).toBe(r.length >= 5000 ? 0 : 100);
      expect(r.response).not.toBeNull();
    }
  });

  it('counts prompts exactly as the server does (same tokenizer, same template)', () => {
    const served = server.requests.filter((r) => r.promptTokens !== undefined && r.behaviour === 'answer');
    expect(served.length).toBeGreaterThanOrEqual(8);
    expect(new Set(served.map((r) => r.promptTokens))).toEqual(new Set([1200, 2500, 6000]));
  });

  it('sends exact token ids to /v1/completions', async () => {
    server.setBehaviour({ kind: 'answer' });
    server.requests.length = 0;
    const client = new OpenAIClient({ baseUrl: server.url, model: server.model, concurrency: 2 });
    const small = resolveNiahSpec({ variant: 'value', tokenizer: 'llama3', grid: { lengths: { kind: 'list', values: [1500] }, depths: { kind: 'list', values: [0.3, 0.9] } } });
    const r = await runNiahCells(generateNiahCells(small, ctx()), client, { mode: 'completion-ids' });
    expect(r.map((x) => x.score)).toEqual([100, 100]);
    expect(server.requests.map((q) => q.path)).toEqual(['/v1/completions', '/v1/completions']);
    expect(server.requests.map((q) => q.promptTokens)).toEqual([1500, 1500]);
  });

  it('exports CSV, gkamradt result files, heatmap data and an SVG heatmap', () => {
    const csv = resultsToCsv(results);
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('cell_id,length,depth,depth_percent,sample,prompt_tokens,needle,expected,response,score,latency_ms,error');
    expect(lines).toHaveLength(10);

    const { files, skipped } = toGkamradtResults(results, { model: 'lab.model-v1', timestamp: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)) });
    expect(skipped).toEqual([doomed]);
    expect(files).toHaveLength(8);
    const f = files.find((x) => x.record.context_length === 2500 && x.record.depth_percent === 50)!;
    expect(f.fileName).toBe('lab_model-v1_len_2500_depth_5000_results.json');
    expect(Object.keys(f.record)).toEqual([
      'model',
      'context_length',
      'depth_percent',
      'version',
      'needle',
      'model_response',
      'score',
      'test_duration_seconds',
      'test_timestamp_utc',
    ]);
    expect(f.record.test_timestamp_utc).toBe('2026-01-02 03:04:05+0000');

    const h = heatmapData(results);
    expect(h.lengths).toEqual([1200, 2500, 6000]);
    expect(h.depths).toEqual([0, 0.5, 1]);
    const failed = results.find((r) => r.cellId === doomed)!;
    expect(h.matrix[h.depths.indexOf(failed.depth)]![h.lengths.indexOf(failed.length)]).toBeNull();
    expect(h.failed).toBe(1);
    const scored = h.matrix.flat().filter((v): v is number => v !== null);
    expect(h.average).toBeCloseTo(scored.reduce((a, b) => a + b, 0) / scored.length, 10);

    const svg = heatmapSvg(h, { name: 'lab-model' });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain(`Avg score ${h.average!.toFixed(2)}`);
    expect(svg).toContain('Token Limit');
    expect(svg).toContain('data-missing="true"');
    expect(svg).toContain('#0cd79f');
    expect(svg).toContain('#f0496e');
    // Depth 0 is the top row.
    const y = (d: number) => Number(new RegExp(`y="(\\d+)"[^>]*data-depth="${d}"`).exec(svg)![1]);
    expect(y(0)).toBeLessThan(y(1));
  });
});
