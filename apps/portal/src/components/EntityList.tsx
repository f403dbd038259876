import { DataTable, type Column } from '@ctxlab/ui';
import Link from 'next/link';
import type { ReactNode } from 'react';

export type SearchParams = Record<string, string | string[] | undefined>;

export const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
export const many = (v: string | string[] | undefined) => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean));

const CURSOR = /^[A-Za-z0-9_-]{1,512}$/;

/**
 * A list page's URL parameters: `after` (the previous page's nextCursor: lists page by keyset) with
 * `at` (how many rows come before this page, for the "51–100 of …" label only), the search `q`,
 * and `offset` for older links and the lists that still page by offset.
 */
export function listParams(sp: SearchParams, limit = 50) {
  const offset = Math.max(0, Math.floor(Number(one(sp.offset) ?? 0)) || 0);
  const search = one(sp.q)?.trim().slice(0, 200) || undefined;
  const after = one(sp.after);
  const cursor = after && CURSOR.test(after) ? after : undefined;
  const at = cursor ? Math.max(0, Math.floor(Number(one(sp.at) ?? 0)) || 0) : offset;
  return { offset: cursor ? 0 : offset, cursor, at, search, limit };
}

/** The first and next links of a keyset list: `params` are its filters, `page` what the API answered. */
export function cursorLinks(base: string, params: Record<string, string | number | undefined | null>, p: { at: number }, page: { items: readonly unknown[]; nextCursor: string | null }) {
  return {
    first: p.at > 0 ? hrefWith(base, params) : null,
    next: page.nextCursor ? hrefWith(base, { ...params, after: page.nextCursor, at: p.at + page.items.length }) : null,
  };
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

/**
 * Where a page sits (`at` rows before it) and links to the first and the next page (null: none).
 * Lists page forward by keyset — the next page starts after this one's last row, however deep —
 * so there is no jump to the last page; the browser's back button goes back.
 */
export function Pager({ total, at, count, limit, first, next }: { total: number; at: number; count: number; limit: number; first: string | null; next: string | null }) {
  const pages = Math.max(1, Math.ceil(total / limit));
  const pageNo = Math.min(pages, Math.floor(at / limit) + 1);
  return (
    <nav className="pager" aria-label="Pages">
      <span>{total === 0 ? 'none' : `${(at + 1).toLocaleString('en-US')}–${(at + count).toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`}</span>
      <span className="spacer" />
      {first && <Link href={first} aria-label="First page">« first</Link>}
      <span>page {pageNo} of {pages.toLocaleString('en-US')}</span>
      {next && <Link href={next} rel="next">next →</Link>}
    </nav>
  );
}

/** The search box of a list's form: the `q` parameter. */
export function SearchField({ label, placeholder, search, minWidth }: { label: string; placeholder: string; search: string | undefined; minWidth: number }) {
  return (
    <div className="field">
      <label htmlFor="q">{label}</label>
      <input id="q" name="q" type="search" placeholder={placeholder} defaultValue={search ?? ''} style={{ minWidth }} />
    </div>
  );
}

/** A list's search toolbar: the search box and Search; with `clear`, a link back to the whole list while searching. */
export function SearchForm(p: { action: string; label: string; placeholder: string; search: string | undefined; minWidth: number; clear?: boolean }) {
  return (
    <form className="toolbar" role="search" action={p.action}>
      <SearchField label={p.label} placeholder={p.placeholder} search={p.search} minWidth={p.minWidth} />
      <button type="submit" className="btn secondary">Search</button>
      {p.clear && p.search && <Link href={p.action}>Clear</Link>}
    </form>
  );
}

/** A list's filter form: its fields, Apply, and a link back to the whole list while a filter is set. */
export function FilterForm({ action, label, filtered, children }: { action: string; label: string; filtered: boolean; children: ReactNode }) {
  return (
    <form className="filters" role="search" action={action} aria-label={label}>
      {children}
      <button type="submit" className="btn secondary">Apply</button>
      {filtered && <Link href={action}>Clear filters</Link>}
    </form>
  );
}

/** A select of a filter form (`name` is its parameter): "any", no filter, first unless `any` is false, then the choices. */
export function FilterSelect(p: { name: string; label: string; value: string | undefined; choices: readonly (readonly [value: string | number, label: ReactNode])[]; any?: boolean }) {
  return (
    <div className="field">
      <label htmlFor={p.name}>{p.label}</label>
      <select id={p.name} name={p.name} defaultValue={p.value ?? ''}>
        {(p.any ?? true) && <option value="">any</option>}
        {p.choices.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
      </select>
    </div>
  );
}

/** A list's records in a panel: a table with a row per record (keyed by its id), then what goes under it (the pager). */
export function ListPanel<T extends { id: string }>(p: { caption: string; rows: readonly T[]; columns: readonly Column<T>[]; empty: ReactNode; children?: ReactNode }) {
  return (
    <div className="panel">
      <DataTable caption={p.caption} rows={p.rows} empty={p.empty} columns={p.columns} />
      {p.children}
    </div>
  );
}

/**
 * A searchable list under `basePath`: its search toolbar, then one page of records in a panel with the pager (whose
 * links keep the search). The first column is each record's name, linked to its page under `basePath`; `columns`
 * follow it. `empty` stands for an empty list; a search that matches nothing says so (with `clear`,
 * with a link back to the whole list).
 */
export function SearchList<T extends { id: string; name: string }>(p: {
  basePath: string;
  label: string;
  placeholder: string;
  minWidth: number;
  clear?: boolean;
  caption: string;
  params: { at: number; limit: number; search?: string | undefined };
  page: { items: readonly T[]; total: number; nextCursor: string | null };
  columns: readonly Column<T>[];
  empty: ReactNode;
}) {
  const { at, limit, search } = p.params;
  const name: Column<T> = { header: 'Name', rowHeader: true, cell: (r) => <Link href={`${p.basePath}/${r.id}`}>{r.name}</Link> };
  const noMatch = p.clear ? <>Nothing matches “{search}”. <Link href={p.basePath}>Show all</Link></> : `Nothing matches “${search}”.`;
  return (
    <>
      <SearchForm action={p.basePath} label={p.label} placeholder={p.placeholder} search={search} minWidth={p.minWidth} clear={p.clear} />
      <ListPanel caption={p.caption} rows={p.page.items} columns={[name, ...p.columns]} empty={search ? noMatch : p.empty}>
        <Pager total={p.page.total} at={at} count={p.page.items.length} limit={limit} {...cursorLinks(p.basePath, { q: search }, p.params, p.page)} />
      </ListPanel>
    </>
  );
}
