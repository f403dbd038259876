import Link from 'next/link';
import type { ReactNode } from 'react';

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  numeric?: boolean;
}

/** A registry listing: search box, table, pager. Rendered on the server from one API page. */
export function EntityList<T extends { id: string }>(props: {
  title: string;
  subtitle: string;
  basePath: string;
  page: { items: T[]; total: number; nextOffset: number | null };
  offset: number;
  limit: number;
  search?: string | undefined;
  columns: Column<T>[];
  emptyText: string;
}) {
  const { page, offset, limit, search } = props;
  const q = (o: number) => `${props.basePath}?offset=${o}${search ? `&q=${encodeURIComponent(search)}` : ''}`;
  return (
    <>
      <h1>{props.title}</h1>
      <p className="sub">{props.subtitle}</p>
      <form className="toolbar" role="search" action={props.basePath}>
        <label htmlFor="q" className="sr-only" style={{ position: 'absolute', left: -9999 }}>Search {props.title.toLowerCase()}</label>
        <input id="q" name="q" type="search" placeholder={`Search ${props.title.toLowerCase()}…`} defaultValue={search ?? ''} />
        <button type="submit">Search</button>
      </form>
      <div className="panel">
        {page.items.length === 0 ? (
          <p className="empty">{search ? `Nothing matches “${search}”.` : props.emptyText}</p>
        ) : (
          <table className="data">
            <thead>
              <tr>
                {props.columns.map((c) => (
                  <th key={c.header} className={c.numeric ? 'num' : undefined} scope="col">{c.header}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {page.items.map((row) => (
                <tr key={row.id}>
                  {props.columns.map((c, i) => (
                    <td key={c.header} className={c.numeric ? 'num' : undefined}>
                      {i === 0 ? <Link href={`${props.basePath}/${row.id}`}>{c.cell(row)}</Link> : c.cell(row)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <div className="pager">
          <span>{page.total === 0 ? 'none' : `${offset + 1}–${offset + page.items.length} of ${page.total}`}</span>
          {offset > 0 && <Link href={q(Math.max(0, offset - limit))}>← previous</Link>}
          {page.nextOffset !== null && <Link href={q(page.nextOffset)}>next →</Link>}
        </div>
      </div>
    </>
  );
}

export function Tags({ tags }: { tags: string[] }) {
  return <>{tags.map((t) => <span key={t} className="tag">{t}</span>)}</>;
}

export function KeyValues({ items }: { items: [string, ReactNode][] }) {
  return (
    <dl className="kv">
      {items.map(([k, v]) => (
        <div key={k} style={{ display: 'contents' }}>
          <dt>{k}</dt>
          <dd>{v ?? '—'}</dd>
        </div>
      ))}
    </dl>
  );
}

export const fmtInt = (n: number | null | undefined) => (n === null || n === undefined ? '—' : n.toLocaleString('en-US'));
export const fmtDate = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString().replace('T', ' ').slice(0, 16) : '—');

export function listParams(sp: Record<string, string | string[] | undefined>) {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const offset = Math.max(0, Number(one(sp.offset) ?? 0) || 0);
  const search = one(sp.q)?.trim() || undefined;
  return { offset, search, limit: 50 };
}
