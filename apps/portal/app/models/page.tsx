import { contextLabel, DataTable, fmtInt, Tags } from '@ctxlab/ui';
import type { Metadata } from 'next';
import Link from 'next/link';
import { hrefWith, listParams, one, PageHead, Pager, type SearchParams } from '../../src/components/EntityList';
import { api } from '../../src/server/api';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Models' };

const CONTEXTS = [8192, 32_768, 65_536, 81_920, 131_072, 262_144, 524_288, 1_048_576];
const SORTS = {
  name: { field: 'name', dir: 'asc' },
  context: { field: 'maxPositionEmbeddings', dir: 'desc' },
  theta: { field: 'ropeTheta', dir: 'desc' },
  newest: { field: 'createdAt', dir: 'desc' },
} as const;

export default async function ModelsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const sp = await searchParams;
  const p = listParams(sp);
  const originRaw = one(sp.origin);
  const origin = originRaw === 'base' || originRaw === 'derived' ? originRaw : undefined;
  const family = one(sp.family)?.trim() || undefined;
  const minContext = Number(one(sp.minContext)) > 0 ? Math.floor(Number(one(sp.minContext))) : undefined;
  const sortKey = (one(sp.sort) ?? 'name') as keyof typeof SORTS;
  const sort = SORTS[sortKey] ?? SORTS.name;
  const a = (await api());
  const [page, facets] = await Promise.all([a.models.list({ ...p, origin, family, minContext, sort }), a.portal.modelFacets()]);
  const filters = { q: p.search, origin, family, minContext, sort: sortKey === 'name' ? undefined : sortKey };
  const filtered = Boolean(p.search || origin || family || minContext);
  return (
    <>
      <PageHead title="Models" sub="Base and derived models with the architecture the planner reads." />
      <form className="filters" role="search" action="/models" aria-label="Filter models">
        <div className="field">
          <label htmlFor="q">Search</label>
          <input id="q" name="q" type="search" placeholder="name, family, description…" defaultValue={p.search ?? ''} style={{ minWidth: 240 }} />
        </div>
        <div className="field">
          <label htmlFor="origin">Origin</label>
          <select id="origin" name="origin" defaultValue={origin ?? ''}>
            <option value="">any</option>
            <option value="base">base</option>
            <option value="derived">derived</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="family">Family</label>
          <select id="family" name="family" defaultValue={family ?? ''}>
            <option value="">any</option>
            {facets.families.map((f) => <option key={f} value={f}>{f}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="minContext">Context at least</label>
          <select id="minContext" name="minContext" defaultValue={minContext ? String(minContext) : ''}>
            <option value="">any</option>
            {CONTEXTS.map((n) => <option key={n} value={n}>{contextLabel(n)} ({fmtInt(n)})</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="sort">Sort by</label>
          <select id="sort" name="sort" defaultValue={sortKey}>
            <option value="name">name</option>
            <option value="context">longest context</option>
            <option value="theta">highest RoPE θ</option>
            <option value="newest">newest</option>
          </select>
        </div>
        <button type="submit" className="btn secondary">Apply</button>
        {filtered && <Link href="/models">Clear filters</Link>}
      </form>
      <div className="panel">
        <DataTable
          caption="Models"
          rows={page.items}
          rowKey={(m) => m.id}
          empty={filtered ? <>No model matches these filters. <Link href="/models">Show all models</Link></> : 'No models yet: create one through the API or run the seed (npm run db:seed).'}
          columns={[
            { header: 'Name', rowHeader: true, cell: (m) => <Link href={`/models/${m.id}`}>{m.name}</Link> },
            { header: 'Origin', cell: (m) => <span className={`badge ${m.origin === 'base' ? 'badge-neutral' : 'badge-info'}`}>{m.origin}</span> },
            { header: 'Family', cell: (m) => m.family ?? '—' },
            { header: 'Context', numeric: true, cell: (m) => <span title={fmtInt(m.maxPositionEmbeddings)}>{contextLabel(m.maxPositionEmbeddings)}</span> },
            { header: 'RoPE θ', numeric: true, cell: (m) => fmtInt(m.ropeTheta) },
            { header: 'Layers', numeric: true, cell: (m) => m.numLayers },
            { header: 'Tags', cell: (m) => <Tags tags={m.tags} /> },
          ]}
        />
        <Pager total={page.total} offset={p.offset} count={page.items.length} limit={p.limit} href={(o) => hrefWith('/models', { ...filters, offset: o })} />
      </div>
    </>
  );
}
