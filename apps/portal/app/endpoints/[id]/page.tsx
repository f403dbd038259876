import { notFound } from 'next/navigation';
import { fmtDate, fmtInt, KeyValues, Tags } from '../../../src/components/EntityList';
import { api, loadOr404 } from '../../../src/server/api';

export const dynamic = 'force-dynamic';

export default async function EndpointPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const e = await loadOr404(() => api().endpoints.get({ id }));
  if (!e) notFound();
  return (
    <>
      <h1>{e.name}</h1>
      <p className="sub"><Tags tags={e.tags} /></p>
      <div className="panel">
        <KeyValues
          items={[
            ['URL', <span key="u" className="mono">{e.url}</span>], ['kind', e.kind], ['served model name', e.servedModelName],
            ['max model len', fmtInt(e.maxModelLen)], ['last status', e.lastStatus], ['last checked', fmtDate(e.lastCheckedAt)], ['created', fmtDate(e.createdAt)],
          ]}
        />
      </div>
    </>
  );
}
