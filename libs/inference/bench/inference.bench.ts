import { getTokenizer } from '@ctxlab/tokenizers';
import { flopsPerToken } from '@ctxlab/longctx';
import { loadDefaultCorpus } from '@ctxlab/niah/node';
import { median, repeated, type BenchResult } from '@ctxlab/bench';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as ort from 'onnxruntime-node';
import { loadCard, type LabModelCard } from '../src/card';
import { DEFAULT_THREAD_TUNING, intraOpAffinities, passes, releaseSessions, session, sessionOptions, type ThreadTuning } from '../src/engine';
import { openMatmul } from './matmul-roofline';

const SUITE = 'inference';
const LENGTHS = [1024, 2048, 4096];
const THREADS = [1, 2];
const RUNS = 5;
/**
 * Untimed rounds first. onnxruntime's first run of a new input shape plans its memory and the
 * second still allocates the planned block: only from the third on does a pass cost what it costs.
 */
const WARMUP = 2;
/** Tokens generated per sequence: the prefill's, then NEW_TOKENS − 1 cached decode passes. */
const NEW_TOKENS = 32;
/** Prefill passes of each stage per round: shorter prompts get more pairs (2 at 1K, 1 at 2K and 4K). */
const PREFILL_TOKENS_PER_ROUND = 2048;
/** The two stages share one architecture and graph: their throughputs should agree within this share. */
const SPREAD = 0.1;
/** Intra-op workers pinned one per CPU and not spinning (the server's default leaves pinning off). */
const TUNING: ThreadTuning = { pin: true, spin: false };

/**
 * A full garbage collection before every round. Each decode pass hands its whole KV cache back as
 * fresh output buffers (megabytes a pass at these lengths), so V8 collects every few hundred
 * milliseconds; each round starts from a collected heap rather than from whatever the last left.
 */
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

const plural = (threads: number) => `${threads} thread${threads > 1 ? 's' : ''}`;
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** One model pass of a sequence: its wall time and the process's CPU time. */
async function timedPass(gen: ReturnType<typeof passes>): Promise<{ ms: number; cpuMs: number; done: boolean }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const done = (await gen.next()).done === true;
  return { ms: performance.now() - t0, cpuMs: cpuMs(process.cpuUsage(c0)), done };
}

/** One stage's passes in a round, in order. */
interface Run {
  prefillMs: number[];
  prefillCpuMs: number[];
  decodeMs: number[];
  decodeCpuMs: number[];
}

type Card = ReturnType<typeof loadCard>;

/** A model as a round runs it: its session and the RoPE theta it is served with. */
interface Served {
  session: ort.InferenceSession;
  theta: number;
}

/**
 * One round of two models interleaved: `pairs` prefills of each, alternating (the second model first
 * when `flip`), then the first pair's sequences decoded in lock step, one pass of each in turn.
 * Pass k of one model and pass k of the other run back to back, so whatever else the machine is
 * doing then weighs on both.
 */
async function interleaved(models: readonly Served[], card: LabModelCard, ids: readonly number[], pairs: number, flip: boolean): Promise<Run[]> {
  const order = flip ? [1, 0] : [0, 1];
  const runs: Run[] = models.map(() => ({ prefillMs: [], prefillCpuMs: [], decodeMs: [], decodeCpuMs: [] }));
  const decoding: ReturnType<typeof passes>[] = [];
  const done = models.map(() => false);
  collect();
  for (let k = 0; k < pairs; k++) {
    for (const i of order) {
      // Only the first pair's sequences go on to decode; the others are dropped after their prefill.
      const gen = passes(models[i]!.session, card, ids, { theta: models[i]!.theta, maxNewTokens: NEW_TOKENS, stopIds: [] });
      const p = await timedPass(gen);
      runs[i]!.prefillMs.push(p.ms);
      runs[i]!.prefillCpuMs.push(p.cpuMs);
      if (k === 0) {
        decoding[i] = gen;
        done[i] = p.done;
      }
    }
  }
  while (done.includes(false)) {
    for (const i of order) {
      if (done[i]) continue;
      const p = await timedPass(decoding[i]!);
      runs[i]!.decodeMs.push(p.ms);
      runs[i]!.decodeCpuMs.push(p.cpuMs);
      done[i] = p.done;
    }
  }
  return runs;
}

/** Median over a round's pass pairs of the first model's time over the second's: the second's speed relative to the first's. */
const pairRatio = (a: readonly number[], b: readonly number[]) => median(a.map((x, k) => x / b[k]!));

/** Second model / first model in one phase over the rounds: tokens/s (by wall time) and by CPU time, each the median of the rounds' pair ratios. */
function compare(rounds: readonly { runs: Run[] }[], phase: 'prefill' | 'decode') {
  const ms = phase === 'prefill' ? 'prefillMs' : 'decodeMs';
  const cpu = phase === 'prefill' ? 'prefillCpuMs' : 'decodeCpuMs';
  const perRound = rounds.map((r) => pairRatio(r.runs[0]![ms], r.runs[1]![ms]));
  const wall = median(perRound);
  const cpuRatio = median(rounds.map((r) => pairRatio(r.runs[0]![cpu], r.runs[1]![cpu])));
  return { wall, cpu: cpuRatio, note: `tokens/s; median of ${rounds.length} rounds (${perRound.map((x) => x.toFixed(2)).join(', ')}), each the median of its pass pairs; by the process's CPU time ${cpuRatio.toFixed(3)}×` };
}

