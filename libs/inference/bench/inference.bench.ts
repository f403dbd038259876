import { getTokenizer } from '@ctxlab/tokenizers';
import { flopsPerToken } from '@ctxlab/longctx';
import { loadDefaultCorpus } from '@ctxlab/niah/node';
import type { BenchResult } from '@ctxlab/bench';
import { loadCard } from '../src/card';
import { generate, releaseSessions, session } from '../src/engine';
import { matmulGflops } from './matmul-roofline';

const SUITE = 'inference';
const LENGTHS = [1024, 2048, 4096];
const THREADS = [1, 2];
const RUNS = 5;
const NEW_TOKENS = 32;
/** The two stages share one architecture: their throughputs should agree within this share. */
const STAGE_AGREEMENT = 0.1;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * The lab models on onnxruntime-node (CPU) as the model server runs them, with ORT_THREADS = 1 and
 * 2: prefill and cached-decode tokens per second at 1K, 2K and 4K tokens of context, each measured
 * after an untimed warm-up run of the same shape (the first run of a session pays for allocation
 * and kernel selection), median of 5. Beside them, a plain 1024³ matrix multiply on the same runtime
 * and thread count: the share of its GFLOP/s that each forward pass reaches (FLOPs per token from
 * the planner's formula, forward = a third of training's 6N + 12·layers·d·L, causal attention over
 * the prompt for prefill, the whole context for each decoded token).
 */
export default async function (): Promise<BenchResult[]> {
  const card = loadCard();
  const tok = getTokenizer('byte');
  const text = loadDefaultCorpus('sotu-en').text;
  const rows: BenchResult[] = [];
  for (const threads of THREADS) {
    const gflops = await matmulGflops(threads);
    rows.push({ suite: SUITE, name: `matrix multiply 1024³, ${threads} thread${threads > 1 ? 's' : ''}`, value: gflops, unit: 'GFLOP/s', note: 'onnxruntime-node MatMul, float32, median of 7 after warm-up' });
    const measured = new Map<string, { prefill: number; decode: number }>();
    for (const st of card.stages) {
      const s = await session(`${card.dir}/${st.file}`, threads);
      for (const n of LENGTHS) {
        const ids = [tok.special.bos.id, ...tok.encode(text.slice(100_000, 100_000 + n * 2)).slice(0, n - 1)];
        const run = () => generate(s, card, ids, { theta: st.ropeTheta, maxNewTokens: NEW_TOKENS, stopIds: [] });
        await run();
        const prefill: number[] = [];
        const decode: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          const g = await run();
          prefill.push(ids.length / (g.prefillMs / 1000));
          decode.push((g.ids.length - 1) / (g.decodeMs / 1000));
        }
        const m = { prefill: median(prefill), decode: median(decode) };
        measured.set(`${st.stage}@${n}`, m);
        const where = `${threads} thread${threads > 1 ? 's' : ''}`;
        const prefillFlops = (flopsPerToken(card, n, { attention: 'causal' }).total / 3) * m.prefill;
        const decodeFlops = (flopsPerToken(card, n, { attention: 'full' }).total / 3) * m.decode;
        rows.push({ suite: SUITE, name: `lab stage ${st.stage} prefill @${n}, ${where}`, value: m.prefill, unit: 'tokens/s', note: `${(prefillFlops / 1e9).toFixed(2)} GFLOP/s = ${((100 * prefillFlops) / (gflops * 1e9)).toFixed(1)}% of the matrix multiply` });
        rows.push({ suite: SUITE, name: `lab stage ${st.stage} decode @${n}, ${where}`, value: m.decode, unit: 'tokens/s', note: `${NEW_TOKENS - 1} cached steps; ${(decodeFlops / 1e9).toFixed(3)} GFLOP/s = ${((100 * decodeFlops) / (gflops * 1e9)).toFixed(2)}% of the matrix multiply` });
        rows.push({ suite: SUITE, name: `lab stage ${st.stage} prefill @${n}, ${where}: share of the matrix multiply`, value: prefillFlops / (gflops * 1e9), unit: '×' });
      }
    }
    const [first, second] = card.stages;
    if (first && second) {
      for (const n of LENGTHS) {
        const a = measured.get(`${first.stage}@${n}`)!;
        const b = measured.get(`${second.stage}@${n}`)!;
        for (const phase of ['prefill', 'decode'] as const) {
          const ratio = b[phase] / a[phase];
          rows.push({
            suite: SUITE,
            name: `stage ${second.stage} / stage ${first.stage} ${phase} @${n}, ${threads} thread${threads > 1 ? 's' : ''}`,
            value: ratio,
            unit: '×',
            target: `within ${STAGE_AGREEMENT * 100}% of 1`,
            pass: Math.abs(ratio - 1) <= STAGE_AGREEMENT,
          });
        }
      }
    }
    await releaseSessions();
  }
  return rows;
}
