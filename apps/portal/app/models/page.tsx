import { contextLabel, fmtInt, Tags } from '@ctxlab/ui';
import type { Metadata } from 'next';
import Link from 'next/link';
import { HubImport } from '../../src/components/HubImport';
import { cursorLinks, FilterForm, FilterSelect, listParams, ListPanel, one, PageHead, Pager, SearchField, type SearchParams } from '../../src/components/EntityList';
import { api } from '../../src/server/api';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Models' };

const CONTEXTS = [8192, 32_768, 65_536, 81_920, 131_072, 262_144, 524_288, 1_048_576];
const ORIGINS = [['base', 'base'], ['derived', 'derived']] as const;
const SORTS = {
  name: { field: 'name', dir: 'asc' },
  context: { field: 'maxPositionEmbeddings', dir: 'desc' },
  theta: { field: 'ropeTheta', dir: 'desc' },
  newest: { field: 'createdAt', dir: 'desc' },
} as const;
const SORT_CHOICES = [['name', 'name'], ['context', 'longest context'], ['theta', 'highest RoPE θ'], ['newest', 'newest']] as const;

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
      <FilterForm action="/models" label="Filter models" filtered={filtered}>
        <SearchField label="Search" placeholder="name, family, description…" search={p.search} minWidth={240} />
        <FilterSelect name="origin" label="Origin" value={origin} choices={ORIGINS} />
        <FilterSelect name="family" label="Family" value={family} choices={facets.families.map((f) => [f, f] as const)} />
        <FilterSelect name="minContext" label="Context at least" value={minContext ? String(minContext) : undefined} choices={CONTEXTS.map((n) => [n, `${contextLabel(n)} (${fmtInt(n)})`] as const)} />
        <FilterSelect name="sort" label="Sort by" value={sortKey} choices={SORT_CHOICES} any={false} />
      </FilterForm>
      <ListPanel
        caption="Models"
        rows={page.items}
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
      >
        <Pager total={page.total} at={p.at} count={page.items.length} limit={p.limit} {...cursorLinks('/models', filters, p, page)} />
      </ListPanel>
      <section className="panel" aria-labelledby="hub-imp-h">
        <h2 id="hub-imp-h">Import from Hugging Face files</h2>
        <p className="panel-note" style={{ marginTop: 0 }}>
          A model folder (config.json, tokenizer files, safetensors) or a PEFT adapter folder (adapter_config.json). Llama, Mistral, Qwen2 and Gemma 2 models; the planner reads the imported config. From a terminal: <code>ctxlab models import DIR</code>.
        </p>
        <HubImport />
      </section>
    </>
  );
}
