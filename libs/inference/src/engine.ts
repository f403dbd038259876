/**
 * Greedy decoding of a lab model on onnxruntime-node with a KV cache. The graph takes the rotary
 * tables as inputs (cos/sin, half width, position = past_len + t), so any theta the planner
 * computes is applied here, not baked into the weights.
 */
import { ropeInvFreq } from '@ctxlab/longctx';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { LabModelCard } from './card';

/** How a session's intra-op thread pool behaves beyond its size. Leaving both out keeps onnxruntime's defaults. */
export interface ThreadTuning {
  /**
   * Pin each intra-op worker thread to one CPU (session.intra_op_thread_affinities). onnxruntime
   * never pins the calling thread, so with one thread there is nothing to pin.
   */
  pin?: boolean;
  /**
   * Whether idle intra-op threads spin waiting for the next op (session.intra_op.allow_spinning,
   * onnxruntime's default true). Spinning saves a wake-up per op but burns a core the other
   * processes of a small shared machine could use.
   */
  spin?: boolean;
}

/**
 * What sessions get unless told otherwise: workers that do not spin. On a laptop or a small shared
 * box (the lab's machines) a spinning worker competes with the calling thread and with everything
 * else: at 2 threads on a busy 2-core machine, not spinning made a 1K-token prefill 1.3-3.3× faster
 * than onnxruntime's defaults (the inference bench's "prefill @1024, 2 threads, …" rows). Pinning
 * stays off: there it helped in one run and hurt in another, and a pinned worker cannot leave a core
 * another process is busy on. One thread has no pool, so neither setting changes anything.
 */
export const DEFAULT_THREAD_TUNING: Readonly<ThreadTuning> = { spin: false };

/** The CPUs this process may run on (0-based), from the kernel's affinity list where there is one. */
export function allowedCpus(): number[] {
  try {
    const list = /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (list) {
      const cpus = list.split(',').flatMap((part) => {
        const [a, b] = part.trim().split('-').map(Number);
        return Array.from({ length: (b ?? a!) - a! + 1 }, (_, i) => a! + i);
      });
      if (cpus.length > 0 && cpus.every(Number.isInteger)) return cpus;
    }
  } catch {
    // Not Linux: every CPU the runtime reports.
  }
  return Array.from({ length: availableParallelism() }, (_, i) => i);
}

/**
 * onnxruntime's intra-op affinity string for `threads` threads: one entry per worker thread
 * (threads − 1; the calling thread is not pinned and its count must match, or session creation is
 * refused), separated by ';', each a 1-based logical processor id. Worker i takes the allowed CPU
 * after the i-th, so the first allowed CPU is left to the calling thread when there are enough.
 * Undefined for one thread (no pool).
 */
export function intraOpAffinities(threads: number, cpus: readonly number[] = allowedCpus()): string | undefined {
  if (threads <= 1 || cpus.length === 0) return undefined;
  return Array.from({ length: threads - 1 }, (_, i) => String(cpus[(i + 1) % cpus.length]! + 1)).join(';');
}

/** The session options every lab-model session (and the roofline's matrix multiply) is created with. */
export function sessionOptions(threads: number, tuning: ThreadTuning = {}): ort.InferenceSession.SessionOptions {
  const config: Record<string, string> = {};
  const affinities = tuning.pin ? intraOpAffinities(threads) : undefined;
  if (affinities) config.intra_op_thread_affinities = affinities;
  if (tuning.spin !== undefined) config['intra_op.allow_spinning'] = tuning.spin ? '1' : '0';
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    // onnxruntime-node flattens `extra` into session config entries: { session: { k: v } } is "session.k".
    ...(Object.keys(config).length > 0 ? { extra: { session: config } } : {}),
  };
}

const sessions = new Map<string, Promise<ort.InferenceSession>>();

