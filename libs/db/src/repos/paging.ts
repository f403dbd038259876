import { notFound, type Page } from '@ctxlab/contracts';

export interface ListArgs {
  limit: number;
  offset: number;
  search?: string | undefined;
  includeArchived: boolean;
  sort?: { field: string; dir: 'asc' | 'desc' } | undefined;
}

interface Delegate<Row> {
  findMany(args: object): Promise<Row[]>;
  count(args: object): Promise<number>;
}

/** One page plus the total, in one round trip each; the caller's `where` already holds filters. */
export async function paginate<Row, Out>(
  delegate: Delegate<Row>,
  args: ListArgs,
  where: Record<string, unknown>,
  map: (r: Row) => Out,
  extra: { include?: object; defaultSort?: Record<string, 'asc' | 'desc'> } = {},
): Promise<Page<Out>> {
  const w = args.includeArchived ? where : { ...where, archivedAt: null };
  const orderBy = args.sort ? [{ [args.sort.field]: args.sort.dir }, { id: 'asc' }] : [extra.defaultSort ?? { createdAt: 'desc' }, { id: 'asc' }];
  const [rows, total] = await Promise.all([
    delegate.findMany({ where: w, orderBy, skip: args.offset, take: args.limit, ...(extra.include ? { include: extra.include } : {}) }),
    delegate.count({ where: w }),
  ]);
  const next = args.offset + rows.length;
  return { items: rows.map(map), total, nextOffset: next < total ? next : null };
}

export const textSearch = (fields: string[], q: string | undefined) =>
  q ? { OR: fields.map((f) => ({ [f]: { contains: q, mode: 'insensitive' } })) } : {};

/** What a newest-first page query is given: its order and window (the caller adds where and select). */
interface Window {
  orderBy: { createdAt?: 'desc'; id?: 'asc' }[];
  skip: number;
  take: number;
}

/**
 * One page of a read model, newest first, and how many match: the caller's query keeps its own
 * `where` and `select` (and so its row type); this adds the order and the window.
 */
export async function newestFirst<Row>(a: { offset: number; limit: number }, find: (w: Window) => Promise<Row[]>, count: () => Promise<number>) {
  const [rows, total] = await Promise.all([find({ orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], skip: a.offset, take: a.limit }), count()]);
  return { rows, total };
}

/** A record by id (NOT_FOUND when there is none) and by its unique name (null when there is none). */
export function byIdOrName<Row, Out>(what: string, find: (where: { id: string } | { name: string }) => Promise<Row | null>, out: (r: Row) => Out) {
  return {
    async get(id: string) {
      const r = await find({ id });
      if (!r) throw notFound(what, id);
      return out(r);
    },
    /** The record of that name, or null when there is none. */
    async getByName(name: string) {
      const r = await find({ name });
      return r ? out(r) : null;
    },
  };
}
