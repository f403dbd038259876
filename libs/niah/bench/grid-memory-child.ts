/**
 * One cold build of Gradient's grid in its own process (started by niah.bench.ts), so its RSS is
 * its own: `grid-memory-child.ts <depths>` builds the 14 lengths × <depths> evenly spaced depths
 * and sends a GridMemoryReport to its parent. The tokenizer and the corpus text are loaded
 * before the measurement; the corpus' token index is built inside it. After each cell the build
 * waits 5 ms, as a sweep waits on each request (for seconds), so the harness' RSS sampler (every
 * 5 ms) runs while cells are alive and the collector gets the idle time it gets in a sweep.
 */
import { withPeakMemory } from '@ctxlab/bench';
import { getTokenizer } from '@ctxlab/tokenizers';
import { loadCorpusFromTexts } from '../src/corpus';
import { generateNiahCells, resolveNiahSpec } from '../src/engine';
import { loadDefaultCorpus } from '../src/node/default-corpora';

export interface GridMemoryReport {
  depths: number;
  cells: number;
  tokens: number;
  offTarget: number;
  peakRssMb: number;
  ms: number;
}

const depths = Number(process.argv[2]);
if (!Number.isInteger(depths) || depths < 2 || !process.send) throw new Error('usage: forked with <depths>');

const tokenizer = getTokenizer('llama3');
tokenizer.encode('warm up');
const en = loadDefaultCorpus('sotu-en');
const corpus = loadCorpusFromTexts('sotu-en', en.documents, { language: 'en' });
const spec = resolveNiahSpec({ variant: 'value', tokenizer: 'llama3', grid: { preset: 'gradient', depths: { kind: 'linspace', min: 0, max: 1, count: depths } } });
const out = { cells: 0, tokens: 0, offTarget: 0 };
const { peakRssMb, ms } = await withPeakMemory(async () => {
  for (const cell of generateNiahCells(spec, { corpus, tokenizer })) {
    out.cells++;
    out.tokens += cell.promptIds.length;
    if (cell.lengthError !== 0 || cell.promptIds.length !== cell.length) out.offTarget++;
    await new Promise((r) => setTimeout(r, 5));
  }
});
const report: GridMemoryReport = { depths: spec.depths.length, ...out, peakRssMb, ms };
process.send(report, () => process.exit(0));
