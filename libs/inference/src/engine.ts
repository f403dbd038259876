/**
 * Greedy decoding of a lab model on onnxruntime-node with a KV cache. The graph takes the rotary
 * tables as inputs (cos/sin, half width, position = past_len + t), so any theta the planner
 * computes is applied here, not baked into the weights.
 */
import { ropeInvFreq } from '@ctxlab/longctx';
import * as ort from 'onnxruntime-node';
import type { LabModelCard } from './card';

const sessions = new Map<string, Promise<ort.InferenceSession>>();

/** One session per model file, created once; a failed creation is forgotten so the next call retries. */
export function session(path: string, threads: number): Promise<ort.InferenceSession> {
  const key = `${path}#${threads}`;
  let s = sessions.get(key);
  if (!s) {
    s = ort.InferenceSession.create(path, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' });
    s.catch(() => sessions.delete(key));
    sessions.set(key, s);
  }
  return s;
}

export async function releaseSessions() {
  const all = [...sessions.values()];
  sessions.clear();
  await Promise.all(all.map((p) => p.then((s) => s.release()).catch(() => undefined)));
}

/** What running a lab model's graph needs to know of it. */
export type EngineShape = Pick<LabModelCard, 'numLayers' | 'numKeyValueHeads' | 'headDim' | 'vocabSize'>;

/** cos/sin rows for positions [start, start + n), each headDim/2 wide, angles in float64. */
export function rotaryTables(theta: number, headDim: number, start: number, n: number): { cos: ort.Tensor; sin: ort.Tensor } {
  return rotaryRows(ropeInvFreq(theta, headDim), start, n);
}

/** rotaryTables from inverse frequencies computed once (a decode loop asks for one row per token). */
function rotaryRows(inv: readonly number[], start: number, n: number): { cos: ort.Tensor; sin: ort.Tensor } {
  const half = inv.length;
  const cos = new Float32Array(n * half);
  const sin = new Float32Array(n * half);
  for (let t = 0; t < n; t++) {
    for (let j = 0; j < half; j++) {
      const a = (start + t) * inv[j]!;
      cos[t * half + j] = Math.cos(a);
      sin[t * half + j] = Math.sin(a);
    }
  }
  return { cos: new ort.Tensor('float32', cos, [n, half]), sin: new ort.Tensor('float32', sin, [n, half]) };
}

/** An empty KV cache (past_len 0) for a batch of one. */
export function emptyPast(shape: EngineShape): Record<string, ort.Tensor> {
  const past: Record<string, ort.Tensor> = {};
  for (let l = 0; l < shape.numLayers; l++) {
    past[`past_key_values.${l}.key`] = new ort.Tensor('float32', new Float32Array(0), [1, shape.numKeyValueHeads, 0, shape.headDim]);
    past[`past_key_values.${l}.value`] = new ort.Tensor('float32', new Float32Array(0), [1, shape.numKeyValueHeads, 0, shape.headDim]);
  }
  return past;
}

/** A run's present.{l}.key/value outputs as the next run's past_key_values inputs. */
export function pastFrom(r: ort.InferenceSession.ReturnType, numLayers: number): Record<string, ort.Tensor> {
  const past: Record<string, ort.Tensor> = {};
  for (let l = 0; l < numLayers; l++) {
    past[`past_key_values.${l}.key`] = r[`present.${l}.key`]!;
    past[`past_key_values.${l}.value`] = r[`present.${l}.value`]!;
  }
  return past;
}

export interface GenerateOptions {
  theta: number;
  maxNewTokens: number;
  /** Stop after these ids (EOS by default). */
  stopIds?: number[];
  /** Stop at the first newline byte after some text, as short-answer evals want. */
  stopAtNewline?: boolean;
  signal?: AbortSignal;
  /** Called with each token as it is decoded (a streamed response sends it on at once). */
  onToken?: (id: number) => void;
}

export interface Generation {
  ids: number[];
  finishReason: 'stop' | 'length';
  promptTokens: number;
  prefillMs: number;
  decodeMs: number;
}

function argmaxLast(logits: ort.Tensor, vocab: number): number {
  const data = logits.data as Float32Array;
  const off = data.length - vocab;
  let best = 0;
  let bestV = -Infinity;
  for (let i = 0; i < vocab; i++) {
    const v = data[off + i]!;
    if (v > bestV) {
      bestV = v;
      best = i;
    }
  }
  return best;
}

/** Prefills the prompt in one pass, then decodes one token at a time from the cache. */
export async function generate(s: ort.InferenceSession, card: LabModelCard, prompt: readonly number[], o: GenerateOptions): Promise<Generation> {
  const inv = ropeInvFreq(o.theta, card.headDim);
  let past = emptyPast(card);
  const stop = new Set(o.stopIds ?? [card.specialTokens.eos]);
  const out: number[] = [];
  let pos = 0;
  let input: readonly number[] = prompt;
  const t0 = performance.now();
  let t1 = t0;
  let finishReason: Generation['finishReason'] = 'length';
  for (let step = 0; o.maxNewTokens > 0; step++) {
    if (o.signal?.aborted) throw new Error('aborted');
    const { cos, sin } = rotaryRows(inv, pos, input.length);
    const ids = new ort.Tensor('int64', BigInt64Array.from(input, (x) => BigInt(x)), [1, input.length]);
    const r = await s.run({ input_ids: ids, cos, sin, ...past });
    if (step === 0) t1 = performance.now();
    pos += input.length;
    const next = argmaxLast(r.logits!, card.vocabSize);
    if (stop.has(next)) {
      finishReason = 'stop';
      break;
    }
    out.push(next);
    o.onToken?.(next);
    if (o.stopAtNewline && next === 10 && out.length > 1) {
      finishReason = 'stop';
      break;
    }
    if (out.length >= o.maxNewTokens) break;
    past = pastFrom(r, card.numLayers);
    input = [next];
  }
  return { ids: out, finishReason, promptTokens: prompt.length, prefillMs: t1 - t0, decodeMs: performance.now() - t1 };
}
