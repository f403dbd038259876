import { fmtInt, Tags } from '@ctxlab/ui';
import { EntityList, listParams } from '../../src/components/EntityList';
import { api } from '../../src/server/api';

export const dynamic = 'force-dynamic';

export default async function RecipesPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const p = listParams(await searchParams);
  const page = await (await api()).recipes.list(p);
  return (
    <EntityList
      title="Recipes" subtitle="Versioned context-extension recipes: stages, method, data and hardware." basePath="/recipes"
      page={page} {...p} emptyText="No recipes yet."
      columns={[
        { header: 'Name', cell: (r) => r.name },
        { header: 'Version', cell: (r) => r.version, numeric: true },
        { header: 'Method', cell: (r) => r.method },
        { header: 'Stages', cell: (r) => r.spec.stages.length, numeric: true },
        { header: 'Target context', cell: (r) => fmtInt(r.spec.targetContext), numeric: true },
        { header: 'Tags', cell: (r) => <Tags tags={r.tags} /> },
      ]}
    />
  );
}
