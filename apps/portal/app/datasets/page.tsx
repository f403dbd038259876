import { EntityList, fmtInt, listParams, Tags } from '../../src/components/EntityList';
import { api } from '../../src/server/api';

export const dynamic = 'force-dynamic';

export default async function DatasetsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const p = listParams(await searchParams);
  const page = await api().datasets.list(p);
  return (
    <EntityList
      title="Datasets" subtitle="Haystack corpora and training mixes, with sizes and token counts per tokenizer." basePath="/datasets"
      page={page} {...p} emptyText="No datasets yet."
      columns={[
        { header: 'Name', cell: (d) => d.name },
        { header: 'Kind', cell: (d) => d.kind },
        { header: 'Language', cell: (d) => d.language },
        { header: 'Documents', cell: (d) => fmtInt(d.documents), numeric: true },
        { header: 'Bytes', cell: (d) => fmtInt(d.bytes), numeric: true },
        { header: 'Tokens', cell: (d) => Object.entries(d.tokenCounts).map(([k, v]) => `${k}: ${fmtInt(v)}`).join(' · ') || '—' },
        { header: 'Tags', cell: (d) => <Tags tags={d.tags} /> },
      ]}
    />
  );
}
