'use client';

import { DataTable, fmtDate, fmtDuration, fmtInt, StatusBadge } from '@ctxlab/ui';
import Link from 'next/link';
import { useState, type FormEvent } from 'react';
import { browserApi, errorMessage } from '../lib/client';
import { fmtGpuHours } from '../lib/costs';
import { useNow, usePoll } from '../lib/hooks';
import type { Out } from '../lib/types';
import { useAction } from './FormErrors';
import { Panel } from './Panel';
import { QuotaForm } from './SchedulerAdmin';
import { PoolBar, UsageBar } from './UsageBar';

type Queue = Out['scheduler']['queue'];
type Waiting = Queue['waiting'][number];
type Holding = Queue['holding'][number];
type Quota = Queue['quotas'][number];
type Priority = Waiting['priority'];
type Role = 'viewer' | 'member' | 'admin';

const PRIORITIES: Priority[] = ['high', 'normal', 'low'];
/** Why a job waits, as a short label and a tone; the reason in full stands beside it. */
const WAITS: Record<string, [label: string, tone: string]> = {
  order: ['in line', 'info'],
  capacity: ['for GPUs', 'neutral'],
  quota: ['quota', 'warn'],
  oversize: ['too big for the pool', 'bad'],
  'no-pool': ['no pool', 'bad'],
  pending: ['not yet scheduled', 'muted'],
};
const PRIORITY_TONE: Record<string, string> = { high: 'warn', normal: 'neutral', low: 'muted' };

const jobName = (j: { output: string | null; kind: string; id: string }) => j.output ?? `${j.kind} ${j.id.slice(-8)}`;
export const gpusText = (gpus: number, gpuType: string | null) => (gpus > 0 ? `${gpus} × ${gpuType ?? 'any GPU'}` : 'no GPU (cpu)');
const since = (now: number, d: Date | string | null) => (d ? fmtDuration((now - new Date(d).getTime()) / 1000) : '—');

function JobCell({ j }: { j: { id: string; output: string | null; kind: string } }) {
  return (
    <>
      <Link href={`/jobs/${j.id}`}>{jobName(j)}</Link>
      <div className="progress-line" title={j.id}><span className="mono">{j.id.slice(-8)}</span></div>
    </>
  );
}

/** A waiting job's priority, and for members the means to change it (the API decides who may). */
function PriorityControl({ job, onChanged }: { job: Waiting; onChanged: () => Promise<void> }) {
  const [priority, setPriority] = useState<Priority>(job.priority);
  const { error, busy, run } = useAction();
  const set = () => run(async () => {
    await browserApi().scheduler.setPriority.mutate({ jobId: job.id, priority });
    await onChanged();
  });
  return (
    <div>
      <span className="btn-group">
        <select aria-label={`Priority of job ${job.id}`} value={priority} onChange={(e) => setPriority(e.target.value as Priority)} disabled={busy}>
          {PRIORITIES.map((p) => <option key={p} value={p}>{p}</option>)}
        </select>
        <button type="button" className="btn small secondary" onClick={() => void set()} disabled={busy || priority === job.priority} aria-label={`Set the priority of job ${job.id}`}>
          {busy ? 'Setting…' : 'Set'}
        </button>
      </span>
      {error && <div className="field-error" role="alert">{error}</div>}
    </div>
  );
}