/**
 * The lab models on onnxruntime-node (CPU) as the model server runs them, with ORT_THREADS = 1 and
 * 2, intra-op workers pinned and not spinning (TUNING): prefill and cached-decode tokens per second
 * at 1K, 2K and 4K tokens of context. The two stages are measured interleaved (`interleaved`), and
 * each round ends with one plain 1024³ matrix multiply on a session with the same options. WARMUP
 * untimed rounds, then RUNS timed ones; every figure is a median over the rounds. A stage ratio is
 * the median over rounds of each round's median pass-pair ratio, and "stage spread" is the largest
 * gap from 1 among them. The roofline: the multiply's GFLOP/s over the model's forward FLOPs per
 * token (the planner's formula, a third of training's 6N + 12·layers·d·L; causal attention over the
 * prompt for prefill, the whole context for each decoded token) is the tokens/s the model would
 * reach at the multiply's speed; each throughput is reported as a share of it. Last, the thread
 * settings themselves: one stage's 1K prefill at 2 threads under onnxruntime's defaults, pinned,
 * not spinning, and both, interleaved.
 */
export default async function (): Promise<BenchResult[]> {
  const card = loadCard();
  const [first, second] = card.stages;
  if (!first || !second) throw new Error('the inference bench compares two lab stages; the card has fewer');
  const stages = [first, second];
  const tok = getTokenizer('byte');
  const text = loadDefaultCorpus('sotu-en').text;
  const prompt = (n: number) => [tok.special.bos.id, ...tok.encode(text.slice(100_000, 100_000 + n * 2)).slice(0, n - 1)];
  const rows: BenchResult[] = [];
  /** stage 2 / stage 1 − 1 of every comparison, in tokens/s and in CPU time. */
  const gaps: { where: string; wall: number; cpu: number }[] = [];
  for (const threads of THREADS) {
    const where = plural(threads);
    const pinning = intraOpAffinities(threads);
    const how = pinning ? `worker pinned to CPU ${pinning} (1-based), no spinning` : 'one thread: onnxruntime runs on the calling thread, which it never pins';
    const models = await Promise.all(stages.map(async (st) => ({ session: await session(`${card.dir}/${st.file}`, threads, TUNING), theta: st.ropeTheta })));
    const matmul = await openMatmul(sessionOptions(threads, TUNING));
    const gflopsAll: number[] = [];
    try {
      for (const n of LENGTHS) {
        const ids = prompt(n);
        const pairs = Math.max(1, Math.round(PREFILL_TOKENS_PER_ROUND / n));
        const rounds = await repeated(async (round) => ({ runs: await interleaved(models, card, ids, pairs, round % 2 === 1), gflops: await matmul.run() }), { runs: RUNS, warmup: WARMUP });
        const gflops = median(rounds.results.map((r) => r.gflops));
        gflopsAll.push(...rounds.results.map((r) => r.gflops));
        const perToken = { prefill: flopsPerToken(card, n, { attention: 'causal' }).total / 3, decode: flopsPerToken(card, n, { attention: 'full' }).total / 3 };
        const tokensPerS = {
          prefill: (r: Run) => n / (median(r.prefillMs) / 1000),
          decode: (r: Run) => r.decodeMs.length / (sum(r.decodeMs) / 1000),
        };
        stages.forEach((st, i) => {
          for (const phase of ['prefill', 'decode'] as const) {
            const value = median(rounds.results.map((r) => tokensPerS[phase](r.runs[i]!)));
            const ceiling = (gflops * 1e9) / perToken[phase];
            const detail = phase === 'decode' ? `${NEW_TOKENS - 1} cached passes in lock step with the other stage` : `${pairs} prefill${pairs > 1 ? 's' : ''} a round (their median)`;
            rows.push({ suite: SUITE, name: `lab stage ${st.stage} ${phase} @${n}, ${where}`, value, unit: 'tokens/s', note: `${detail}; median of ${RUNS} rounds after ${WARMUP} warm-up rounds; ${how}` });
            rows.push({
              suite: SUITE,
              name: `lab stage ${st.stage} ${phase} @${n}, ${where}: share of the matrix-multiply roofline`,
              value: value / ceiling,
              unit: '×',
              note: `roofline ${ceiling.toFixed(0)} tokens/s = ${gflops.toFixed(2)} GFLOP/s (median over this length's rounds) ÷ ${(perToken[phase] / 1e6).toFixed(2)} MFLOP/token`,
            });
          }
        });
        for (const phase of ['prefill', 'decode'] as const) {
          const c = compare(rounds.results, phase);
          gaps.push({ where: `${phase} @${n}, ${where}`, wall: c.wall - 1, cpu: c.cpu - 1 });
          rows.push({ suite: SUITE, name: `stage ${second.stage} / stage ${first.stage} ${phase} @${n}, ${where}`, value: c.wall, unit: '×', note: c.note });
        }
      }
    } finally {
      await matmul.release();
      await releaseSessions();
    }
    rows.push({ suite: SUITE, name: `matrix multiply 1024³, ${where}`, value: median(gflopsAll), unit: 'GFLOP/s', note: `onnxruntime-node MatMul, float32, the lab models' session options (${how}); one multiply per round, median of ${gflopsAll.length}` });
  }
  const worst = gaps.reduce((a, b) => (Math.abs(b.wall) > Math.abs(a.wall) ? b : a));
  const worstCpu = gaps.reduce((a, b) => (Math.abs(b.cpu) > Math.abs(a.cpu) ? b : a));
  rows.push({
    suite: SUITE,
    name: 'stage spread',
    value: 100 * Math.abs(worst.wall),
    unit: '%',
    target: `≤ ${100 * SPREAD}%`,
    pass: Math.abs(worst.wall) <= SPREAD,
    note:
      `largest |stage ${second.stage} / stage ${first.stage} − 1| in tokens/s over ${gaps.length} comparisons: ${pct(worst.wall)} (${worst.where}). ` +
      `Same graph, input shapes and KV sizes; only the weights and the rotary tables' theta differ`,
  });
  rows.push({
    suite: SUITE,
    name: 'stage spread in CPU time',
    value: 100 * Math.abs(worstCpu.cpu),
    unit: '%',
    note: `the same comparisons by the process's CPU time per pass (blind to time spent waiting for a core): largest ${pct(worstCpu.cpu)} (${worstCpu.where})`,
  });
  rows.push(...(await control(card, prompt(1024))));
  rows.push(...(await threadSettings(card, prompt(1024))));
  return rows;
}

