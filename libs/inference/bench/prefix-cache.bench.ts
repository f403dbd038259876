import { median, repeated, type BenchResult } from '@ctxlab/bench';
import { generateNiahCells, naiveCellOrder, type NiahCell, type NiahCellKey, planNiahCells, PrefixCacheSimulator, resolveNiahSpec } from '@ctxlab/niah';
import { loadDefaultCorpus } from '@ctxlab/niah/node';
import { getTokenizer } from '@ctxlab/tokenizers';
import { startLabServer } from '../src/server';

const SUITE = 'prefix-cache';
const MODEL = 'lab-stage2';
const BLOCK = 16;
/** The niah bench's "tight" cache: 1.1 × the longest prompt. */
const TIGHT = 1.1;
const LENGTHS = [256, 512, 1024, 2048];
const DEPTHS = [0, 0.25, 0.5, 0.75, 1];
/** The answer's digits need more, but decoding costs every order the same: the prefill is what differs. */
const MAX_TOKENS = 8;
const THREADS = 1;
const RUNS = 5;
const CONCURRENCY = 4;

type Server = Awaited<ReturnType<typeof startLabServer>>;
type Usage = { prompt_tokens: number; prompt_tokens_details?: { cached_tokens: number } };

async function metrics(srv: Server): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await (await fetch(`${srv.url}/metrics`)).text()).split('\n')) {
    if (line && !line.startsWith('#')) out.set(line.split(' ')[0]!, Number(line.split(' ')[1]));
  }
  return out;
}

