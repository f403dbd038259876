'use client';

import { useId, useState, type FormEvent } from 'react';
import { browserApi } from '../lib/client';
import { fmtMoney } from '../lib/costs';
import type { Out } from '../lib/types';
import { PricesTable, type Price } from './CostTables';
import { ErrorCallout, fieldErrorUi, useAction, useSubmit } from './FormErrors';

type Team = Out['scheduler']['queue']['teams'][number];

/** Device types to pick from: the planner catalog's GPUs and the lab's cpu (any other id may be typed). */
function DeviceList({ id, gpuTypes }: { id: string; gpuTypes: { id: string; name: string }[] }) {
  return (
    <datalist id={id}>
      <option value="cpu">CPU (lab jobs, no GPU)</option>
      {gpuTypes.map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
    </datalist>
  );
}

/**
 * A number field's value: undefined when empty, NaN when not a number (the form says so under the
 * field before asking the API). Accepts 5e10 as well as 50000000000.
 */
function numberOf(v: string): number | undefined {
  const t = v.trim().replace(/[,_\s]/g, '');
  return t === '' ? undefined : Number(t);
}

/** Admins: set a team's quota on one device type (GPU-hours per period, GPUs at once, or both); the API's refusals stand under their fields. */
export function QuotaForm({ teams, gpuTypes, onSaved }: { teams: Team[]; gpuTypes: { id: string; name: string }[]; onSaved: () => Promise<void> }) {
  const uid = useId();
  const [team, setTeam] = useState(teams[0]?.name ?? '');
  const [gpuType, setGpuType] = useState('');
  const [period, setPeriod] = useState<'day' | 'week' | 'month'>('month');
  const [gpuHours, setGpuHours] = useState('');
  const [maxGpus, setMaxGpus] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const { submitting, setSubmitting, submitError, errors, setErrors, reset, send } = useSubmit();
  const fe = fieldErrorUi(uid, errors);
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    reset();
    setNotice(null);
    const hours = numberOf(gpuHours);
    const gpus = numberOf(maxGpus);
    const bad: Record<string, string> = {};
    if (!team) bad.team = 'pick a team (create one on the Teams page)';
    if (!gpuType.trim()) bad.gpuType = 'name the device type, e.g. a100-80gb or cpu';
    if (hours !== undefined && !(hours >= 0)) bad.gpuHours = 'a number of GPU-hours, 0 or more';
    if (gpus !== undefined && !(Number.isInteger(gpus) && gpus >= 0)) bad.maxGpus = 'a whole number of GPUs, 0 or more';
    if (Object.keys(bad).length) {
      setErrors(bad);
      return;
    }
    await send(async () => {
      const q = await browserApi().scheduler.setQuota.mutate({ team, gpuType, period, gpuHours: hours ?? null, maxGpus: gpus ?? null });
      setNotice(`Saved: team ${team}, ${q.gpuType}, ${q.gpuHours === null ? 'no hour limit' : `${q.gpuHours} GPU-hours per ${q.period}`}, ${q.maxGpus === null ? 'no limit on GPUs at once' : `at most ${q.maxGpus} GPUs at once`}.`);
      setSubmitting(false);
      await onSaved();
    });
  };
  if (teams.length === 0) return <p className="panel-note">Quotas belong to teams: create a team on the Teams page first.</p>;
  return (
    <form onSubmit={submit} aria-label="Set a quota" noValidate className="run-form" style={{ marginTop: 14 }}>
      <h3>Set a quota</h3>
      <p className="panel-note" style={{ marginTop: 0 }}>A team&apos;s quota on a device type replaces the one it had. Leave a limit empty for none; give at least one.</p>
      <div className="form-grid">
        <div className="field">
          <label htmlFor={`${uid}-team`}>Team</label>
          <select id={`${uid}-team`} value={team} onChange={(e) => setTeam(e.target.value)} {...fe.input('team')}>
            {teams.map((t) => <option key={t.id} value={t.name}>{t.name}</option>)}
          </select>
          {fe.message('team')}
        </div>
        <div className="field">
          <label htmlFor={`${uid}-gpu`}>Device type</label>
          <input id={`${uid}-gpu`} list={`${uid}-gpus`} value={gpuType} onChange={(e) => setGpuType(e.target.value)} placeholder="a100-80gb" {...fe.input('gpuType')} />
          <DeviceList id={`${uid}-gpus`} gpuTypes={gpuTypes} />
          {fe.message('gpuType')}
        </div>
        <div className="field">
          <label htmlFor={`${uid}-period`}>Period</label>
          <select id={`${uid}-period`} value={period} onChange={(e) => setPeriod(e.target.value as 'day' | 'week' | 'month')} {...fe.input('period')}>
            <option value="day">per day</option>
            <option value="week">per week</option>
            <option value="month">per month</option>
          </select>
          <span className="hint">calendar periods, UTC</span>
          {fe.message('period')}
        </div>
        <div className="field">
          <label htmlFor={`${uid}-hours`}>GPU-hours per period</label>
          <input id={`${uid}-hours`} inputMode="decimal" value={gpuHours} onChange={(e) => setGpuHours(e.target.value)} placeholder="no limit" {...fe.input('gpuHours')} />
          {fe.message('gpuHours')}
        </div>
        <div className="field">
          <label htmlFor={`${uid}-max`}>GPUs at once</label>
          <input id={`${uid}-max`} inputMode="numeric" value={maxGpus} onChange={(e) => setMaxGpus(e.target.value)} placeholder="no limit" {...fe.input('maxGpus')} />
          {fe.message('maxGpus')}
        </div>
      </div>
      <ErrorCallout message={submitError} />
      {notice && <div className="callout ok" role="status"><p>{notice}</p></div>}
      <div className="form-actions"><button type="submit" className="btn" disabled={submitting}>{submitting ? 'Saving…' : 'Save quota'}</button></div>
    </form>
  );
}

