import { fmtBytes, fmtInt, Tags } from '@ctxlab/ui';
import type { Metadata } from 'next';
import { BenchmarkImport } from '../../src/components/BenchmarkImport';
import { CorpusImport } from '../../src/components/CorpusImport';
import { listParams, PageHead, SearchList, type SearchParams } from '../../src/components/EntityList';
import { PrepareDatasetForm, type RecipeChoice } from '../../src/components/PrepareDatasetForm';
import { tokenizerChoices } from '../../src/lib/tokenizers';
import { api } from '../../src/server/api';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Datasets' };

export default async function DatasetsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const p = listParams(await searchParams);
  const a = await api();
  const [page, all, recipes, models] = await Promise.all([
    a.datasets.list(p),
    a.datasets.list({ limit: 200, sort: { field: 'name', dir: 'asc' } }),
    a.recipes.list({ limit: 200, sort: { field: 'name', dir: 'asc' } }),
    a.models.list({ limit: 200, sort: { field: 'name', dir: 'asc' } }),
  ]);
  // What the prepare form offers: every dataset but benchmarks (scored, never trained on), each recipe's stages with their data recipes in brief.
  const sources = all.items.filter((d) => d.kind !== 'benchmark').map((d) => ({ id: d.id, name: d.name, kind: d.kind }));
  const recipeChoices: RecipeChoice[] = recipes.items.map((r) => ({
    id: r.id, name: r.name, version: r.version,
    stages: r.spec.stages.map((s) => ({
      name: s.name, seqLength: s.seqLength,
      data: s.data ? { sources: s.data.sources.map((x) => ({ dataset: x.dataset, ratio: x.ratio ?? null })), format: s.data.format, packing: s.data.packing, maxTokens: s.data.maxTokens ?? null } : null,
    })),
  }));
  const tokenizers = [...new Set(page.items.flatMap((d) => Object.keys(d.tokenCounts)))].sort();
  return (
    <>
      <PageHead title="Datasets" sub="Haystack corpora and training mixes, with sizes and token counts per tokenizer. The shipped haystacks (sotu-en, tang-zh) need no import." />
      <section className="panel" aria-labelledby="imp-h">
        <h2 id="imp-h">Import a corpus</h2>
        <CorpusImport />
      </section>
      <section className="panel" aria-labelledby="bench-imp-h">
        <h2 id="bench-imp-h">Import a benchmark</h2>
        <BenchmarkImport />
      </section>
      <section className="panel" aria-labelledby="prep-form-h">
        <h2 id="prep-form-h">Prepare training data</h2>
        <p className="panel-note">Tokenises, mixes and packs registered datasets into the shards a trainer loads unchanged (EasyContext or longllm_qlora), as a job; the result is registered with its stats and lineage.</p>
        <PrepareDatasetForm datasets={sources} recipes={recipeChoices} tokenizers={tokenizerChoices(models.items)} />
      </section>
      <SearchList
        basePath="/datasets" label="Search datasets" placeholder="name, source…" minWidth={260}
        caption="Datasets" params={p} page={page} empty="No datasets yet: import a folder of .txt files above to use your own haystack."
        columns={[
          { header: 'Kind', cell: (d) => d.kind },
          { header: 'Language', cell: (d) => d.language },
          { header: 'Documents', numeric: true, cell: (d) => fmtInt(d.documents) },
          { header: 'Size', numeric: true, cell: (d) => fmtBytes(d.bytes) },
          ...tokenizers.map((t) => ({ header: `${t} tokens`, id: `tok-${t}`, numeric: true, cell: (d: (typeof page.items)[number]) => fmtInt(d.tokenCounts[t]) })),
          { header: 'Tags', cell: (d) => <Tags tags={d.tags} /> },
        ]}
      />
    </>
  );
}
