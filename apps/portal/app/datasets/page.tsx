import { fmtBytes, fmtInt, Tags } from '@ctxlab/ui';
import type { Metadata } from 'next';
import { BenchmarkImport } from '../../src/components/BenchmarkImport';
import { CorpusImport } from '../../src/components/CorpusImport';
import { listParams, PageHead, SearchList, type SearchParams } from '../../src/components/EntityList';
import { api } from '../../src/server/api';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Datasets' };

export default async function DatasetsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const p = listParams(await searchParams);
  const page = await (await api()).datasets.list(p);
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