/**
 * The price table: what an hour of one device costs, per device type, and its peak for the
 * planner's estimates where the catalog has none (the lab's cpu). Everyone sees it; admins set and
 * remove prices, the API's refusals under their fields.
 */
export function PriceTable({ initial, admin, gpuTypes }: { initial: Price[]; admin: boolean; gpuTypes: { id: string; name: string }[] }) {
  const uid = useId();
  const [prices, setPrices] = useState(initial);
  const [gpuType, setGpuType] = useState('');
  const [price, setPrice] = useState('');
  const [currency, setCurrency] = useState('USD');
  const [peak, setPeak] = useState('');
  const [note, setNote] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const { submitting, setSubmitting, submitError, errors, setErrors, reset, send } = useSubmit();
  const removal = useAction();
  const fe = fieldErrorUi(uid, errors);
  const reload = async () => setPrices(await browserApi().scheduler.prices.query());
  const edit = (p: Price) => {
    reset();
    setNotice(null);
    setGpuType(p.gpuType);
    setPrice(String(p.pricePerHour));
    setCurrency(p.currency);
    setPeak(p.peakFlops === null ? '' : String(p.peakFlops));
    setNote(p.note ?? '');
    document.getElementById(`${uid}-gpu`)?.focus();
  };
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    reset();
    setNotice(null);
    const perHour = numberOf(price);
    const peakFlops = numberOf(peak);
    const bad: Record<string, string> = {};
    if (!gpuType.trim()) bad.gpuType = 'name the device type, e.g. a100-80gb or cpu';
    if (perHour === undefined) bad.pricePerHour = 'give the price of one device-hour';
    else if (!(perHour >= 0)) bad.pricePerHour = 'a price, 0 or more';
    if (peakFlops !== undefined && !(peakFlops > 0)) bad.peakFlops = 'FLOP/s, a positive number such as 9.89e14';
    if (Object.keys(bad).length) {
      setErrors(bad);
      return;
    }
    await send(async () => {
      const p = await browserApi().scheduler.setPrice.mutate({ gpuType, pricePerHour: perHour!, currency: currency.trim().toUpperCase(), peakFlops: peakFlops ?? null, note: note.trim() || null });
      setNotice(`Saved: ${p.gpuType} at ${fmtMoney(p.pricePerHour, p.currency)} per hour.`);
      setGpuType('');
      setPrice('');
      setPeak('');
      setNote('');
      setSubmitting(false);
      await reload();
    });
  };
  const remove = (p: Price) => removal.run(async () => {
    if (!window.confirm(`Remove the price of ${p.gpuType}? Its GPU-hours then count as unpriced.`)) return;
    await browserApi().scheduler.removePrice.mutate({ gpuType: p.gpuType });
    await reload();
  });
  return (
    <>
      <PricesTable
        prices={prices}
        caption="Prices per device-hour"
        actions={admin ? (p) => (
          <span className="btn-group">
            <button type="button" className="btn small secondary" onClick={() => edit(p)} aria-label={`Edit the price of ${p.gpuType}`}>Edit</button>
            <button type="button" className="btn small danger" onClick={() => void remove(p)} aria-label={`Remove the price of ${p.gpuType}`}>Remove</button>
          </span>
        ) : undefined}
      />
      <ErrorCallout message={removal.error} />
      {admin && (
        <form onSubmit={submit} aria-label="Set a price" noValidate className="run-form" style={{ marginTop: 14 }}>
          <h3>Set a price</h3>
          <p className="panel-note" style={{ marginTop: 0 }}>A device type&apos;s price replaces the one it had and applies to every job in the accounts, past ones included. Lab jobs hold no GPU and are charged as one <code>cpu</code> device.</p>
          <div className="form-grid">
            <div className="field">
              <label htmlFor={`${uid}-gpu`}>Device type</label>
              <input id={`${uid}-gpu`} list={`${uid}-gpus`} value={gpuType} onChange={(e) => setGpuType(e.target.value)} placeholder="h100-sxm-80gb" {...fe.input('gpuType')} />
              <DeviceList id={`${uid}-gpus`} gpuTypes={gpuTypes} />
              {fe.message('gpuType')}
            </div>
            <div className="field">
              <label htmlFor={`${uid}-price`}>Price per device-hour</label>
              <input id={`${uid}-price`} inputMode="decimal" value={price} onChange={(e) => setPrice(e.target.value)} placeholder="2.50" {...fe.input('pricePerHour')} />
              {fe.message('pricePerHour')}
            </div>
            <div className="field">
              <label htmlFor={`${uid}-cur`}>Currency</label>
              <input id={`${uid}-cur`} value={currency} onChange={(e) => setCurrency(e.target.value)} maxLength={3} placeholder="USD" {...fe.input('currency')} />
              <span className="hint">ISO 4217 code: USD, EUR, GBP…</span>
              {fe.message('currency')}
            </div>
            <div className="field">
              <label htmlFor={`${uid}-peak`}>Peak FLOP/s (optional)</label>
              <input id={`${uid}-peak`} inputMode="decimal" value={peak} onChange={(e) => setPeak(e.target.value)} placeholder="5e10" {...fe.input('peakFlops')} />
              <span className="hint">dense BF16 peak, for estimates on devices outside the planner&apos;s catalog</span>
              {fe.message('peakFlops')}
            </div>
            <div className="field">
              <label htmlFor={`${uid}-note`}>Note (optional)</label>
              <input id={`${uid}-note`} value={note} onChange={(e) => setNote(e.target.value)} maxLength={500} placeholder="on-demand rate, 2026 contract" {...fe.input('note')} />
              {fe.message('note')}
            </div>
          </div>
          <ErrorCallout message={submitError} />
          {notice && <div className="callout ok" role="status"><p>{notice}</p></div>}
          <div className="form-actions"><button type="submit" className="btn" disabled={submitting}>{submitting ? 'Saving…' : 'Save price'}</button></div>
        </form>
      )}
    </>
  );
}