/** Admins: admit a waiting job past its team's quota (with the reason, kept in its history), or withdraw that. */
function OverrideControl({ job, onChanged }: { job: Waiting; onChanged: () => Promise<void> }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const { error, busy, run } = useAction();
  const send = (override: boolean) => run(async () => {
    await browserApi().scheduler.overrideQuota.mutate({ jobId: job.id, override, reason });
    setOpen(false);
    setReason('');
    await onChanged();
  });
  if (job.quotaOverride) {
    return (
      <div>
        <button type="button" className="btn small secondary" onClick={() => void send(false)} disabled={busy}>Withdraw quota override</button>
        {error && <div className="field-error" role="alert">{error}</div>}
      </div>
    );
  }
  if (!open) return <button type="button" className="btn small secondary" onClick={() => setOpen(true)} aria-label={`Admit job ${job.id} past its quota`}>Admit past quota…</button>;
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    void send(true);
  };
  return (
    <form onSubmit={submit} aria-label={`Admit job ${job.id} past its quota`} noValidate>
      <span className="btn-group">
        <input aria-label="Reason" value={reason} onChange={(e) => setReason(e.target.value)} placeholder="why (kept in the job's history)" maxLength={500} style={{ minWidth: 180 }} />
        <button type="submit" className="btn small" disabled={busy}>{busy ? 'Admitting…' : 'Admit'}</button>
        <button type="button" className="btn small secondary" onClick={() => setOpen(false)} disabled={busy}>Cancel</button>
      </span>
      {error && <div className="field-error" role="alert">{error}</div>}
    </form>
  );
}

function WaitingTable({ rows, now, role, onChanged }: { rows: Waiting[]; now: number; role: Role; onChanged: () => Promise<void> }) {
  return (
    <DataTable
      caption="Jobs waiting for GPUs, in each pool's start order"
      rows={rows}
      empty="No job is waiting: every queued GPU job has been admitted."
      columns={[
        { header: '#', numeric: true, cell: (j) => (j.position === null ? <span title="stands aside from the line">—</span> : j.position) },
        { header: 'Job', rowHeader: true, cell: (j) => <JobCell j={j} /> },
        {
          header: 'Priority',
          cell: (j) => (role === 'viewer' ? <span className={`badge badge-${PRIORITY_TONE[j.priority] ?? 'neutral'}`}>{j.priority}</span> : <PriorityControl key={`${j.id}-${j.priority}`} job={j} onChanged={onChanged} />),
        },
        { header: 'Team', cell: (j) => j.team ?? <span className="muted">no team</span> },
        { header: 'Kind', cell: (j) => j.kind },
        { header: 'GPUs', cell: (j) => <span className="nowrap">{gpusText(j.gpus, j.gpuType)}</span> },
        {
          header: 'Why it waits',
          cell: (j) => {
            const [label, tone] = WAITS[j.waitKind] ?? [j.waitKind, 'neutral'];
            return (
              <>
                <span className={`badge badge-${tone}`} data-wait={j.waitKind}>{label}</span>
                {j.quotaOverride && <span className="badge badge-info" style={{ marginLeft: 4 }}>past quota</span>}
                <div className="progress-line" style={{ maxWidth: 340 }}>{j.reason}</div>
              </>
            );
          },
        },
        {
          header: 'Estimated start (UTC)',
          cell: (j) => (j.estimatedStartAt ? <span className="nowrap" title={`in about ${fmtDuration((new Date(j.estimatedStartAt).getTime() - now) / 1000)}`}>{fmtDate(j.estimatedStartAt)}</span> : <span className="muted" title="needs the running jobs' estimates">not known</span>),
        },
        { header: 'Queued for', cell: (j) => <span className="nowrap" title={`queued ${fmtDate(j.queuedAt)} UTC`}>{since(now, j.queuedAt)}</span> },
        { header: 'Estimate', numeric: true, cell: (j) => (j.estimateGpuHours === null ? '—' : `${fmtGpuHours(j.estimateGpuHours)} GPU-h`) },
        ...(role === 'admin' ? [{ header: 'Quota', id: 'override', cell: (j: Waiting) => <OverrideControl key={`${j.id}-${String(j.quotaOverride)}`} job={j} onChanged={onChanged} /> }] : []),
      ]}
    />
  );
}