async function post(srv: Server, path: string, body: unknown): Promise<Response> {
  const res = await fetch(`${srv.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res;
}

/** One pass over the cells (token-id prompts on /v1/completions), `concurrency` requests in flight. */
async function sweep(srv: Server, cells: readonly NiahCell[], concurrency: number) {
  if (srv.prefixCache) await post(srv, '/reset_prefix_cache', {});
  const before = await metrics(srv);
  const cached = new Array<number>(cells.length).fill(0);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < cells.length) {
        const i = next++;
        const res = await post(srv, '/v1/completions', { model: MODEL, prompt: Array.from(cells[i]!.promptIds), max_tokens: MAX_TOKENS, temperature: 0 });
        cached[i] = ((await res.json()) as { usage: Usage }).usage.prompt_tokens_details?.cached_tokens ?? 0;
      }
    }),
  );
  const wallS = (performance.now() - t0) / 1000;
  const after = await metrics(srv);
  const delta = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
  return { wallS, prefillS: delta('ctxlab:prefill_seconds_total'), prefilled: delta('ctxlab:prefill_tokens_total'), hits: delta('vllm:prefix_cache_hits_total'), cached };
}

/**
 * The prefix-cache simulator (libs/niah) against the lab server's real prefix cache, on a NIAH
 * grid the lab model reads (byte tokens, the lab prompt layout 'single', lengths 256 … 2048 × 5
 * depths, lab-stage2, ORT_THREADS 1): the cells go over HTTP one at a time in the naive order and in
 * planNiahCells' order, the cache emptied before each pass, and the server's prefilled tokens (its
 * /metrics counter, and per request usage.prompt_tokens_details) must equal the simulator's
 * prediction to the token. Beside them: wall time of each pass (median of 5 interleaved rounds after
 * a warm-up round) against the same cells on a server without the cache, and one pass with 4
 * requests in flight, where the one-at-a-time prediction no longer holds (see its note).
 */
export default async function (): Promise<BenchResult[]> {
  const spec = resolveNiahSpec({
    variant: 'value',
    tokenizer: 'byte',
    grid: { lengths: { kind: 'list', values: LENGTHS }, depths: { kind: 'list', values: DEPTHS } },
    options: { layout: 'single', maxTokens: MAX_TOKENS },
  });
  const ctx = { corpus: loadDefaultCorpus('sotu-en'), tokenizer: getTokenizer('byte') };
  const build = (order: NiahCellKey[]) => [...generateNiahCells(spec, ctx, { cells: order })];
  const orders = { naive: build(naiveCellOrder(spec)), planned: build(planNiahCells(spec)) };
  const promptTokens = orders.naive.reduce((s, c) => s + c.promptTokens, 0);
  const longest = Math.max(...orders.naive.map((c) => c.promptTokens));
  const capacityTokens = Math.ceil(longest * TIGHT);
  const predict = (cells: readonly NiahCell[]) => {
    const sim = new PrefixCacheSimulator({ blockSize: BLOCK, capacityTokens });
    return cells.map((c) => sim.process(c.promptIds).prefillTokens);
  };
  const predicted = { naive: predict(orders.naive), planned: predict(orders.planned) };
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

  const cachedSrv = await startLabServer({ threads: THREADS, prefixCache: { capacityTokens, blockSize: BLOCK } });
  const plainSrv = await startLabServer({ threads: THREADS });
  const passes = {
    'no cache': () => sweep(plainSrv, orders.naive, 1),
    naive: () => sweep(cachedSrv, orders.naive, 1),
    planned: () => sweep(cachedSrv, orders.planned, 1),
    [`planned, ${CONCURRENCY} in flight`]: () => sweep(cachedSrv, orders.planned, CONCURRENCY),
  };
  type Pass = keyof typeof passes;
  type Sweep = Awaited<ReturnType<typeof sweep>>;
  const runs = new Map<Pass, Sweep[]>();
  try {
    // One round = every pass once, in turn: a warm-up round, then RUNS timed ones.
    const rounds = await repeated(
      async () => {
        const round = new Map<Pass, Sweep>();
        for (const [name, pass] of Object.entries(passes) as [Pass, () => Promise<Sweep>][]) round.set(name, await pass());
        return round;
      },
      { runs: RUNS, warmup: 1 },
    );
    for (const name of Object.keys(passes) as Pass[]) runs.set(name, rounds.results.map((r) => r.get(name)!));
  } finally {
    await cachedSrv.close();
    await plainSrv.close();
  }

  const rows: BenchResult[] = [];
  const where = `${orders.naive.length} cells (lengths ${LENGTHS.join('/')} × ${DEPTHS.length} depths, byte tokens, ${promptTokens} prompt tokens), cache ${capacityTokens} tokens = ${TIGHT} × the longest prompt (${Math.floor(capacityTokens / BLOCK)} blocks of ${BLOCK})`;
  const wall = (p: Pass) => median(runs.get(p)!.map((r) => r.wallS));
  const prefillS = (p: Pass) => median(runs.get(p)!.map((r) => r.prefillS));
  const table: string[][] = [['pass', 'predicted prefill', 'measured prefilled', 'measured − predicted', 'wall s (median)', 'prefill s (median)']];

  const plain = runs.get('no cache')!;
  rows.push({ suite: SUITE, name: 'no cache: prefilled tokens', value: plain[0]!.prefilled, unit: 'tokens', target: `= ${promptTokens} (every prompt token)`, pass: plain.every((r) => r.prefilled === promptTokens), note: where });
  rows.push({ suite: SUITE, name: 'no cache: wall time', value: wall('no cache'), unit: 's', note: `median of ${RUNS}; ${MAX_TOKENS} tokens decoded per cell, ORT_THREADS ${THREADS}; prefill ${prefillS('no cache').toFixed(2)} s` });
  table.push(['no cache', String(promptTokens), String(plain[0]!.prefilled), String(plain[0]!.prefilled - promptTokens), wall('no cache').toFixed(2), prefillS('no cache').toFixed(2)]);

  for (const order of ['naive', 'planned'] as const) {
    const rs = runs.get(order)!;
    const want = sum(predicted[order]);
    // Every round, request by request: the usage's cached tokens are the simulator's.
    const offRequests = rs.map((r) => r.cached.filter((c, i) => orders[order][i]!.promptTokens - c !== predicted[order][i]).length);
    const diffs = rs.map((r) => r.prefilled - want);
    const worst = diffs.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a), 0);
    const label = order === 'naive' ? 'naive order (length↑ depth↑)' : 'planNiahCells order';
    const ok = diffs.every((d) => d === 0) && offRequests.every((n) => n === 0);
    rows.push({ suite: SUITE, name: `${label}: simulator's predicted prefill`, value: want, unit: 'tokens', note: where });
    rows.push({
      suite: SUITE,
      name: `${label}: server's measured prefilled`,
      value: worst + want,
      unit: 'tokens',
      target: `= predicted (${want}), every round and request`,
      pass: ok,
      note:
        `ctxlab:prefill_tokens_total delta per round ${rs.map((r) => r.prefilled).join(', ')}; ` +
        (ok ? `equal to the prediction in all ${RUNS} rounds, request by request (usage.prompt_tokens_details.cached_tokens)` : `requests off the prediction per round: ${offRequests.join(', ')}; worst round ${worst > 0 ? '+' : ''}${worst} tokens`),
    });
    rows.push({ suite: SUITE, name: `${label}: wall time`, value: wall(order), unit: 's', note: `median of ${RUNS}; prefill ${prefillS(order).toFixed(2)} s` });
    rows.push({ suite: SUITE, name: `${label}: prefill tokens / no cache`, value: want / promptTokens, unit: '×' });
    rows.push({ suite: SUITE, name: `${label}: wall time / no cache`, value: wall(order) / wall('no cache'), unit: '×', note: `prefill time ${(prefillS(order) / prefillS('no cache')).toFixed(3)}×` });
    table.push([label, String(want), String(worst + want), String(worst), wall(order).toFixed(2), prefillS(order).toFixed(2)]);
  }
  rows.push({ suite: SUITE, name: 'planNiahCells / naive order: prefill tokens', value: sum(predicted.planned) / sum(predicted.naive), unit: '×' });
  rows.push({ suite: SUITE, name: 'planNiahCells / naive order: wall time', value: wall('planned') / wall('naive'), unit: '×', note: `prefill time ${(prefillS('planned') / prefillS('naive')).toFixed(3)}×` });

  // Overlapping requests: the one-at-a-time prediction is a model of a server that runs one sequence.
  const conc: Pass = `planned, ${CONCURRENCY} in flight`;
  const cs = runs.get(conc)!;
  const want = sum(predicted.planned);
  const measured = median(cs.map((r) => r.prefilled));
  const fewer = median(cs.map((r) => r.cached.filter((c, i) => orders.planned[i]!.promptTokens - c > predicted.planned[i]!).length));
  const more = median(cs.map((r) => r.cached.filter((c, i) => orders.planned[i]!.promptTokens - c < predicted.planned[i]!).length));
  rows.push({
    suite: SUITE,
    name: `planNiahCells order, ${CONCURRENCY} in flight: measured − predicted`,
    value: measured - want,
    unit: 'tokens',
    note:
      `measured ${measured} prefilled (median; rounds ${cs.map((r) => r.prefilled).join(', ')}) vs ${want} predicted one at a time; ` +
      `${fewer} of ${orders.planned.length} requests prefilled more than predicted, ${more} fewer. A block counts as cached only once the prefill that computes it ` +
      `has finished, so a request that arrives while the prefix it shares is still being prefilled computes that prefix again; ` +
      `requests are admitted, hit and evict in arrival order, not send order; blocks pinned by running requests cannot be evicted; ` +
      `a request that would need more than the empty + evictable blocks waits for one to finish. The simulator models none of this`,
  });
  rows.push({ suite: SUITE, name: `planNiahCells order, ${CONCURRENCY} in flight: wall time`, value: wall(conc), unit: 's', note: `median of ${RUNS}; ${(wall(conc) / wall('planned')).toFixed(3)}× the one-at-a-time pass (2-core machine, one onnxruntime session)` });
  table.push([conc, String(want), String(measured), String(measured - want), wall(conc).toFixed(2), prefillS(conc).toFixed(2)]);

  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  process.stderr.write(`\n${where}\n${table.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n')}\n\n`);
  return rows;
}
