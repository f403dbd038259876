import { badRequest, notFound, type Page } from '@ctxlab/contracts';

export interface ListArgs {
  limit: number;
  offset: number;
  /** A previous page's `nextCursor`: the page after that row (keyset); `offset` is then ignored. */
  cursor?: string | undefined;
  search?: string | undefined;
  includeArchived: boolean;
  sort?: { field: string; dir: 'asc' | 'desc' } | undefined;
}

interface Delegate<Row> {
  findMany(args: object): Promise<Row[]>;
  count(args: object): Promise<number>;
}

type SortValue = string | number | bigint | Date;
type Dir = 'asc' | 'desc';

/**
 * A page's position as an opaque string: the sort it was made for and the last row's sort key and
 * id. Sort fields are required columns (no NULLs), so (key, id) orders every row exactly once.
 */
export function encodeCursor(field: string, dir: Dir, value: SortValue, id: string): string {
  const v = value instanceof Date ? ['d', value.toISOString()] : typeof value === 'bigint' ? ['b', value.toString()] : typeof value === 'number' ? ['n', value] : ['s', value];
  return Buffer.from(JSON.stringify([field, dir, ...v, id])).toString('base64url');
}

/** The last row a cursor names, checked against the sort the request asks for (BAD_REQUEST otherwise). */
export function decodeCursor(cursor: string, field: string, dir: Dir): { value: SortValue; id: string } {
  const bad = (why: string) => badRequest(`cursor: ${why}; start again from the first page (no cursor)`, 'cursor');
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad('not a cursor this API issued');
  }
  if (!Array.isArray(parts) || parts.length !== 5) throw bad('not a cursor this API issued');
  const [f, d, kind, raw, id] = parts as unknown[];
  if (typeof f !== 'string' || (d !== 'asc' && d !== 'desc') || typeof id !== 'string' || !id) throw bad('not a cursor this API issued');
  if (f !== field || d !== dir) throw bad(`made for the order ${f} ${d}, not ${field} ${dir}`);
  const value =
    kind === 'd' && typeof raw === 'string' && !Number.isNaN(Date.parse(raw)) ? new Date(raw)
    : kind === 'b' && typeof raw === 'string' && /^-?\d+$/.test(raw) ? BigInt(raw)
    : kind === 'n' && typeof raw === 'number' && Number.isFinite(raw) ? raw
    : kind === 's' && typeof raw === 'string' ? raw
    : null;
  if (value === null) throw bad('not a cursor this API issued');
  return { value, id };
}

/**
 * Rows after (value, id) in the order `field dir, id asc`. The leading bound repeats what the OR
 * implies so PostgreSQL can start an index range at the cursor instead of filtering from the top.
 */
export function after(field: string, dir: Dir, c: { value: SortValue; id: string }) {
  return {
    AND: [{ [field]: { [dir === 'asc' ? 'gte' : 'lte']: c.value } }, { OR: [{ [field]: { [dir === 'asc' ? 'gt' : 'lt']: c.value } }, { [field]: c.value, id: { gt: c.id } }] }],
  };
}

/**
 * One page plus the total. With a cursor the page starts after the row it names (keyset: an index
 * range, however deep the page); without one, at `offset` (older clients). Either way the answer
 * carries `nextCursor` (null on the last page) and, for offset requests, `nextOffset`.
 */
export async function paginate<Row extends { id: string }, Out>(
  delegate: Delegate<Row>,
  args: ListArgs,
  where: Record<string, unknown>,
  map: (r: Row) => Out,
  extra: { include?: object; defaultSort?: Record<string, Dir> } = {},
): Promise<Page<Out>> {
  const w = args.includeArchived ? where : { ...where, archivedAt: null };
  const [field, dir] = args.sort ? [args.sort.field, args.sort.dir] : (Object.entries(extra.defaultSort ?? { createdAt: 'desc' })[0] as [string, Dir]);
  const orderBy = [{ [field]: dir }, { id: 'asc' }];
  const from = args.cursor ? { AND: [w, after(field, dir, decodeCursor(args.cursor, field, dir))] } : w;
  const [rows, total] = await Promise.all([
    delegate.findMany({ where: from, orderBy, ...(args.cursor ? {} : { skip: args.offset }), take: args.limit + 1, ...(extra.include ? { include: extra.include } : {}) }),
    delegate.count({ where: w }),
  ]);
  const more = rows.length > args.limit;
  const page = more ? rows.slice(0, args.limit) : rows;
  const last = page.at(-1);
  const next = args.offset + page.length;
  return {
    items: page.map(map),
    total,
    nextCursor: more && last ? encodeCursor(field, dir, (last as Record<string, unknown>)[field] as SortValue, last.id) : null,
    nextOffset: args.cursor ? null : next < total ? next : null,
  };
}

export const textSearch = (fields: string[], q: string | undefined) =>
  q ? { OR: fields.map((f) => ({ [f]: { contains: q, mode: 'insensitive' } })) } : {};

/** What a newest-first page query is given: its order, window and where the page starts (the caller adds its where and select). */
interface Window {
  orderBy: { createdAt?: 'desc'; id?: 'asc' }[];
  skip?: number;
  take: number;
  /** Rows after the cursor's; the caller ANDs it with its own where. */
  after: Record<string, unknown>;
}

/**
 * One page of a read model, newest first (createdAt desc, id asc), how many match, and the cursor
 * of the next page: the caller's query keeps its own `where` and `select` (and so its row type);
 * this adds the order and the window — an index range after the cursor's row, or an offset.
 */
export async function newestFirst<Row extends { id: string; createdAt: Date }>(
  a: { offset: number; limit: number; cursor?: string | undefined },
  find: (w: Window) => Promise<Row[]>,
  count: () => Promise<number>,
) {
  const from = a.cursor ? after('createdAt', 'desc', decodeCursor(a.cursor, 'createdAt', 'desc')) : {};
  const [rows, total] = await Promise.all([
    find({ orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], ...(a.cursor ? {} : { skip: a.offset }), take: a.limit + 1, after: from }),
    count(),
  ]);
  const more = rows.length > a.limit;
  const page = more ? rows.slice(0, a.limit) : rows;
  const last = page.at(-1);
  const next = a.offset + page.length;
  return {
    rows: page,
    total,
    nextCursor: more && last ? encodeCursor('createdAt', 'desc', last.createdAt, last.id) : null,
    nextOffset: a.cursor ? null : next < total ? next : null,
  };
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
