import { fmtInt, Tags } from '@ctxlab/ui';
import { EntityList, listParams } from '../../src/components/EntityList';
import { api } from '../../src/server/api';

export const dynamic = 'force-dynamic';

export default async function AdaptersPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const p = listParams(await searchParams);
  const page = await (await api()).adapters.list(p);
  return (
    <EntityList
      title="Adapters" subtitle="LoRA adapters: extracted context extensions ready to merge into sibling models." basePath="/adapters"
      page={page} {...p} emptyText="No adapters yet."
      columns={[
        { header: 'Name', cell: (a) => a.name },
        { header: 'Rank', cell: (a) => a.rank, numeric: true },
        { header: 'Alpha', cell: (a) => a.alpha, numeric: true },
        { header: 'Targets', cell: (a) => a.targetModules.join(', ') },
        { header: 'Size', cell: (a) => (a.sizeBytes ? `${fmtInt(Math.round(a.sizeBytes / 1e6))} MB` : '—'), numeric: true },
        { header: 'Tags', cell: (a) => <Tags tags={a.tags} /> },
      ]}
    />
  );
}
