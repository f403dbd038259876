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
  params: { offset: number; limit: number; search?: string | undefined };
  page: { items: readonly T[]; total: number };
  columns: readonly Column<T>[];
  empty: ReactNode;
}) {
  const { offset, limit, search } = p.params;
  const name: Column<T> = { header: 'Name', rowHeader: true, cell: (r) => <Link href={`${p.basePath}/${r.id}`}>{r.name}</Link> };
  const noMatch = p.clear ? <>Nothing matches “{search}”. <Link href={p.basePath}>Show all</Link></> : `Nothing matches “${search}”.`;
  return (
    <>
      <SearchForm action={p.basePath} label={p.label} placeholder={p.placeholder} search={search} minWidth={p.minWidth} clear={p.clear} />
      <ListPanel caption={p.caption} rows={p.page.items} columns={[name, ...p.columns]} empty={search ? noMatch : p.empty}>
        <Pager total={p.page.total} offset={offset} count={p.page.items.length} limit={limit} href={(o) => hrefWith(p.basePath, { q: search, offset: o })} />
      </ListPanel>
    </>
  );
}
