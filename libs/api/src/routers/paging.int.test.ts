/**
 * Keyset pagination of the lists that grow (eval runs, the evals table, jobs, a run's cells): the
 * pages after each `nextCursor` cover every row exactly once, in the list's order (id breaking
 * ties), whatever is inserted meanwhile; a cursor that is not one the API issued, or was issued
 * for another order, is a BAD_REQUEST naming the cursor.
 */
import { TRPCError } from '@trpc/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { resetDb, testRepos, testSettings } from '@ctxlab/testing/db';
import { apiDeps } from '../deps';
import { createCaller } from '../index';

const api = () => createCaller({ ...apiDeps(testSettings()), actor: null, source: 'internal' });
const T0 = Date.UTC(2026, 0, 1);

/** Every page of a list, following nextCursor from the first page. */
async function walk<P extends { items: { id: string }[]; nextCursor: string | null; nextOffset: number | null }>(page: (cursor: string | undefined) => Promise<P>) {
  const ids: string[] = [];
  const pages: P[] = [];
  for (let cursor: string | undefined = undefined, first = true; first || cursor; first = false) {
    const p: P = await page(cursor);
    pages.push(p);
    ids.push(...p.items.map((r) => r.id));
    cursor = p.nextCursor ?? undefined;
    if (pages.length > 100) throw new Error('the pages never end');
  }
  return { ids, pages };
}

async function expectBadCursor(p: Promise<unknown>, message: RegExp = /cursor/) {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e, 'the call should have failed').toBeInstanceOf(TRPCError);
  expect((e as TRPCError).code).toBe('BAD_REQUEST');
  expect((e as TRPCError).message).toMatch(message);
}

