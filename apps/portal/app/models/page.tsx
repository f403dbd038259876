import { EntityList, fmtInt, listParams, Tags } from '../../src/components/EntityList';
import { api } from '../../src/server/api';

export const dynamic = 'force-dynamic';

export default async function ModelsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const p = listParams(await searchParams);
  const page = await api().models.list(p);
  return (
    <EntityList
      title="Models" subtitle="Base and derived models with the architecture the planner reads." basePath="/models"
      page={page} {...p} emptyText="No models yet: create one through the API or run the seed."
      columns={[
        { header: 'Name', cell: (m) => m.name },
        { header: 'Origin', cell: (m) => m.origin },
        { header: 'Context', cell: (m) => fmtInt(m.maxPositionEmbeddings), numeric: true },
        { header: 'RoPE θ', cell: (m) => fmtInt(m.ropeTheta), numeric: true },
        { header: 'Layers', cell: (m) => m.numLayers, numeric: true },
        { header: 'Tags', cell: (m) => <Tags tags={m.tags} /> },
      ]}
    />
  );
}
