import Link from 'next/link';
import { fmtDate, fmtInt, KeyValues, Tags } from '@ctxlab/ui';
import { ArtifactFiles } from '../../../src/components/ArtifactDownloads';
import { PageHead } from '../../../src/components/EntityList';
import { Panel } from '../../../src/components/Panel';
import { recordOr404 } from '../../../src/server/detail';

export const dynamic = 'force-dynamic';

export default async function AdapterPage({ params }: { params: Promise<{ id: string }> }) {
  const { a, record: ad } = await recordOr404(params, (a, id) => a.adapters.get({ id }));
  const [base, source] = await Promise.all([a.models.get({ id: ad.baseModelId }), ad.sourceModelId ? a.models.get({ id: ad.sourceModelId }) : null]);
  return (
    <>
      <PageHead
        crumbs={[['/adapters', 'Adapters']]}
        title={ad.name}
        sub={<>{ad.description} <Tags tags={ad.tags} /></>}
        actions={<Link className="btn secondary" href={`/adapters/${encodeURIComponent(ad.id)}/card`}>Adapter card</Link>}
      />
      <div className="panel">
        <KeyValues
          items={[
            ['base model', <Link key="b" href={`/models/${base.id}`}>{base.name}</Link>],
            ['extracted from', source ? <Link key="s" href={`/models/${source.id}`}>{source.name}</Link> : '—'],
            ['rank', ad.rank], ['alpha', ad.alpha], ['target modules', ad.targetModules.join(', ')], ['dtype', ad.dtype],
            ['size', ad.sizeBytes ? `${fmtInt(ad.sizeBytes)} bytes` : '—'], ['uri', ad.uri], ['digest', ad.digest], ['created', fmtDate(ad.createdAt)],
          ]}
        />
      </div>
      <Panel id="dl-h" title="Download" testId="adapter-download">
        {ad.uri && /^(file|s3):\/\//.test(ad.uri) ? (
          <ArtifactFiles owner="adapters" id={ad.id} uri={ad.uri} what="adapter" />
        ) : (
          <p className="panel-note">
            {ad.uri ? <>Its weights are at <code>{ad.uri}</code>, outside ctxlab&apos;s stores: download them from there.</> : 'No weights are stored for this adapter (no uri registered).'}
          </p>
        )}
      </Panel>
    </>
  );
}