describe('keyset pagination', () => {
  const db = testRepos().db;
  /** The unarchived runs newest first, id breaking ties: the order every page must follow. */
  const runOrder = async (where: object = {}) =>
    (await db.evalRun.findMany({ where: { archivedAt: null, ...where }, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], select: { id: true } })).map((r) => r.id);

  beforeAll(async () => {
    await resetDb();
    // 23 runs, three of them sharing each timestamp (ties the id must break), one archived, names repeating.
    await db.evalRun.createMany({
      data: Array.from({ length: 23 }, (_, i) => ({
        name: `run ${i % 7}`, kind: 'niah', status: i % 2 ? 'succeeded' : 'failed', config: {},
        createdAt: new Date(T0 + Math.floor(i / 3) * 60_000), archivedAt: i === 4 ? new Date() : null,
      })),
    });
    await db.job.createMany({ data: Array.from({ length: 11 }, (_, i) => ({ kind: 'health', status: 'succeeded', spec: {}, createdAt: new Date(T0 + Math.floor(i / 2) * 1000) })) });
  });

  it('evals.list: the pages after each cursor cover every run once, newest first', async () => {
    const { ids, pages } = await walk((cursor) => api().evals.list({ limit: 5, ...(cursor ? { cursor } : {}) }));
    expect(ids).toEqual(await runOrder());
    expect(ids).toHaveLength(22);
    expect(pages).toHaveLength(5);
    expect(pages.every((p) => p.total === 22)).toBe(true);
    expect(pages.at(-1)!.nextCursor).toBeNull();
    // Pages asked by cursor carry no offset; the first (asked by offset 0) still does, for older clients.
    expect(pages[0]!.nextOffset).toBe(5);
    expect(pages.slice(1).every((p) => p.nextOffset === null)).toBe(true);
    // A cursor page is the page at the same offset.
    const byOffset = await api().evals.list({ limit: 5, offset: 5 });
    expect(pages[1]!.items.map((r) => r.id)).toEqual(byOffset.items.map((r) => r.id));
  });

  it('evals.list sorted by name: ties on the name are broken by id, and a cursor keeps to its order', async () => {
    const { ids, pages } = await walk((cursor) => api().evals.list({ limit: 4, sort: { field: 'name', dir: 'asc' }, ...(cursor ? { cursor } : {}) }));
    const expected = (await db.evalRun.findMany({ where: { archivedAt: null }, orderBy: [{ name: 'asc' }, { id: 'asc' }], select: { id: true } })).map((r) => r.id);
    expect(ids).toEqual(expected);
    // The same cursor under another order is refused, not misread.
    await expectBadCursor(api().evals.list({ limit: 4, cursor: pages[0]!.nextCursor! }), /cursor: made for the order name asc, not createdAt desc/);
    // Filters apply on every page.
    const failed = await walk((cursor) => api().evals.list({ limit: 3, status: 'failed', ...(cursor ? { cursor } : {}) }));
    expect(failed.ids).toEqual(await runOrder({ status: 'failed' }));
  });

  it('is stable under inserts: newer runs added while paging do not shift or repeat the pages after a cursor', async () => {
    const before = await runOrder();
    const first = await api().evals.list({ limit: 5 });
    await db.evalRun.createMany({ data: Array.from({ length: 3 }, (_, i) => ({ name: `newer ${i}`, kind: 'niah', config: {}, createdAt: new Date(Date.now() + i) })) });
    const rest = await walk((cursor) => api().evals.list({ limit: 5, cursor: cursor ?? first.nextCursor! }));
    expect([...first.items.map((r) => r.id), ...rest.ids]).toEqual(before);
    expect(rest.pages[0]!.total).toBe(before.length + 3);
    await db.evalRun.deleteMany({ where: { name: { startsWith: 'newer ' } } });
  });

  it('portal.evalRuns and portal.jobsBoard page by cursor too', async () => {
    const runs = await walk((cursor) => api().portal.evalRuns({ limit: 6, ...(cursor ? { cursor } : {}) }));
    expect(runs.ids).toEqual(await runOrder());
    const searched = await walk((cursor) => api().portal.evalRuns({ limit: 2, search: 'RUN 3', ...(cursor ? { cursor } : {}) }));
    expect(searched.ids).toEqual(await runOrder({ name: 'run 3' }));
    const jobs = await walk((cursor) => api().portal.jobsBoard({ limit: 4, ...(cursor ? { cursor } : {}) }));
    const jobOrder = (await db.job.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], select: { id: true } })).map((j) => j.id);
    expect(jobs.ids).toEqual(jobOrder);
    expect(jobs.pages[0]!.counts.succeeded).toBe(11);
    const listed = await walk((cursor) => api().jobs.list({ limit: 4, ...(cursor ? { cursor } : {}) }));
    expect(listed.ids).toEqual(jobOrder);
  });

  it('evals.cells: pages follow (task, length, depth, sample), the run’s own index', async () => {
    const run = await db.evalRun.create({ data: { name: 'cells', kind: 'ruler', status: 'succeeded', config: {} } });
    const cells = ['vt', 'cwe', 'niah_single_1'].flatMap((task) =>
      [4096, 1024, 2048, 8192].flatMap((contextLength) => [0.5, 0, 1].flatMap((depth) => [1, 0].map((sample) => ({ evalRunId: run.id, task, contextLength, depth, sample, score: 100 })))),
    );
    await db.evalCell.createMany({ data: cells });
    const { ids, pages } = await walk((cursor) => api().evals.cells({ evalRunId: run.id, limit: 7, ...(cursor ? { cursor } : {}) }));
    const expected = await db.evalCell.findMany({ where: { evalRunId: run.id }, orderBy: [{ task: 'asc' }, { contextLength: 'asc' }, { depth: 'asc' }, { sample: 'asc' }], select: { id: true } });
    expect(ids).toEqual(expected.map((c) => c.id));
    expect(pages).toHaveLength(11);
    expect(pages[0]!.total).toBe(72);
    expect(pages[0]!.items[0]).toMatchObject({ task: 'cwe', contextLength: 1024, depth: 0, sample: 0, score: 100 });
    const byOffset = await api().evals.cells({ evalRunId: run.id, limit: 7, offset: 14 });
    expect(byOffset.items.map((c) => c.id)).toEqual(pages[2]!.items.map((c) => c.id));
    expect(byOffset.nextOffset).toBe(21);
    // A cursor of another list is not a cells cursor.
    const runsCursor = (await api().evals.list({ limit: 1 })).nextCursor!;
    await expectBadCursor(api().evals.cells({ evalRunId: run.id, cursor: runsCursor }), /^cursor: not a cells cursor/);
    // The export reads the same pages: every cell once.
    const exported = await api().evals.exportTo({ id: run.id, format: 'jsonl' });
    expect(exported.cells).toBe(72);
  });

  it('a cursor the API did not issue is a BAD_REQUEST naming the cursor', async () => {
    await expectBadCursor(api().evals.list({ cursor: 'bm90LWEtY3Vyc29y' }), /^cursor: not a cursor this API issued/);
    await expectBadCursor(api().evals.list({ cursor: Buffer.from(JSON.stringify(['createdAt', 'desc', 'd', 'yesterday', 'x'])).toString('base64url') }), /^cursor: not a cursor/);
    await expectBadCursor(api().evals.list({ cursor: 'not base64!' }), /cursor/);
    await expectBadCursor(api().portal.evalRuns({ cursor: 'AAAA' }), /^cursor: /);
    await expectBadCursor(api().portal.jobsBoard({ cursor: 'AAAA' }), /^cursor: /);
    await expectBadCursor(api().evals.cells({ evalRunId: 'x', cursor: '' }), /cursor/);
  });
});
