import { fmtInt, Tags } from '@ctxlab/ui';
import type { Metadata } from 'next';
import { listPage } from '../../src/server/list-page';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Adapters' };

export default listPage(
  { title: 'Adapters', subtitle: 'LoRA adapters: extracted context extensions ready to merge into sibling models.', path: '/adapters', emptyText: 'No adapters yet.' },
  (a, p) => a.adapters.list(p),
  [
    { header: 'Rank', cell: (a) => a.rank, numeric: true },
    { header: 'Alpha', cell: (a) => a.alpha, numeric: true },
    { header: 'Targets', cell: (a) => a.targetModules.join(', ') },
    { header: 'Size', cell: (a) => (a.sizeBytes ? `${fmtInt(Math.round(a.sizeBytes / 1e6))} MB` : '—'), numeric: true },
    { header: 'Tags', cell: (a) => <Tags tags={a.tags} /> },
  ],
);
