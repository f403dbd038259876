import { fmtInt, Tags } from '@ctxlab/ui';
import type { Metadata } from 'next';
import { listPage } from '../../src/server/list-page';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Recipes' };

export default listPage(
  { title: 'Recipes', subtitle: 'Versioned context-extension recipes: stages, method, data and hardware.', path: '/recipes', emptyText: 'No recipes yet.' },
  (a, p) => a.recipes.list(p),
  [
    { header: 'Method', cell: (r) => r.method },
    { header: 'Version', cell: (r) => r.version, numeric: true },
    { header: 'Stages', cell: (r) => r.spec.stages.length, numeric: true },
    { header: 'Target context', cell: (r) => fmtInt(r.spec.targetContext), numeric: true },
    { header: 'Tags', cell: (r) => <Tags tags={r.tags} /> },
  ],
);