function HoldingTable({ rows, now }: { rows: Holding[]; now: number }) {
  return (
    <DataTable
      caption="Jobs holding GPUs (admitted, not yet ended)"
      rows={rows}
      empty="Nothing holds GPUs now."
      columns={[
        { header: 'Job', rowHeader: true, cell: (j) => <JobCell j={j} /> },
        { header: 'Status', cell: (j) => <StatusBadge status={j.status} /> },
        { header: 'Team', cell: (j) => j.team ?? <span className="muted">no team</span> },
        { header: 'Kind', cell: (j) => j.kind },
        { header: 'GPUs', cell: (j) => <span className="nowrap">{gpusText(j.gpus, j.gpuType)}</span> },
        { header: 'Priority', cell: (j) => <span className={`badge badge-${PRIORITY_TONE[j.priority] ?? 'neutral'}`}>{j.priority}</span> },
        { header: 'Admitted (UTC)', cell: (j) => <span className="nowrap">{fmtDate(j.admittedAt)}{j.quotaOverride && <span className="badge badge-info" style={{ marginLeft: 4 }}>past quota</span>}</span> },
        { header: 'On the GPUs for', cell: (j) => (j.startedAt ? since(now, j.startedAt) : <span className="muted">starting</span>) },
        { header: 'Estimate', numeric: true, cell: (j) => (j.estimateGpuHours === null ? '—' : `${fmtGpuHours(j.estimateGpuHours)} GPU-h`) },
      ]}
    />
  );
}

function QuotasTable({ rows, admin, onChanged }: { rows: Quota[]; admin: boolean; onChanged: () => Promise<void> }) {
  const { error, run } = useAction();
  const remove = (q: Quota) => run(async () => {
    if (!window.confirm(`Remove team ${q.team}'s ${q.gpuType} quota? Its jobs are then limited by fair share alone.`)) return;
    await browserApi().scheduler.removeQuota.mutate({ team: q.teamId, gpuType: q.gpuType });
    await onChanged();
  });
  return (
    <>
      <DataTable
        caption="Quotas per team and device type, with what each team has used this period"
        rows={rows}
        rowKey={(q) => `${q.teamId}/${q.gpuType}`}
        empty="No quotas: teams share the GPUs by priority and fair share alone."
        columns={[
          { header: 'Team', rowHeader: true, cell: (q) => q.team },
          { header: 'Device', cell: (q) => <span className="mono">{q.gpuType}</span> },
          { header: 'Period', cell: (q) => <span title={`since ${fmtDate(q.since)} UTC`}>per {q.period}</span> },
          {
            header: 'GPU-hours used / limit',
            cell: (q) => (q.gpuHours === null
              ? <span className="progress-line">{fmtGpuHours(q.usedGpuHours)} used · no hour limit</span>
              : <UsageBar used={q.usedGpuHours} limit={q.gpuHours} label={`GPU-hours of team ${q.team} on ${q.gpuType} this ${q.period}`} text={`${fmtGpuHours(q.usedGpuHours)} of ${fmtGpuHours(q.gpuHours)} GPU-h`} />),
          },
          { header: 'GPUs at once', numeric: true, cell: (q) => (q.maxGpus === null ? 'no limit' : fmtInt(q.maxGpus)) },
          ...(admin ? [{ header: '', id: 'remove', cell: (q: Quota) => <button type="button" className="btn small danger" onClick={() => void remove(q)} aria-label={`Remove team ${q.team}'s ${q.gpuType} quota`}>Remove</button> }] : []),
        ]}
      />
      {error && <div className="callout error" role="alert"><p>{error}</p></div>}
    </>
  );
}

/**
 * The GPU queue, read every two seconds: the pools, who waits (place, priority, why, when it may
 * start), what holds GPUs, and each team's quotas against what it has used. Members change the
 * priority of a waiting job; admins admit one past its quota and set or remove quotas.
 */
