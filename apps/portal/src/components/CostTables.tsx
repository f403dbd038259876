import { DataTable, fmtDate, fmtDuration, fmtSci, HBarChart, StatusBadge, type HBarRow } from '@ctxlab/ui';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { fmtCosts, fmtGpuHours, fmtMoney, fmtPercent, fmtRatio } from '../lib/costs';
import type { Out } from '../lib/types';

export type JobCost = Out['costs']['report']['jobs'][number];
export type CostSum = Out['costs']['model']['total'];
export type Price = Out['scheduler']['prices'][number];

/** The price table: read-only on the costs page, with each row's actions where admins edit it. */
export function PricesTable({ prices, caption, actions, dense = false }: { prices: readonly Price[]; caption: string; actions?: (p: Price) => ReactNode; dense?: boolean }) {
  return (
    <DataTable
      caption={caption}
      dense={dense}
      rows={prices}
      rowKey={(p) => p.gpuType}
      empty="No prices: every GPU-hour counts as unpriced."
      columns={[
        { header: 'Device', rowHeader: true, cell: (p) => <span className="mono">{p.gpuType}</span> },
        { header: 'Per hour', numeric: true, cell: (p) => fmtMoney(p.pricePerHour, p.currency) },
        { header: 'Peak (FLOP/s)', numeric: true, cell: (p) => (p.peakFlops === null ? <span className="muted" title="the planner catalog's peak is used for GPUs it knows">—</span> : fmtSci(p.peakFlops, 2)) },
        { header: 'Note', cell: (p) => p.note ?? '' },
        { header: 'Updated', cell: (p) => <span className="nowrap" title={`by ${p.updatedBy}`}>{fmtDate(p.updatedAt)}</span> },
        ...(actions ? [{ header: '', id: 'actions', cell: actions }] : []),
      ]}
    />
  );
}
type Keyed = Out['costs']['report']['byTeam'][number];

/** What a job cost: the amount in its currency, or "unpriced" when its device has no price. */
export function jobCostCell(j: Pick<JobCost, 'cost' | 'currency'>): ReactNode {
  return j.cost === null ? <span className="muted" title="its device type has no price: an admin sets one on the GPU queue page">unpriced</span> : fmtMoney(j.cost, j.currency);
}

const deviceText = (j: Pick<JobCost, 'device' | 'devices'>) => `${j.devices} × ${j.device}`;

/** The jobs of a cost report or a model's lineage: device time and cost each, each linked to its page. */
export function CostJobsTable({ rows, caption, empty, team = true }: { rows: readonly JobCost[]; caption: string; empty: ReactNode; team?: boolean }) {
  return (
    <DataTable
      caption={caption}
      dense
      rows={rows}
      rowKey={(j) => j.jobId}
      empty={empty}
      columns={[
        { header: 'Job', rowHeader: true, cell: (j) => <><Link href={`/jobs/${j.jobId}`}>{j.output ?? `${j.kind} ${j.jobId.slice(-8)}`}</Link><div className="progress-line mono" title={j.jobId}>{j.jobId.slice(-8)}</div></> },
        { header: 'Kind', cell: (j) => j.kind },
        { header: 'Status', cell: (j) => <StatusBadge status={j.status} /> },
        ...(team ? [{ header: 'Team', cell: (j: JobCost) => j.team ?? <span className="muted">no team</span> }] : []),
        { header: 'Device', cell: (j) => <span className="nowrap mono">{deviceText(j)}</span> },
        { header: 'Started (UTC)', cell: (j) => <span className="nowrap">{fmtDate(j.startedAt)}</span> },
        { header: 'Took', numeric: true, cell: (j) => <span className="nowrap">{fmtDuration(j.hours * 3600)}{j.endedAt ? '' : ' so far'}</span> },
        { header: 'GPU-hours', numeric: true, cell: (j) => <span data-testid="job-gpu-hours">{fmtGpuHours(j.gpuHours)}</span> },
        { header: 'Cost', numeric: true, cell: (j) => <span data-testid="job-cost">{jobCostCell(j)}</span> },
        { header: 'Estimate', numeric: true, cell: (j) => (j.estimateGpuHours === null ? '—' : `${fmtGpuHours(j.estimateGpuHours)} GPU-h`) },
      ]}
    />
  );
}

/** Finished training jobs: the planner's GPU-hours beside the actual ones, their ratio and the MFU it implies. */
export function EstimatesTable({ rows }: { rows: readonly JobCost[] }) {
  return (
    <DataTable
      caption="Estimate against actual, finished training jobs"
      rows={rows}
      rowKey={(j) => j.jobId}
      empty="No finished training job with an estimate in this range. Training jobs are estimated when they are queued, on a device the planner's catalog knows or one whose price gives a peak FLOP/s."
      columns={[
        { header: 'Job', rowHeader: true, cell: (j) => <Link href={`/jobs/${j.jobId}`}>{j.output ?? j.jobId}</Link> },
        { header: 'Team', cell: (j) => j.team ?? <span className="muted">no team</span> },
        { header: 'Device', cell: (j) => <span className="nowrap mono">{deviceText(j)}</span> },
        { header: 'Planner GPU-hours', numeric: true, cell: (j) => fmtGpuHours(j.estimateGpuHours) },
        { header: 'Actual GPU-hours', numeric: true, cell: (j) => fmtGpuHours(j.gpuHours) },
        { header: 'Actual ÷ estimate', numeric: true, cell: (j) => <span data-testid="estimate-ratio">{fmtRatio(j.ratio)}</span> },
        { header: 'Implied MFU', numeric: true, cell: (j) => fmtPercent(j.impliedMfu) },
      ]}
    />
  );
}

