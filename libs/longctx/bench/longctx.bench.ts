import { time, type BenchResult } from '@ctxlab/bench';
import {
  GRADIENT_70B_1048K,
  LLAMA3_70B,
  findGpu,
  paramCount,
  planRecipe,
  planServing,
  thetaForTarget,
  type ServingInput,
  type ThetaRequest,
} from '../src/index';
import { ZHINAO_360K_SERVING } from '../src/testing/serving';

const SUITE = 'longctx';
const LLAMA3 = { theta0: 500000, headDim: 128, originalLength: 8192 };

const thetaCases: [string, ThetaRequest][] = [
  ['thetaForTarget ntk', { ...LLAMA3, rule: 'ntk', targetLength: 2 ** 20 }],
  ['thetaForTarget dynamic-ntk (3-stage chain)', { ...LLAMA3, rule: 'dynamic-ntk', alpha: 4, via: [65536, 262144], targetLength: 524288 }],
  ['thetaForTarget critical-dim', { ...LLAMA3, rule: 'critical-dim', targetLength: 2 ** 20 }],
  ['thetaForTarget critical-dim-even', { ...LLAMA3, rule: 'critical-dim-even', targetLength: 2 ** 20 }],
  ['thetaForTarget yarn', { ...LLAMA3, rule: 'yarn', targetLength: 2 ** 20 }],
  ['thetaForTarget llama3', { ...LLAMA3, rule: 'llama3', targetLength: 131072 }],
  ['thetaForTarget manual', { ...LLAMA3, rule: 'manual', theta: 5e8, targetLength: 365000 }],
];

const gradient70b: ServingInput = { model: LLAMA3_70B, modelName: 'gradientai/Llama-3-70B-Instruct-Gradient-1048k', gpuMemoryGiB: findGpu('H100')!.memoryGiB, tensorParallelSize: 8, maxModelLen: 2 ** 20 };

/** p50/p95 per planner call; every call should stay under 1 ms at p95 so the API can plan inline. */
export default async function (): Promise<BenchResult[]> {
  const cases: [string, () => unknown][] = [
    ...thetaCases.map(([name, req]): [string, () => unknown] => [name, () => thetaForTarget(req)]),
    ['planRecipe Gradient 70B 1048K', () => planRecipe(GRADIENT_70B_1048K, LLAMA3_70B, { mfu: 0.4 })],
    ['planServing 360Zhinao 8B (incl. smallest TP, longest fit)', () => planServing(ZHINAO_360K_SERVING)],
    ['planServing 70B @1M on H100 (incl. smallest TP, longest fit)', () => planServing(gradient70b)],
    // Without chunked prefill the reserve grows with the length, so the longest fit is a binary search.
    ['planServing 70B @1M TP4, no chunked prefill (binary search)', () => planServing({ ...gradient70b, tensorParallelSize: 4, enableChunkedPrefill: false })],
    ['paramCount 70B', () => paramCount(LLAMA3_70B)],
  ];
  const out: BenchResult[] = [];
  for (const [name, fn] of cases) {
    const t = await time(fn, { iterations: 2000, warmup: 200 });
    out.push({ suite: SUITE, name: `${name} p50`, value: t.p50Ms, unit: 'ms' });
    out.push({ suite: SUITE, name: `${name} p95`, value: t.p95Ms, unit: 'ms', target: '< 1 ms', pass: t.p95Ms < 1 });
  }
  return out;
}
