/**
 * Local checks on onnxruntime-node: perplexity against context length under a RoPE theta rule —
 * the field's first look at whether a context extension holds — and round trips that catch a
 * tokenizer or an engine that does not see what it was given.
 */
import { dynamicNtkTheta, ntkTheta } from '@ctxlab/longctx';
import { getTokenizer, type TokenizerName } from '@ctxlab/tokenizers';
import * as ort from 'onnxruntime-node';
import { emptyPast, pastFrom, rotaryTables, type EngineShape } from './engine';

/** How the RoPE base is chosen for a sequence of L tokens (θ0 and L0: the model's theta and trained length). */
export type ThetaRule =
  | { kind: 'model' }
  | { kind: 'fixed'; theta: number }
  /** Fixed NTK-aware for a target length: θ0 · (target/L0)^(d/(d−2)). */
  | { kind: 'ntk'; targetLength: number }
  /** Dynamic NTK at each sequence's own length: θ0 · ((α·L/L0) − (α−1))^(d/(d−2)) when L > L0. */
  | { kind: 'dynamic-ntk'; alpha: number };

export function thetaFor(rule: ThetaRule, model: { theta: number; trainedLength: number; headDim: number }, length: number): number {
  const base = { theta0: model.theta, headDim: model.headDim, originalLength: model.trainedLength };
  switch (rule.kind) {
    case 'model':
      return model.theta;
    case 'fixed':
      return rule.theta;
    case 'ntk':
      return ntkTheta({ ...base, targetLength: rule.targetLength });
    case 'dynamic-ntk':
      return dynamicNtkTheta({ ...base, targetLength: length, alpha: rule.alpha });
  }
}

/** Log-softmax of one row, read at `target`. */
function logProb(logits: Float32Array, offset: number, vocab: number, target: number): number {
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) max = Math.max(max, logits[offset + v]!);
  let sum = 0;
  for (let v = 0; v < vocab; v++) sum += Math.exp(logits[offset + v]! - max);
  return logits[offset + target]! - max - Math.log(sum);
}

export interface PerplexityResult {
  /** Tokens scored: every one after the first. */
  tokens: number;
  meanNll: number;
  perplexity: number;
  /** Perplexity of the tokens at positions ≥ `splitAt` (beyond the trained length), when any. */
  tailPerplexity: number | null;
  prefillMs: number;
}

/** One prefill over `ids` with RoPE base `theta`; next-token NLL of every position after the first. */
export async function sequencePerplexity(s: ort.InferenceSession, card: EngineShape, ids: readonly number[], theta: number, splitAt?: number): Promise<PerplexityResult> {
  if (ids.length < 2) throw new Error('perplexity needs at least 2 tokens');
  const { cos, sin } = rotaryTables(theta, card.headDim, 0, ids.length);
  const t0 = performance.now();
  const r = await s.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [1, ids.length]), cos, sin, ...emptyPast(card) });
  const prefillMs = performance.now() - t0;
  const logits = r.logits!.data as Float32Array;
  const V = card.vocabSize;
  let total = 0;
  let tail = 0;
  let tailN = 0;
  for (let i = 0; i < ids.length - 1; i++) {
    const nll = -logProb(logits, i * V, V, ids[i + 1]!);
    total += nll;
    if (splitAt !== undefined && i + 1 >= splitAt) {
      tail += nll;
      tailN++;
    }
  }
  const n = ids.length - 1;
  return { tokens: n, meanNll: total / n, perplexity: Math.exp(total / n), tailPerplexity: tailN ? Math.exp(tail / tailN) : null, prefillMs };
}

export interface EngineRoundTrip {
  /** Largest |logit difference| between one prefill of all ids and a prefill of the first part followed by cached one-token steps. */
  maxAbsLogitDiff: number;
  /** Whether both paths pick the same next token at every checked position. */
  sameArgmax: boolean;
  positions: number;
}

/**
 * The engine's KV-cache path against its own full prefill: prefill ids[0..n−k), then feed the last
 * k ids one at a time with the cache; the logits at those k positions must match a single prefill
 * of all n ids (same theta). A broken cache, position offset or RoPE table shows up here.
 */
export async function engineRoundTrip(s: ort.InferenceSession, card: EngineShape, ids: readonly number[], theta: number, k = 8): Promise<EngineRoundTrip> {
  const n = ids.length;
  if (n <= k) throw new Error(`the round trip needs more than ${k} tokens`);
  const V = card.vocabSize;
  const full = await s.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [1, n]), ...rotaryTables(theta, card.headDim, 0, n), ...emptyPast(card) });
  const fullLogits = full.logits!.data as Float32Array;
  let past = emptyPast(card);
  let pos = 0;
  let maxDiff = 0;
  let sameArgmax = true;
  const argmax = (a: Float32Array, off: number) => {
    let best = 0;
    for (let v = 1; v < V; v++) if (a[off + v]! > a[off + best]!) best = v;
    return best;
  };
  const feed = async (chunk: readonly number[]) => {
    const r = await s.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(chunk, (x) => BigInt(x)), [1, chunk.length]), ...rotaryTables(theta, card.headDim, pos, chunk.length), ...past });
    pos += chunk.length;
    past = pastFrom(r, card.numLayers);
    return r.logits!.data as Float32Array;
  };
  await feed(ids.slice(0, n - k));
  for (let i = n - k; i < n; i++) {
    const step = await feed([ids[i]!]);
    for (let v = 0; v < V; v++) maxDiff = Math.max(maxDiff, Math.abs(step[v]! - fullLogits[i * V + v]!));
    if (argmax(step, 0) !== argmax(fullLogits, i * V)) sameArgmax = false;
  }
  return { maxAbsLogitDiff: maxDiff, sameArgmax, positions: k };
}

export interface TokenizerRoundTrip {
  tokenizer: TokenizerName;
  ok: boolean;
  tokens: number;
  /** Where decode(encode(text)) first differs from the text, when it does. */
  firstDifference: number | null;
}

/** decode(encode(text)) === text, and where it breaks when it does not. */
export function tokenizerRoundTrip(name: TokenizerName, text: string): TokenizerRoundTrip {
  const tok = getTokenizer(name);
  const ids = tok.encode(text);
  const back = tok.decode(ids);
  let first: number | null = null;
  if (back !== text) {
    first = 0;
    while (first < text.length && text[first] === back[first]) first++;
  }
  return { tokenizer: name, ok: back === text, tokens: ids.length, firstDifference: first };
}