/** One session per model file and thread setting, created once; a failed creation is forgotten so the next call retries. */
export function session(path: string, threads: number, tuning: ThreadTuning = DEFAULT_THREAD_TUNING): Promise<ort.InferenceSession> {
  const key = `${path}#${threads}#pin=${tuning.pin ?? false}#spin=${tuning.spin ?? 'default'}`;
  let s = sessions.get(key);
  if (!s) {
    s = ort.InferenceSession.create(path, sessionOptions(threads, tuning));
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

/** One token's log-probability under the model, and the most likely tokens at its position. */
export interface TokenLogprob {
  id: number;
  logprob: number;
  /** 1 + how many tokens the model ranks strictly above this one (vLLM's `rank`). */
  rank: number;
  /** The `top` most likely ids at this position, most likely first (ties: lower id first). */
  top: { id: number; logprob: number }[];
}

/**
 * Log-softmax of one logits row in float64, read at `target`, with the row's `top` best tokens.
 * The arithmetic is exactly checks.ts's `logProb` (max, Σ exp(x − max) in float64, then
 * x − max − log Σ), so a logprob served over HTTP is bit-for-bit the one the local perplexity check
 * sums for the same logits.
 */
export function rowLogprob(logits: Float32Array, offset: number, vocab: number, target: number, top = 0): TokenLogprob {
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) max = Math.max(max, logits[offset + v]!);
  let sum = 0;
  for (let v = 0; v < vocab; v++) sum += Math.exp(logits[offset + v]! - max);
  const logSum = Math.log(sum);
  const x = logits[offset + target]!;
  let above = 0;
  // The `top` best ids kept sorted, best first (top ≤ 20: insertion is cheaper than sorting the row).
  const best: number[] = [];
  for (let v = 0; v < vocab; v++) {
    const y = logits[offset + v]!;
    if (y > x) above++;
    if (top === 0 || (best.length === top && y <= logits[offset + best[top - 1]!]!)) continue;
    let i = best.length < top ? best.length : top - 1;
    while (i > 0 && y > logits[offset + best[i - 1]!]!) i--;
    best.splice(i, 0, v);
    if (best.length > top) best.pop();
  }
  return { id: target, logprob: x - max - logSum, rank: above + 1, top: best.map((id) => ({ id, logprob: logits[offset + id]! - max - logSum })) };
}

export interface GenerateOptions {
  theta: number;
  /** Tokens to decode; 0 runs the prefill only (scoring the prompt, as `echo` with `max_tokens: 0` asks). */
  maxNewTokens: number;
  /** Score every prompt token from the prefill's logits, with this many top alternatives (vLLM's prompt_logprobs). */
  promptLogprobs?: number;
  /** Score every generated token, with this many top alternatives (OpenAI's logprobs / top_logprobs). */
  logprobs?: number;
  /** Stop after these ids (EOS by default). */
  stopIds?: number[];
  /** Stop at the first newline byte after some text, as short-answer evals want. */
  stopAtNewline?: boolean;
  signal?: AbortSignal;
  /** Called with each token as it is decoded (a streamed response sends it on at once). */
  onToken?: (id: number) => void;
  /** The prompt's leading tokens already computed (prefix caching): the prefill starts after them. */
  prefix?: PromptPrefix;
}

/**
 * K/V of a prompt's first `cachedTokens` tokens (a PrefixKvCache lease): the prefill feeds them as
 * past_key_values and runs the remaining tokens at positions cachedTokens …, then hands its
 * present tensors (the whole prompt) to `store`. Must leave at least one token to compute, and
 * none when prompt logprobs are asked for (a cached token has no logits).
 */
export interface PromptPrefix {
  cachedTokens: number;
  past(): Record<string, ort.Tensor>;
  store?(present: Record<string, ort.Tensor>): void;
}

export interface Generation {
  ids: number[];
  /** When asked for: one entry per prompt token; the first is null (nothing precedes it to predict it). */
  promptLogprobs?: (TokenLogprob | null)[];
  /** When asked for: one entry per generated token. */
  logprobs?: TokenLogprob[];
  finishReason: 'stop' | 'length';
  promptTokens: number;
  /** Leading prompt tokens taken from the prefix cache, not prefilled (0 without one). */
  cachedTokens: number;
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

/** Prefills the prompt (after any cached prefix) in one pass, then decodes one token at a time from the KV cache. */
export async function generate(s: ort.InferenceSession, card: LabModelCard, prompt: readonly number[], o: GenerateOptions): Promise<Generation> {
  const it = passes(s, card, prompt, o);
  for (;;) {
    const r = await it.next();
    if (r.done) return r.value;
  }
}

/**
 * `generate` one model pass at a time: each `next()` runs one pass (the prefill first, then one
 * decoded token each) and the last one returns the Generation. Whoever drives it may run other work
 * between passes — two sequences decoded in lock step, say — and that time counts in the
 * Generation's prefillMs/decodeMs, which are wall time from the first pass.
 */
export async function* passes(s: ort.InferenceSession, card: LabModelCard, prompt: readonly number[], o: GenerateOptions): AsyncGenerator<void, Generation, void> {
  const inv = ropeInvFreq(o.theta, card.headDim);
  let past = emptyPast(card);
  const stop = new Set(o.stopIds ?? [card.specialTokens.eos]);
  const out: number[] = [];
  let pos = 0;
  let input: readonly number[] = prompt;
  const t0 = performance.now();
  let t1 = t0;
  let finishReason: Generation['finishReason'] = 'length';
  const V = card.vocabSize;
  let promptLogprobs: Generation['promptLogprobs'];
  const logprobs: TokenLogprob[] | undefined = o.logprobs === undefined ? undefined : [];
  const prefillOnly = o.maxNewTokens <= 0;
  if (prefillOnly && o.promptLogprobs === undefined) return { ids: out, finishReason, promptTokens: prompt.length, cachedTokens: 0, prefillMs: 0, decodeMs: 0 };
  const cached = o.prefix?.cachedTokens ?? 0;
  if (cached > 0) {
    if (cached >= prompt.length) throw new Error(`a prefix of ${cached} cached tokens leaves nothing of a ${prompt.length}-token prompt to compute`);
    if (o.promptLogprobs !== undefined) throw new Error('prompt logprobs need the whole prompt computed: do not read the prefix cache for them');
    past = o.prefix!.past();
    pos = cached;
    input = prompt.slice(cached);
  }
  for (let step = 0; ; step++) {
    if (o.signal?.aborted) throw new Error('aborted');
    const { cos, sin } = rotaryRows(inv, pos, input.length);
    const ids = new ort.Tensor('int64', BigInt64Array.from(input, (x) => BigInt(x)), [1, input.length]);
    const r = await s.run({ input_ids: ids, cos, sin, ...past });
    if (step === 0) {
      t1 = performance.now();
      o.prefix?.store?.(pastFrom(r, card.numLayers));
    }
    pos += input.length;
    const data = r.logits!.data as Float32Array;
    if (step === 0 && o.promptLogprobs !== undefined) {
      // Row i of the prefill predicts prompt token i + 1; the first token has no prediction.
      promptLogprobs = [null];
      for (let i = 1; i < prompt.length; i++) promptLogprobs.push(rowLogprob(data, (i - 1) * V, V, prompt[i]!, o.promptLogprobs));
    }
    if (prefillOnly) break;
    const next = argmaxLast(r.logits!, V);
    if (stop.has(next)) {
      finishReason = 'stop';
      break;
    }
    out.push(next);
    logprobs?.push(rowLogprob(data, data.length - V, V, next, o.logprobs));
    o.onToken?.(next);
    if (o.stopAtNewline && next === 10 && out.length > 1) {
      finishReason = 'stop';
      break;
    }
    if (out.length >= o.maxNewTokens) break;
    past = pastFrom(r, card.numLayers);
    input = [next];
    yield;
  }
  return {
    ids: out,
    finishReason,
    promptTokens: prompt.length,
    cachedTokens: cached,
    prefillMs: t1 - t0,
    decodeMs: performance.now() - t1,
    ...(promptLogprobs ? { promptLogprobs } : {}),
    ...(logprobs ? { logprobs } : {}),
  };
}
