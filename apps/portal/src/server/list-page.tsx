import type { Column } from '@ctxlab/ui';
import { listParams, PageHead, SearchList, type SearchParams } from '../components/EntityList';
import { api } from './api';

type Api = Awaited<ReturnType<typeof api>>;

/**
 * A registry list page, as its module's default export: the heading, then a search box, one page of records
 * (`load` asks the API for it; each name links to the record's page under `path`) and the pager.
 */
export function listPage<T extends { id: string; name: string }>(
  head: { title: string; subtitle: string; path: string; emptyText: string },
  load: (a: Api, p: ReturnType<typeof listParams>) => Promise<{ items: T[]; total: number; nextCursor: string | null }>,
  columns: Column<T>[],
) {
  return async function ListPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
    const p = listParams(await searchParams);
    const page = await load(await api(), p);
    return (
      <>
        <PageHead title={head.title} sub={head.subtitle} />
        <SearchList
          basePath={head.path} label={`Search ${head.title.toLowerCase()}`} placeholder="name, description…" minWidth={280} clear
          caption={head.title} params={p} page={page} columns={columns} empty={head.emptyText}
        />
      </>
    );
  };
}
