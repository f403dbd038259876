import { loadDefaultCorpus } from '@ctxlab/niah/node';
import { getTokenizer } from '@ctxlab/tokenizers';
import { time, type BenchResult } from '@ctxlab/bench';
import { buildLongBenchPrompt, type LongBenchDataset, type LongBenchItem } from '../src/data/index';

const SUITE = 'capability-longbench';

/**
 * LongBench prompt building (pred.py: format, tokenise with BOS, keep the first and last
 * int(max_length/2) tokens, decode, chat template, tokenise again) with the Llama-3 tokenizer and
 * max_length 131,072. Items are synthesised from the shipped sotu-en corpus: contexts of
 * 800K–1.4M characters (about 180K–310K tokens, so every prompt is truncated), cut from different
 * offsets so no two prompts are alike, over a chat task (narrativeqa, qasper, gov_report) and a
 * plain one (lcc's template on prose: the cost does not depend on the content). Headline: items/s,
 * the median of 7 batches after 2 warm-up batches.
 */
export default async function (): Promise<BenchResult[]> {
  const rows: BenchResult[] = [];
  const tokenizer = getTokenizer('llama3');
  const corpus = loadDefaultCorpus('sotu-en');
  const text = corpus.text;
  const datasets: LongBenchDataset[] = ['narrativeqa', 'qasper', 'gov_report', 'lcc'];
  let next = 0;
  const synth = (chars: number): LongBenchItem => {
    const n = next++;
    const start = (n * 1_234_567) % (text.length - chars);
    const dataset = datasets[n % datasets.length]!;
    return {
      input: dataset === 'lcc' || dataset === 'gov_report' ? '' : `What did the speech of part ${n} say about the economy?`,
      context: text.slice(start, start + chars),
      answers: ['the economy grew'],
      length: Math.round(chars / 6),
      dataset,
      language: dataset === 'lcc' ? 'python' : 'en',
      all_classes: null,
      _id: `bench-${n}`,
    };
  };
  const opts = { tokenizer, maxLength: 131_072, chatTemplate: true };
  const BATCH = 4;

  // Cold: the first items (tokenizer caches, JIT).
  const coldItems = Array.from({ length: BATCH }, () => synth(800_000 + ((next * 97_331) % 600_000)));
  const cold = performance.now();
  let coldTokens = 0;
  for (const it of coldItems) coldTokens += buildLongBenchPrompt(it, opts).promptTokens;
  const coldMs = performance.now() - cold;
  rows.push({ suite: SUITE, name: `128K truncation, ${BATCH} items, cold`, value: coldMs, unit: 'ms', note: `${Math.round(coldTokens / BATCH)} prompt tokens/item` });

  let fullTokens = 0;
  let promptTokens = 0;
  let built = 0;
  const batch = Array.from({ length: 9 }, () => Array.from({ length: BATCH }, () => synth(800_000 + ((next * 97_331) % 600_000))));
  let b = 0;
  const t = await time(
    () => {
      for (const it of batch[b++]!) {
        const p = buildLongBenchPrompt(it, opts);
        if (!p.truncated) throw new Error('a benchmark item was expected to need truncation');
        fullTokens += p.fullTokens;
        promptTokens += p.promptTokens;
        built++;
      }
    },
    { iterations: 7, warmup: 2 },
  );
  const itemsPerS = BATCH / (t.p50Ms / 1000);
  rows.push({
    suite: SUITE,
    name: `128K truncation: items/s (p50 of 7 batches of ${BATCH} after 2 warm-up)`,
    value: itemsPerS,
    unit: 'items/s',
    note: `p50 ${t.p50Ms.toFixed(0)} ms/batch, max ${t.maxMs.toFixed(0)} ms; ${Math.round(fullTokens / built)} tokens/item before, ${Math.round(promptTokens / built)} after`,
  });
  rows.push({ suite: SUITE, name: '128K truncation: input tokens/s', value: (itemsPerS * fullTokens) / built, unit: 'tok/s' });

  // Items that fit (about 30K tokens): format, tokenise, template, no truncation.
  const small = Array.from({ length: 9 }, () => Array.from({ length: BATCH }, () => synth(130_000)));
  let s = 0;
  const f = await time(
    () => {
      for (const it of small[s++]!) buildLongBenchPrompt(it, opts);
    },
    { iterations: 7, warmup: 2 },
  );
  rows.push({ suite: SUITE, name: `~30K-token items, no truncation: items/s (p50 of 7 batches of ${BATCH})`, value: BATCH / (f.p50Ms / 1000), unit: 'items/s' });
  return rows;
}
