import { getTokenizer } from '@ctxlab/tokenizers';
import { withPeakMemory, type BenchResult } from '@ctxlab/bench';
import { loadCorpusFromTexts } from '../src/corpus';
import { generateNiahCells, naiveCellOrder, planNiahCells, resolveNiahSpec, type NiahCellKey } from '../src/engine';
import { loadDefaultCorpus } from '../src/node/default-corpora';
import { PrefixCacheSimulator } from '../src/prefix-cache';

const SUITE = 'niah';

/**
 * The time and peak memory to build every prompt of Gradient's grid (14 lengths up to 1,126,875 tokens × 6
 * depths) from a cold corpus, and prefill tokens of 360Zhinao's grid under the vLLM-style
 * prefix-cache simulator for our sweep order vs the naive one.
 */
export default async function (): Promise<BenchResult[]> {
  const rows: BenchResult[] = [];
  const en = loadDefaultCorpus('sotu-en');

  // Gradient's grid, cold: a fresh corpus object means a fresh token index (tokenised on demand).
  const tokenizer = getTokenizer('llama3');
  const coldEn = loadCorpusFromTexts('sotu-en', en.documents, { language: 'en' });
  const gradient = resolveNiahSpec({ variant: 'value', tokenizer: 'llama3', grid: { preset: 'gradient' } });
  let built = 0;
  let tokens = 0;
  let offTarget = 0;
  const build = await withPeakMemory(() => {
    for (const cell of generateNiahCells(gradient, { corpus: coldEn, tokenizer })) {
      built++;
      tokens += cell.promptTokens;
      if (cell.lengthError !== 0) offTarget++;
    }
  });
  rows.push({
    suite: SUITE,
    name: `build Gradient grid (${built} prompts, ${(tokens / 1e6).toFixed(1)}M tokens, corpus tokenised cold)`,
    value: build.ms / 1000,
    unit: 's',
    target: '< 5 s',
    pass: build.ms < 5000,
  });
  rows.push({ suite: SUITE, name: 'build Gradient grid: peak RSS growth', value: build.peakRssMb, unit: 'MB' });
  rows.push({ suite: SUITE, name: 'build Gradient grid: prompts off the requested length', value: offTarget, unit: 'prompts', target: '0', pass: offTarget === 0 });

  // 360Zhinao's grid (10 lengths to 360,000 × 21 depths, value retrieval) under the simulator.
  const zhinao = resolveNiahSpec({ variant: 'value', tokenizer: 'llama3', grid: { preset: '360zhinao' } });
  const maxLen = Math.max(...zhinao.lengths);
  const capacities = { tight: Math.ceil(maxLen * 1.1), roomy: maxLen * 8 };
  const simulate = (order: NiahCellKey[]) => {
    const sims = { tight: new PrefixCacheSimulator({ blockSize: 16, capacityTokens: capacities.tight }), roomy: new PrefixCacheSimulator({ blockSize: 16, capacityTokens: capacities.roomy }) };
    const out = { tight: 0, roomy: 0, prompt: 0, bound: 0, maxFirst: 0 };
    for (const cell of generateNiahCells(zhinao, { corpus: en, tokenizer }, { cells: order })) {
      out.tight += sims.tight.process(cell.promptIds).prefillTokens;
      out.roomy += sims.roomy.process(cell.promptIds).prefillTokens;
      out.prompt += cell.promptTokens;
      const first = cell.needleTokenPositions[0] ?? cell.promptTokens;
      out.bound += cell.promptTokens - first;
      out.maxFirst = Math.max(out.maxFirst, first);
    }
    return out;
  };
  const ours = simulate(planNiahCells(zhinao));
  const naive = simulate(naiveCellOrder(zhinao));
  const lowerBound = ours.bound + ours.maxFirst;
  rows.push({ suite: SUITE, name: `360Zhinao grid prefill, our order (cache ${capacities.tight} tokens)`, value: ours.tight, unit: 'tokens' });
  rows.push({ suite: SUITE, name: `360Zhinao grid prefill, naive length↑ depth↑ order (cache ${capacities.tight} tokens)`, value: naive.tight, unit: 'tokens' });
  rows.push({
    suite: SUITE,
    name: '360Zhinao grid prefill ours / naive (tight cache)',
    value: ours.tight / naive.tight,
    unit: '×',
    target: '≤ 0.6×',
    pass: ours.tight / naive.tight <= 0.6,
    note: 'each cell must prefill everything after its needle under any order; see README',
  });
  rows.push({ suite: SUITE, name: `360Zhinao grid prefill ours / naive (cache ${capacities.roomy} tokens)`, value: ours.roomy / naive.roomy, unit: '×' });
  rows.push({ suite: SUITE, name: '360Zhinao grid prefill ours / no prefix cache (tight cache)', value: ours.tight / ours.prompt, unit: '×', note: `${ours.prompt} prompt tokens in all` });
  rows.push({ suite: SUITE, name: '360Zhinao grid prefill ours / lower bound (tight cache)', value: ours.tight / lowerBound, unit: '×', note: `lower bound ${lowerBound}: longest shared prefix once + every tail after its needle` });
  return rows;
}
