import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client';

export type Db = PrismaClient;

/** One client per process and URL; the pg pool inside is what gets reused. */
const clients = new Map<string, PrismaClient>();
/** The URL each client was made for: bulk loads (COPY) open their own connection to the same database. */
const urls = new WeakMap<PrismaClient, string>();

export function createDb(databaseUrl: string, opts: { poolSize?: number } = {}): PrismaClient {
  const key = `${databaseUrl}#${opts.poolSize ?? ''}`;
  let c = clients.get(key);
  if (!c) {
    const adapter = new PrismaPg({ connectionString: databaseUrl, max: opts.poolSize ?? 10 });
    c = new PrismaClient({ adapter });
    clients.set(key, c);
    urls.set(c, databaseUrl);
  }
  return c;
}

/** The database URL a client of `createDb` speaks to. */
export function databaseUrlOf(db: PrismaClient): string {
  const url = urls.get(db);
  if (!url) throw new Error('this database client was not made by createDb');
  return url;
}

export async function closeAllDbs() {
  const all = [...clients.values()];
  clients.clear();
  await Promise.all(all.map((c) => c.$disconnect()));
}
