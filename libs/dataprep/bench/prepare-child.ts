/**
 * One measured preparation, in its own process (started by datasets.bench.ts):
 * `prepare-child.ts <corpusDir> <seqLength>` prepares <corpusDir>/web.jsonl and <corpusDir>/books
 * into <corpusDir>/out and sends a ChildReport to its parent. RSS is sampled by the bench
 * harness every 5 ms (finer than the 100 ms asked for).
 */
import { withPeakMemory } from '@ctxlab/bench';
import { getTokenizer } from '@ctxlab/tokenizers';
import { join } from 'node:path';
import { prepareDataset } from '../src/node';
import type { ChildReport } from './datasets.bench';

const [dir, seqLength] = process.argv.slice(2);
if (!dir || !seqLength || !process.send) throw new Error('usage: forked with <corpusDir> <seqLength>');

const tok = getTokenizer('llama3');
tok.encode('warm up'); // the vocabulary loads before the measurement
const baseRss = process.memoryUsage().rss;
const { result, peakRssMb, ms } = await withPeakMemory(() =>
  prepareDataset(
    {
      format: 'easycontext',
      seqLength: Number(seqLength),
      sources: [
        { name: 'web', kind: 'jsonl', path: join(dir, 'web.jsonl') },
        { name: 'books', kind: 'text-folder', path: join(dir, 'books') },
      ],
    },
    { tokenizer: tok, outDir: join(dir, 'out') },
  ),
);
const seconds = ms / 1000;
const peakRss = baseRss + peakRssMb * 2 ** 20;
const { tokens, sequences, documents } = result.stats;
const report: ChildReport = { seconds, baseRss, peakRss, tokens, sequences, documents, shards: result.shards.length, outBytes: result.shards.reduce((a, s) => a + s.bytes, 0) };
process.send(report, () => process.exit(0));
