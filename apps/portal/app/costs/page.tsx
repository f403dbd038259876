import { fmtDate } from '@ctxlab/ui';
import type { Metadata } from 'next';
import Link from 'next/link';
import { Breakdown, chartMetric, CostJobsTable, CostStats, EstimateChart, EstimatesTable, PricesTable } from '../../src/components/CostTables';
import { hrefWith, one, PageHead, type SearchParams } from '../../src/components/EntityList';
import { Panel } from '../../src/components/Panel';
import { costRange } from '../../src/lib/costs';
import { api, currentActor } from '../../src/server/api';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Costs' };

/** Rows of the per-job table: a long range is summed whole, but only its newest jobs are listed. */
const JOB_ROWS = 500;

export default async function CostsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const me = await currentActor();
  const sp = await searchParams;
  const range = costRange({ from: one(sp.from), to: one(sp.to) });
  const team = one(sp.team)?.trim() || undefined;
  const asked = one(sp.show) === 'hours' ? 'hours' : one(sp.show) === 'cost' ? 'cost' : undefined;
  const a = await api();
  const teams = await a.teams.list();
  let teamError: string | null = null;
  let report;
  try {
    report = await a.costs.report({ from: range.from, to: range.to, ...(team ? { team } : {}) });
  } catch (e) {
    if ((e as { code?: string }).code !== 'BAD_REQUEST' || !team) throw e;
    teamError = (e as Error).message;
    report = await a.costs.report({ from: range.from, to: range.to });
  }
  const { metric, currency, why } = chartMetric(report.totals, asked);
  const base = { from: range.fromDay, to: range.toDay, team };
  const what = metric === 'cost' ? `Cost (${currency})` : 'GPU-hours';
  const jobs = [...report.jobs].sort((x, y) => new Date(y.startedAt).getTime() - new Date(x.startedAt).getTime());
  return (
    <>
      <PageHead
        title="Costs"
        sub="GPU time per job — from when its executor started it to when it ended, × its GPUs (a job that holds no GPU counts as one cpu device) — priced by the price table, per month, team and device, and the planner's estimates beside what training really took. Dates are UTC."
      />
      <form className="filters" role="search" action="/costs" aria-label="Cost range and team">
        <div className="field">
          <label htmlFor="cost-from">From</label>
          <input id="cost-from" name="from" type="date" defaultValue={range.fromDay} aria-invalid={Boolean(range.errors.from)} aria-describedby={range.errors.from ? 'cost-from-e' : undefined} />
          {range.errors.from && <span id="cost-from-e" className="field-error">{range.errors.from}</span>}
        </div>
        <div className="field">
          <label htmlFor="cost-to">To (included)</label>
          <input id="cost-to" name="to" type="date" defaultValue={range.toDay} aria-invalid={Boolean(range.errors.to)} aria-describedby={range.errors.to ? 'cost-to-e' : undefined} />
          {range.errors.to && <span id="cost-to-e" className="field-error">{range.errors.to}</span>}
        </div>
        <div className="field">
          <label htmlFor="cost-team">Team</label>
          <select id="cost-team" name="team" defaultValue={teamError ? '' : (team ?? '')} aria-invalid={Boolean(teamError)} aria-describedby={teamError ? 'cost-team-e' : undefined}>
            <option value="">all teams</option>
            {teams.map((t) => <option key={t.id} value={t.name}>{t.name}</option>)}
          </select>
          {teamError && <span id="cost-team-e" className="field-error">{teamError}: showing all teams</span>}
        </div>
        {asked && <input type="hidden" name="show" value={asked} />}
        <button type="submit" className="btn secondary">Apply</button>
        {(one(sp.from) || one(sp.to) || team) && <Link href="/costs">This month</Link>}
      </form>
      <p className="panel-note" data-testid="cost-range">
        {fmtDate(report.from)} to {fmtDate(report.to)} UTC{report.team ? <>, team {report.team}</> : ', all teams'}.
      </p>
      <CostStats sum={report.totals} testId="cost-totals" />
      {report.totals.unpricedGpuHours > 0 && (
        <div className="callout warn" role="status" data-testid="unpriced">
          <p>{report.byDevice.filter((d) => d.unpricedGpuHours > 0).map((d) => d.key).join(', ')} {report.byDevice.filter((d) => d.unpricedGpuHours > 0).length === 1 ? 'has' : 'have'} no price: their GPU-hours are counted but not in the cost. {me.role === 'admin' ? <Link href="/scheduler#prices-h">Set a price</Link> : 'An admin sets prices on the GPU queue page.'}</p>
        </div>
      )}
      <Panel
        id="breakdown-h"
        title={`${what} per month, team and device`}
        head={
          <nav className="segmented" aria-label="Charts show">
            {(['cost', 'hours'] as const).map((m) => (
              <Link key={m} href={hrefWith('/costs', { ...base, show: m })} aria-current={metric === m ? 'page' : undefined} style={{ padding: '5px 12px', fontSize: 13, borderLeft: m === 'cost' ? 0 : '1px solid var(--line-strong)', background: metric === m ? 'var(--accent)' : '#fff', color: metric === m ? '#fff' : 'var(--ink)' }}>
                {m === 'cost' ? 'cost' : 'GPU-hours'}
              </Link>
            ))}
          </nav>
        }
      >
        {why && <p className="panel-note" style={{ marginTop: 0 }}>Showing GPU-hours: {why}.</p>}
        <div className="cols-3">
          <Breakdown id="cost-months" testId="cost-by-month" title={`${what} per month`} rows={report.byMonth} metric={metric} currency={currency} />
          <Breakdown id="cost-teams" testId="cost-by-team" title={`${what} per team`} rows={report.byTeam} metric={metric} currency={currency} />
          <Breakdown id="cost-devices" testId="cost-by-device" title={`${what} per device`} rows={report.byDevice} metric={metric} currency={currency} />
        </div>
      </Panel>
      <Panel id="estimates-h" title="Estimate against actual" testId="cost-estimates" head={<span className="progress-line">finished training jobs with a planner estimate</span>}>
        <EstimateChart rows={report.estimates} />
        <EstimatesTable rows={report.estimates} />
        <p className="panel-note">Implied MFU: the MFU the estimate assumed × estimate ÷ actual — the share of the device&apos;s peak the job really reached, if the estimate&apos;s token and FLOP counts hold.</p>
      </Panel>
      <Panel id="cost-jobs-h" title="Jobs" testId="cost-jobs" head={<span className="progress-line">{report.jobs.length > JOB_ROWS ? `newest ${JOB_ROWS} of ${report.jobs.length}` : `${report.jobs.length} job${report.jobs.length === 1 ? '' : 's'}`}, newest first</span>}>
        <CostJobsTable rows={jobs.slice(0, JOB_ROWS)} caption="Jobs that held devices in this range, newest first" empty="No job held a device in this range." />
      </Panel>
      <Panel id="cost-prices-h" title="Prices" head={me.role === 'admin' ? <Link href="/scheduler#prices-h" className="progress-line">Edit the price table →</Link> : undefined}>
        <PricesTable prices={report.prices} caption="Prices per device-hour used for these figures" dense />
      </Panel>
    </>
  );
}
