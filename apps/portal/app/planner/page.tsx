import { optimizerPrecisionSchema } from '@ctxlab/contracts';
import { EmptyState } from '@ctxlab/ui';
import type { Metadata } from 'next';
import { one, PageHead, type SearchParams } from '../../src/components/EntityList';
import { Planner, type PlannerInitial } from '../../src/components/Planner';
import { api } from '../../src/server/api';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Planner' };

const num = (v: string | undefined) => (v !== undefined && Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : undefined);

export default async function PlannerPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const sp = await searchParams;
  const a = (await api());
  const [models, gpus] = await Promise.all([a.models.list({ limit: 200, sort: { field: 'name', dir: 'asc' } }), a.planner.gpus()]);
  const wanted = one(sp.model);
  const model = models.items.find((m) => m.id === wanted || m.name === wanted) ?? models.items.find((m) => m.name === 'Meta-Llama-3-8B-Instruct') ?? models.items[0];
  const gpuParam = one(sp.gpu)?.toLowerCase();
  const gpu = gpus.find((g) => g.id === gpuParam || g.name.toLowerCase().includes(gpuParam ?? '\u0000')) ?? gpus[0];
  const initial: PlannerInitial = {
    modelId: model?.id ?? '',
    targetLength: num(one(sp.target)) ?? 262_144,
    rule: one(sp.rule) ?? 'critical-dim',
    method: one(sp.method) ?? 'full',
    gpuId: gpu?.id ?? '',
    trainGpus: num(one(sp.gpus)) ?? 64,
    batchSize: num(one(sp.batch)) ?? 8,
    gradientAccumulation: num(one(sp.accum)) ?? 1,
    steps: num(one(sp.steps)) ?? 25,
    optimizerPrecision: optimizerPrecisionSchema.catch('fp32-master').parse(one(sp.optimizer)),
  };
  return (
    <>
      <PageHead
        title="Planner"
        sub="Change the target length, θ rule, method or GPU: RoPE θ, KV-cache memory, the serving fit and the training cost update as you type."
      />
      {models.items.length === 0 ? (
        <EmptyState title="No models in the registry"><p>The planner reads a model&apos;s architecture; seed the registry (npm run db:seed) or create a model first.</p></EmptyState>
      ) : (
        <Planner
          models={models.items.map((m) => ({ id: m.id, name: m.name, maxPositionEmbeddings: m.maxPositionEmbeddings, ropeTheta: m.ropeTheta, numLayers: m.numLayers }))}
          gpus={gpus.map((g) => ({ id: g.id, name: g.name, memoryGiB: g.memoryGiB, peakBf16Flops: g.peakBf16Flops }))}
          initial={initial}
        />
      )}
    </>
  );
}
