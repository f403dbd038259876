import type { Page } from '@ctxlab/contracts';

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
