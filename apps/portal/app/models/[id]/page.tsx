import Link from 'next/link';
import { notFound } from 'next/navigation';
import { fmtInt, KeyValues, Tags } from '../../../src/components/EntityList';
import { LineageGraph } from '../../../src/components/LineageGraph';
import { api, loadOr404 } from '../../../src/server/api';

export const dynamic = 'force-dynamic';

export default async function ModelPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const a = api();
  const m = await loadOr404(() => a.models.get({ id }));
  if (!m) notFound();
  const [lineage, adapters] = await Promise.all([a.models.lineage({ modelId: id }), a.adapters.list({ modelId: id, limit: 50 })]);
  return (
    <>
      <h1>{m.name}</h1>
      <p className="sub">{m.description ?? ''} <Tags tags={m.tags} /></p>
      <div className="panel">
        <h2>Architecture</h2>
        <KeyValues
          items={[
            ['origin', m.origin], ['family', m.family], ['layers', m.numLayers], ['hidden size', fmtInt(m.hiddenSize)],
            ['attention heads', m.numAttentionHeads], ['KV heads', m.numKeyValueHeads], ['head dim', m.headDim],
            ['intermediate size', fmtInt(m.intermediateSize)], ['vocabulary', fmtInt(m.vocabSize)], ['RoPE θ', fmtInt(m.ropeTheta)],
            ['RoPE scaling', m.ropeScaling ? JSON.stringify(m.ropeScaling) : 'none'], ['max positions', fmtInt(m.maxPositionEmbeddings)],
            ['tokenizer', m.tokenizer], ['dtype', m.dtype], ['source', m.sourceUri],
          ]}
        />
      </div>
      <div className="panel">
        <h2>Planner facts</h2>
        <KeyValues
          items={[
            ['parameters', fmtInt(m.derived.parameters)],
            ['weights', `${(m.derived.weightBytes / 2 ** 30).toFixed(1)} GiB (${m.dtype})`],
            ['KV cache per token', `${fmtInt(m.derived.kvBytesPerToken.bf16)} bytes bf16 · ${fmtInt(m.derived.kvBytesPerToken.fp8)} bytes fp8`],
            ['longest context its θ supports', `${fmtInt(m.derived.longestContextForTheta)} tokens (critical-dimension rule, from ${m.derived.pretrainedFrom.name}'s θ ${fmtInt(m.derived.pretrainedFrom.ropeTheta)} at ${fmtInt(m.derived.pretrainedFrom.maxPositionEmbeddings)})`],
          ]}
        />
      </div>
      <div className="panel">
        <h2>Lineage</h2>
        {lineage.edges.length === 0 ? <p className="empty">No recorded parents or children.</p> : <LineageGraph graph={lineage} />}
      </div>
      <div className="panel">
        <h2>Adapters</h2>
        {adapters.items.length === 0 ? (
          <p className="empty">None.</p>
        ) : (
          <ul>{adapters.items.map((ad) => <li key={ad.id}><Link href={`/adapters/${ad.id}`}>{ad.name}</Link> (rank {ad.rank}, {ad.baseModelId === id ? 'on this base' : 'extracted from this model'})</li>)}</ul>
        )}
      </div>
    </>
  );
}
