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
