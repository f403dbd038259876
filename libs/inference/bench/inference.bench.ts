import { getTokenizer } from '@ctxlab/tokenizers';
import { loadDefaultCorpus } from '@ctxlab/niah/node';
import type { BenchResult } from '@ctxlab/bench';
import { loadCard } from '../src/card';
import { generate, releaseSessions, session } from '../src/engine';

const SUITE = 'inference';

/**
 * The lab models on onnxruntime-node (CPU, 1 intra-op thread, as the model server runs them):
 * prefill and cached-decode throughput at 1K, 2K and 4K tokens of context, median of 3 runs.
 */
export default async function (): Promise<BenchResult[]> {
  const card = loadCard();
  const tok = getTokenizer('byte');
  const text = loadDefaultCorpus('sotu-en').text;
  const rows: BenchResult[] = [];
  for (const st of card.stages) {
    const s = await session(`${card.dir}/${st.file}`, 1);
    for (const n of [1024, 2048, 4096]) {
      const ids = [tok.special.bos.id, ...tok.encode(text.slice(100_000, 100_000 + n * 2)).slice(0, n - 1)];
      const prefill: number[] = [];
      const decode: number[] = [];
      for (let i = 0; i < 3; i++) {
        const g = await generate(s, card, ids, { theta: st.ropeTheta, maxNewTokens: 32, stopIds: [] });
        prefill.push(ids.length / (g.prefillMs / 1000));
        decode.push((g.ids.length - 1) / (g.decodeMs / 1000));
      }
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
      rows.push({ suite: SUITE, name: `lab stage ${st.stage} prefill @${n}`, value: med(prefill), unit: 'tokens/s', note: `${n} tokens, 1 thread` });
      rows.push({ suite: SUITE, name: `lab stage ${st.stage} decode @${n}`, value: med(decode), unit: 'tokens/s', note: `31 cached steps after a ${n}-token prefill, 1 thread` });
    }
  }
  await releaseSessions();
  return rows;
}
