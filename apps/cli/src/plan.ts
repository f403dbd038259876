/** `ctxlab plan …`: the planner's numbers as tables a person reads (or --json for scripts). */
import type { createClient } from '@ctxlab/api/client';
import { table } from './table';

type Api = ReturnType<typeof createClient>;
type Opts = Record<string, string | boolean | undefined>;

export const planUsage = `ctxlab plan theta  --model NAME --target TOKENS --rule ntk|dynamic-ntk|critical-dim|critical-dim-even|yarn|llama3 [--alpha 4] [--via 65536,262144]
ctxlab plan recipe NAME [--mfu 0.4] [--gpu h100-sxm-80gb] [--trained-tokens N,N,…]  (tokens each stage really trained on; empty = full length)
ctxlab plan serve  --model NAME --gpu-mem GIB --tp N --max-model-len TOKENS [--util 0.9] [--kv auto|bf16|fp8]
ctxlab plan memory --model NAME [--tp N] [--dtype bf16] [--seq TOKENS --ring-gpus G] [--optimizer fp32-master|bf16]
ctxlab plan lora   --model NAME --rank R --targets q_proj,k_proj,v_proj,o_proj`;

const int = (v: unknown, name: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || v === undefined || v === '') throw new Error(`--${name} needs a number (got ${v === undefined ? 'nothing' : String(v)})`);
  return n;
};
const str = (v: unknown, name: string): string => {
  if (typeof v !== 'string' || !v) throw new Error(`--${name} is required`);
  return v;
};
const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
const n = (x: number | null | undefined, digits = 0) => (x === null || x === undefined ? '—' : x.toLocaleString('en-US', { maximumFractionDigits: digits }));

