import { DataTable, type Column } from '@ctxlab/ui';
import Link from 'next/link';
import type { ReactNode } from 'react';

export type SearchParams = Record<string, string | string[] | undefined>;

export const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
export const many = (v: string | string[] | undefined) => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean));

export function listParams(sp: SearchParams, limit = 50) {
  const offset = Math.max(0, Math.floor(Number(one(sp.offset) ?? 0)) || 0);
  const search = one(sp.q)?.trim().slice(0, 200) || undefined;
  return { offset, search, limit };
}

/** Builds a list URL keeping the current filters and changing some. */
export function hrefWith(base: string, params: Record<string, string | number | undefined | null>) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '' && !(k === 'offset' && v === 0)) q.set(k, String(v));
  const s = q.toString();
  return s ? `${base}?${s}` : base;
}

export function PageHead({ title, sub, crumbs, actions }: { title: ReactNode; sub?: ReactNode; crumbs?: [string, string][]; actions?: ReactNode }) {
  return (
    <div className="page-head">
      <div>
        {crumbs && crumbs.length > 0 && (
          <nav className="crumbs" aria-label="Breadcrumb">
            {crumbs.map(([href, label], i) => <span key={href}>{i > 0 ? ' / ' : ''}<Link href={href}>{label}</Link></span>)}
          </nav>
        )}
        <h1>{title}</h1>
        {sub ? <p className="sub">{sub}</p> : null}
      </div>
      {actions ? <div className="page-actions">{actions}</div> : null}
    </div>
  );
}

export function Pager({ total, offset, count, limit, href }: { total: number; offset: number; count: number; limit: number; href: (offset: number) => string }) {
  const pages = Math.max(1, Math.ceil(total / limit));
  const pageNo = Math.floor(offset / limit) + 1;
  return (
    <nav className="pager" aria-label="Pages">
      <span>{total === 0 ? 'none' : `${(offset + 1).toLocaleString('en-US')}–${(offset + count).toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`}</span>
      <span className="spacer" />
      {offset > 0 && <Link href={href(0)} aria-label="First page">« first</Link>}
      {offset > 0 && <Link href={href(Math.max(0, offset - limit))} rel="prev">← previous</Link>}
      <span>page {pageNo} of {pages.toLocaleString('en-US')}</span>
      {offset + count < total && <Link href={href(offset + limit)} rel="next">next →</Link>}
      {offset + count < total && <Link href={href((pages - 1) * limit)} aria-label="Last page">last »</Link>}
    </nav>
  );
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
  emptyText: ReactNode;
  actions?: ReactNode;
  before?: ReactNode;
}) {
  const { page, offset, limit, search } = props;
  const [first, ...rest] = props.columns;
  const columns: Column<T>[] = first ? [{ ...first, cell: (r: T) => <Link href={`${props.basePath}/${r.id}`}>{first.cell(r)}</Link> }, ...rest] : [];
  return (
    <>
      <PageHead title={props.title} sub={props.subtitle} actions={props.actions} />
      {props.before}
      <form className="toolbar" role="search" action={props.basePath}>
        <div className="field">
          <label htmlFor="q">Search {props.title.toLowerCase()}</label>
          <input id="q" name="q" type="search" placeholder="name, description…" defaultValue={search ?? ''} style={{ minWidth: 280 }} />
        </div>
        <button type="submit" className="btn secondary">Search</button>
        {search && <Link href={props.basePath}>Clear</Link>}
      </form>
      <div className="panel">
        <DataTable
          caption={props.title}
          columns={columns}
          rows={page.items}
          rowKey={(r) => r.id}
          empty={search ? <>Nothing matches “{search}”. <Link href={props.basePath}>Show all</Link></> : props.emptyText}
        />
        <Pager total={page.total} offset={offset} count={page.items.length} limit={limit} href={(o) => hrefWith(props.basePath, { q: search, offset: o })} />
      </div>
    </>
  );
}