/** Bars of actual ÷ estimate per finished training job, against the line where the estimate was right. */
export function EstimateChart({ rows }: { rows: readonly JobCost[] }) {
  if (rows.length === 0) return null;
  return (
    <div className="lineage-scroll chart-block" data-testid="estimate-chart">
      <HBarChart
        id="estimate-chart"
        title="Actual ÷ estimated GPU-hours per training job"
        description="Above 1: the job took longer than the planner estimated; below 1: less."
        rows={rows.map((j) => ({ label: j.output ?? j.jobId, value: j.ratio ?? 0, detail: `${fmtGpuHours(j.gpuHours)} of ${fmtGpuHours(j.estimateGpuHours)} estimated GPU-h, implied MFU ${fmtPercent(j.impliedMfu)}` }))}
        format={fmtRatio}
        reference={{ value: 1, label: 'as estimated' }}
        xLabel="actual ÷ estimate"
        color="#7c3aed"
      />
    </div>
  );
}

/**
 * What a breakdown's charts measure: cost when every priced job is in one currency (amounts in two
 * currencies are never added up), else GPU-hours.
 */
export function chartMetric(totals: CostSum, asked: 'cost' | 'hours' | undefined): { metric: 'cost' | 'hours'; currency: string | null; why: string | null } {
  const currencies = Object.keys(totals.cost);
  if (asked === 'hours') return { metric: 'hours', currency: null, why: null };
  if (currencies.length === 1) return { metric: 'cost', currency: currencies[0]!, why: null };
  if (currencies.length === 0) return { metric: 'hours', currency: null, why: asked === 'cost' ? 'no job in this range ran on a priced device' : null };
  return { metric: 'hours', currency: null, why: `costs are in ${currencies.join(' and ')}, which are never added up` };
}

/** One breakdown (per month, team or device) as a bar chart of the metric, with its figures as a table under it. */
export function Breakdown({ id, title, rows, metric, currency, testId }: { id: string; title: string; rows: readonly Keyed[]; metric: 'cost' | 'hours'; currency: string | null; testId: string }) {
  const value = (s: Keyed) => (metric === 'cost' && currency ? (s.cost[currency] ?? 0) : s.gpuHours);
  const format = (v: number) => (metric === 'cost' && currency ? fmtMoney(v, currency) : `${fmtGpuHours(v)} GPU-h`);
  const bars: HBarRow[] = rows.map((s) => ({ label: s.key, value: value(s), detail: `${fmtGpuHours(s.gpuHours)} GPU-h, ${s.jobs} job${s.jobs === 1 ? '' : 's'}${s.unpricedGpuHours > 0 ? `, ${fmtGpuHours(s.unpricedGpuHours)} GPU-h unpriced` : ''}` }));
  return (
    <div data-testid={testId}>
      {rows.length === 0 ? (
        <p className="empty" role="status">No jobs in this range.</p>
      ) : (
        <div className="lineage-scroll">
          <HBarChart id={id} title={title} rows={bars} format={format} width={300} xLabel={metric === 'cost' && currency ? currency : 'GPU-hours'} />
        </div>
      )}
      <details style={{ marginTop: 8 }}>
        <summary>As a table</summary>
        <DataTable
          caption={title}
          dense
          rows={rows}
          rowKey={(s) => s.key}
          columns={[
            { header: '', rowHeader: true, id: 'key', cell: (s) => s.key },
            { header: 'Jobs', numeric: true, cell: (s) => s.jobs },
            { header: 'GPU-hours', numeric: true, cell: (s) => fmtGpuHours(s.gpuHours) },
            { header: 'Cost', numeric: true, cell: (s) => fmtCosts(s.cost) },
            { header: 'Unpriced GPU-hours', numeric: true, cell: (s) => (s.unpricedGpuHours > 0 ? fmtGpuHours(s.unpricedGpuHours) : '—') },
          ]}
        />
      </details>
    </div>
  );
}

/** A sum's figures as the stat tiles over a page's section: GPU-hours, jobs, cost per currency, unpriced GPU-hours. */
export function CostStats({ sum, testId }: { sum: CostSum; testId: string }) {
  const cost = fmtCosts(sum.cost);
  return (
    <div className="stats" data-testid={testId}>
      {/* Small amounts and two currencies make long figures: a smaller size keeps them on one line. */}
      <div className="stat"><div className="n" data-testid="total-cost" style={cost.length > 7 ? { fontSize: 20 } : undefined}>{cost}</div><div className="l">cost</div></div>
      <div className="stat"><div className="n" data-testid="total-gpu-hours">{fmtGpuHours(sum.gpuHours)}</div><div className="l">GPU-hours</div></div>
      <div className="stat"><div className="n">{sum.jobs}</div><div className="l">jobs</div></div>
      <div className="stat"><div className="n">{sum.unpricedGpuHours > 0 ? fmtGpuHours(sum.unpricedGpuHours) : '0'}</div><div className="l">GPU-hours unpriced (no price for the device)</div></div>
    </div>
  );
}
