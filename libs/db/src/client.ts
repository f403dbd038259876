import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client';

export type Db = PrismaClient;

/** One client per process and URL; the pg pool inside is what gets reused. */
const clients = new Map<string, PrismaClient>();

export function createDb(databaseUrl: string, opts: { poolSize?: number } = {}): PrismaClient {
  const key = `${databaseUrl}#${opts.poolSize ?? ''}`;
  let c = clients.get(key);
  if (!c) {
    const adapter = new PrismaPg({ connectionString: databaseUrl, max: opts.poolSize ?? 10 });
    c = new PrismaClient({ adapter });
    clients.set(key, c);
  }
  return c;
}

export async function closeAllDbs() {
  const all = [...clients.values()];
  clients.clear();
  await Promise.all(all.map((c) => c.$disconnect()));
}
