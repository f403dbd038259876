import type { Metadata } from 'next';
import { listParams, one, PageHead, type SearchParams } from '../../src/components/EntityList';
import { JobsBoard } from '../../src/components/JobsBoard';
import { api } from '../../src/server/api';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Jobs' };

const STATUSES = ['queued', 'running', 'retrying', 'succeeded', 'failed', 'cancelled'] as const;
type Status = (typeof STATUSES)[number];

export default async function JobsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const sp = await searchParams;
  const { offset, cursor, at } = listParams(sp, 25);
  const s = one(sp.status);
  const status = (STATUSES as readonly string[]).includes(s ?? '') ? (s as Status) : undefined;
  const activeOnly = one(sp.active) === '1';
  const initial = await (await api()).portal.jobsBoard({ limit: 25, offset, cursor, ...(status ? { status } : {}), activeOnly });
  return (
    <>
      <PageHead title="Jobs" sub="Work dispatched to workers: evaluations now, training, LoRA extraction and merge, serving next. Updates live." />
      <JobsBoard initial={initial} filter={{ status: status ?? null, activeOnly, offset, cursor, at, limit: 25 }} />
    </>
  );
}