export async function plan(api: Api, sub: string | undefined, arg: string | undefined, o: Opts): Promise<{ data: unknown; text: string }> {
  switch (sub) {
    case 'theta': {
      const r = await api.planner.theta.query({
        model: { modelName: str(o.model, 'model') },
        targetLength: int(o.target, 'target'),
        rule: str(o.rule, 'rule') as 'ntk',
        ...(o.alpha ? { alpha: int(o.alpha, 'alpha') } : {}),
        ...(typeof o.via === 'string' ? { via: o.via.split(',').map((v) => int(v, 'via')) } : {}),
      });
      const chain = r.chain ? `\n${table(['length', 'theta'], r.chain.map((s) => [s.length, s.theta]))}` : '';
      return { data: r, text: `θ = ${n(r.theta)} (${r.rule})\n${r.explanation}${chain}` };
    }
    case 'recipe': {
      const list = await api.recipes.list.query({ search: str(arg, 'recipe name'), limit: 5 });
      const rec = list.items.find((x) => x.name === arg) ?? list.items[0];
      if (!rec) throw new Error(`no recipe named ${arg}`);
      const trained = typeof o['trained-tokens'] === 'string' ? o['trained-tokens'].split(',').map((t) => (t.trim() ? int(t.trim(), 'trained-tokens') : null)) : undefined;
      const r = await api.planner.recipe.query({ recipeId: rec.id, ...(o.mfu ? { mfu: int(o.mfu, 'mfu') } : {}), ...(typeof o.gpu === 'string' ? { gpu: o.gpu } : {}), ...(trained ? { trainedTokens: trained } : {}) });
      if (!r.plan) return { data: r, text: `no plan: ${r.reason}` };
      const p = r.plan;
      const rows = p.stages.map((s) => [s.name, s.seqLength, s.ropeTheta, s.tokens, s.gpus, s.gpu?.id ?? '?', n(s.gpuHours), n(s.wallHours, 1), s.published ? n(s.published.tokensPerSecondPerGpu, 1) : '—', s.published?.impliedMfu ? `${n(s.published.impliedMfu, 2)} / ${n(s.published.impliedMfuWithoutEmbeddings, 2)}` : '—', s.supportedContext]);
      const text = [
        `${rec.name} v${rec.version} · ${n(p.params)} parameters · MFU ${r.mfu}`,
        table(['stage', 'length', 'theta', 'tokens', 'GPUs', 'GPU', 'GPU-hours', 'wall h', 'published tok/s/GPU', 'implied MFU (/ without embeddings)', 'θ supports'], rows),
        `total: ${n(p.totals.tokens)} tokens · ${p.totals.totalFlops.toExponential(3)} FLOPs · ${n(p.totals.gpuHours)} GPU-hours`,
        ...p.errors.map((e) => `error: ${e.message}`),
        ...p.warnings.map((w) => `warning: ${w.message}`),
      ];
      return { data: r, text: text.join('\n') };
    }
    case 'serve': {
      const r = await api.planner.serving.query({
        model: { modelName: str(o.model, 'model') },
        gpuMemoryGiB: int(o['gpu-mem'], 'gpu-mem'),
        tensorParallelSize: int(o.tp, 'tp'),
        maxModelLen: int(o['max-model-len'], 'max-model-len'),
        ...(o.util ? { gpuMemoryUtilization: int(o.util, 'util') } : {}),
        ...(typeof o.kv === 'string' ? { kvCacheDtype: o.kv as 'fp8' } : {}),
      });
      const m = r.perGpu;
      const text = [
        `${r.fits ? 'FITS' : 'DOES NOT FIT'}: max-model-len ${n(r.maxModelLen)} on TP ${r.tensorParallelSize}`,
        table(['per GPU', 'bytes'], [
          ['usable (util × total)', gib(m.usableBytes)], ['weights', gib(m.weightBytes)], ['activations + logits + reserve', gib(m.activationBytes + m.logitsBytes + m.fixedReserveBytes)], ['KV cache', gib(m.kvCacheBytes)],
        ]),
        `longest max-model-len that fits: ${n(r.maxModelLenThatFits)} · full-length sequences at once: ${n(r.concurrentFullLengthSequences)} · smallest TP that fits: ${r.smallestFittingTensorParallelSize ?? 'none'}`,
        ...r.problems.map((p) => `problem: ${p}`),
        '',
        r.command.shell,
      ];
      return { data: r, text: text.join('\n') };
    }
    case 'memory': {
      const r = await api.planner.memory.query({
        model: { modelName: str(o.model, 'model') },
        ...(o.tp ? { tensorParallelSize: int(o.tp, 'tp') } : {}),
        ...(typeof o.dtype === 'string' ? { dtype: o.dtype as 'bf16' } : {}),
        ...(o.seq ? { seqLength: int(o.seq, 'seq') } : {}),
        ...(o['ring-gpus'] ? { ringGpus: int(o['ring-gpus'], 'ring-gpus') } : {}),
        ...(typeof o.optimizer === 'string' ? { optimizerPrecision: o.optimizer as 'bf16' } : {}),
      });
      const rows: [string, string][] = [
        ['parameters', n(r.parameters.total)], ['weights', gib(r.weightBytes)], ['weights per GPU', gib(r.weightBytesPerGpu)],
        ['KV bytes per token', n(r.kvBytesPerToken)], ['KV bytes per token per GPU', n(r.kvBytesPerTokenPerGpu)],
      ];
      if (r.training) rows.push(['training memory per GPU', gib(r.training.total)]);
      return { data: r, text: `${r.model}\n${table(['quantity', 'value'], rows)}${r.training ? `\nassumptions:\n- ${r.training.assumptions.join('\n- ')}` : ''}` };
    }
    case 'lora': {
      const r = await api.planner.adapter.query({ model: { modelName: str(o.model, 'model') }, rank: int(o.rank, 'rank'), targetModules: str(o.targets, 'targets').split(',') });
      return { data: r, text: `${table(['module', 'in', 'out', 'params (all layers)'], r.modules.map((m) => [m.module, m.inFeatures, m.outFeatures, m.params]))}\ntotal ${n(r.params)} parameters · ${n(r.bytes)} bytes (${r.dtype})` };
    }
    default:
      throw new Error(`usage:\n${planUsage}`);
  }
}