/**
 * The comparison's noise floor: stage 1 against itself (two sessions of one file), measured exactly
 * as the stages are, at 1K and 1 thread. Any gap from 1 here is the machine, not the model.
 */
async function control(card: Card, ids: readonly number[]): Promise<BenchResult[]> {
  const st = card.stages[0]!;
  const file = `${card.dir}/${st.file}`;
  const models = await Promise.all([0, 1].map(async () => ({ session: await ort.InferenceSession.create(file, sessionOptions(1, TUNING)), theta: st.ropeTheta })));
  try {
    const pairs = Math.max(1, Math.round(PREFILL_TOKENS_PER_ROUND / ids.length));
    const rounds = await repeated(async (round) => ({ runs: await interleaved(models, card, ids, pairs, round % 2 === 1) }), { runs: RUNS, warmup: WARMUP });
    return (['prefill', 'decode'] as const).map((phase) => {
      const c = compare(rounds.results, phase);
      return { suite: SUITE, name: `control: stage ${st.stage} / stage ${st.stage} ${phase} @${ids.length}, 1 thread`, value: c.wall, unit: '×', note: `two sessions of one file, measured as the stages are: ${c.note}` };
    });
  } finally {
    await Promise.all(models.map((m) => m.session.release()));
  }
}

/** Stage 2's 1K prefill at 2 threads under each thread setting, the settings interleaved pass by pass. */
async function threadSettings(card: Card, ids: readonly number[]): Promise<BenchResult[]> {
  const threads = 2;
  const st = card.stages[card.stages.length - 1]!;
  const settings: [string, ThreadTuning][] = [
    ["onnxruntime's defaults (spinning, unpinned)", {}],
    ['pinned, spinning', { pin: true }],
    ['not spinning, unpinned (the server default)', DEFAULT_THREAD_TUNING],
    ['pinned, not spinning (this bench)', TUNING],
  ];
  const sessions = await Promise.all(settings.map(([, t]) => session(`${card.dir}/${st.file}`, threads, t)));
  try {
    const rounds = await repeated(
      async (round) => {
        const ms: number[] = [];
        const order = settings.map((_, i) => i);
        if (round % 2 === 1) order.reverse();
        for (const i of order) ms[i] = (await timedPass(passes(sessions[i]!, card, ids, { theta: st.ropeTheta, maxNewTokens: 1, stopIds: [] }))).ms;
        return ms;
      },
      { runs: RUNS, warmup: WARMUP },
    );
    const base = median(rounds.results.map((ms) => ms[0]!));
    return settings.map(([label], i) => {
      const value = ids.length / (median(rounds.results.map((ms) => ms[i]!)) / 1000);
      return {
        suite: SUITE,
        name: `stage ${st.stage} prefill @${ids.length}, ${plural(threads)}, ${label}`,
        value,
        unit: 'tokens/s',
        note: `median of ${RUNS} rounds, the four settings interleaved; ${(value / (ids.length / (base / 1000))).toFixed(2)}× onnxruntime's defaults`,
      };
    });
  } finally {
    await releaseSessions();
  }
}