export function SchedulerLive({ initial, role, renderedAt, gpuTypes }: { initial: Queue; role: Role; renderedAt: number; gpuTypes: { id: string; name: string }[] }) {
  const { data, error, refresh } = usePoll(() => browserApi().scheduler.queue.query(), 2000, true, initial);
  const q = data ?? initial;
  const now = useNow(renderedAt);
  const heldGpus = q.holding.reduce((a, j) => a + j.gpus, 0);
  const waitingGpus = q.waiting.reduce((a, j) => a + j.gpus, 0);
  const onQuota = q.waiting.filter((j) => j.waitKind === 'quota').length;
  return (
    <>
      <p className="progress-line" aria-live="polite" data-testid="queue-live">
        {error ? <span className="status-bad">live updates paused: {errorMessage(error)}</span> : <>live · updated every 2 s</>}
        {' · '}
        {q.decidedAt ? <>last scheduling pass {since(now, q.decidedAt)} ago{q.passMs !== null ? ` (took ${fmtInt(q.passMs)} ms)` : ''}</> : 'no scheduling pass yet: workers decide within seconds of a job being queued'}
      </p>
      <div className="stats" data-testid="queue-stats">
        <div className="stat"><div className="n">{fmtInt(q.waiting.length)}</div><div className="l">jobs waiting</div></div>
        <div className="stat"><div className="n">{fmtInt(waitingGpus)}</div><div className="l">GPUs asked for by them</div></div>
        <div className="stat"><div className="n">{fmtInt(q.holding.length)}</div><div className="l">jobs holding GPUs</div></div>
        <div className="stat"><div className="n">{fmtInt(heldGpus)}</div><div className="l">GPUs held</div></div>
        <div className="stat"><div className="n">{fmtInt(onQuota)}</div><div className="l">held back by a quota</div></div>
      </div>
      <Panel id="pools-h" title="Pools" testId="queue-pools">
        <DataTable
          caption="GPU pools as their executors report them: size, held, free, and the demand waiting"
          rows={q.pools}
          rowKey={(p) => `${p.executor}/${p.gpuType}`}
          empty="No executor reports GPU pools. A local worker with no GPUs configured runs what it is given; a Kubernetes executor reports its node pools."
          columns={[
            { header: 'Pool', rowHeader: true, cell: (p) => <><span className="mono">{p.gpuType}</span><div className="progress-line">{p.executor} · {fmtInt(p.nodes)} node{p.nodes === 1 ? '' : 's'}</div></> },
            { header: 'GPUs', numeric: true, cell: (p) => fmtInt(p.gpus) },
            { header: 'Use', cell: (p) => <PoolBar gpus={p.gpus} held={p.held} free={p.free} foreign={p.foreignUsed} label={`${p.executor}/${p.gpuType}`} /> },
            { header: 'Held', numeric: true, cell: (p) => (p.held === null ? '—' : fmtInt(p.held)) },
            { header: 'Free', numeric: true, cell: (p) => (p.free === null ? '—' : fmtInt(p.free)) },
            { header: 'Other work', numeric: true, cell: (p) => fmtInt(p.foreignUsed) },
            { header: 'Waiting', cell: (p) => (p.waitingJobs ? `${fmtInt(p.waitingJobs)} job${p.waitingJobs === 1 ? '' : 's'} · ${fmtInt(p.waitingGpus)} GPUs` : 'none') },
            { header: 'Reported (UTC)', cell: (p) => <span className="nowrap">{fmtDate(p.reportedAt)}</span> },
          ]}
        />
      </Panel>
      <Panel id="waiting-h" title="Waiting" testId="queue-waiting" head={<span className="progress-line">{role === 'viewer' ? 'members change the priority of their waiting jobs' : 'priority: you may lower your own jobs; team admins set any'}</span>}>
        <WaitingTable rows={q.waiting} now={now} role={role} onChanged={refresh} />
      </Panel>
      <Panel id="holding-h" title="Holding GPUs" testId="queue-holding">
        <HoldingTable rows={q.holding} now={now} />
      </Panel>
      <Panel id="quotas-h" title="Quotas" testId="queue-quotas" head={<Link href="/teams" className="progress-line">Teams and their weights →</Link>}>
        <QuotasTable rows={q.quotas} admin={role === 'admin'} onChanged={refresh} />
        {role === 'admin' && <QuotaForm teams={q.teams} gpuTypes={gpuTypes} onSaved={refresh} />}
      </Panel>
    </>
  );
}
