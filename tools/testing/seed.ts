/** The registry's seed (prisma/seed.ts, the field's published work), for tests that start from it. */
export { seed } from '../../prisma/seed';
