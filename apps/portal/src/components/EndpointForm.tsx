'use client';

import { useRouter } from 'next/navigation';
import { useId, useState, type FormEvent } from 'react';
import { browserApi } from '../lib/client';
import type { Out } from '../lib/types';
import { ErrorCallout, fieldErrorUi, useSubmit } from './FormErrors';

/** Registers an OpenAI-compatible server; "Test" asks it for /v1/models before saving. */
export function EndpointForm({ models }: { models: { id: string; name: string }[] }) {
  const uid = useId();
  const router = useRouter();
  // The form's fields as typed (trimmed and checked on save); `set(k)` is field k's change handler.
  const [f, setFields] = useState({ name: '', url: 'http://127.0.0.1:8000', served: '', modelId: '', kind: 'vllm' as 'vllm' | 'openai-compatible', maxLen: '', apiKey: '' });
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setFields((old) => ({ ...old, [k]: e.target.value }));
  const { submitting, setSubmitting, submitError, errors, setErrors, reset, send } = useSubmit();
  // Which request is in flight while `submitting`: it names its button's busy label.
  const [action, setAction] = useState<'save' | 'test'>('save');
  const [probe, setProbe] = useState<Out['portal']['endpointHealth'] | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  /** Runs a request of the form: both buttons wait for it; a refusal shows its message and field errors. */
  const attempt = (what: 'save' | 'test', request: () => Promise<void>) => {
    setAction(what);
    reset();
    return send(async () => {
      await request();
      setSubmitting(false);
    });
  };

  const test = () =>
    attempt('test', async () => {
      setProbe(null);
      const served = f.served.trim();
      const h = await browserApi().portal.endpointHealth.mutate({ url: f.url.trim(), ...(served ? { servedModelName: served } : {}) });
      setProbe(h);
      if (h.ok && !served && h.models[0]) setFields((old) => ({ ...old, served: h.models[0]! }));
    });

  const save = (ev: FormEvent) => {
    ev.preventDefault();
    reset();
    const ml = f.maxLen.trim() ? Number(f.maxLen) : undefined;
    if (ml !== undefined && !(Number.isInteger(ml) && ml > 0)) {
      setErrors({ maxModelLen: 'a positive whole number of tokens' });
      return;
    }
    return attempt('save', async () => {
      const e = await browserApi().endpoints.create.mutate({ name: f.name.trim(), url: f.url.trim(), servedModelName: f.served.trim(), kind: f.kind, ...(f.modelId ? { modelId: f.modelId } : {}), ...(ml ? { maxModelLen: ml } : {}), ...(f.apiKey ? { apiKey: f.apiKey } : {}) });
      setSaved(e.name);
      setFields((old) => ({ ...old, name: '', apiKey: '' }));
      setProbe(null);
      router.refresh();
    });
  };
  const fe = fieldErrorUi(uid, errors);
  return (
    <form onSubmit={save} noValidate aria-label="Register an endpoint">
      <div className="form-grid">
        <div className="field"><label htmlFor={`${uid}-name`}>Name</label><input id={`${uid}-name`} type="text" value={f.name} onChange={set('name')} placeholder="vllm-70b-1048k" {...fe.input('name')} />{fe.message('name')}</div>
        <div className="field"><label htmlFor={`${uid}-url`}>Base URL</label><input id={`${uid}-url`} type="url" value={f.url} onChange={set('url')} {...fe.input('url')} />{fe.message('url')}</div>
        <div className="field"><label htmlFor={`${uid}-served`}>Served model name</label><input id={`${uid}-served`} type="text" value={f.served} onChange={set('served')} placeholder="vLLM's --served-model-name" {...fe.input('servedModelName')} />{fe.message('servedModelName')}</div>
        <div className="field">
          <label htmlFor={`${uid}-model`}>Registry model</label>
          <select id={`${uid}-model`} value={f.modelId} onChange={set('modelId')}>
            <option value="">none</option>
            {models.map((m) => <option key={m.id} value={m.id}>{m.name}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${uid}-kind`}>Server</label>
          <select id={`${uid}-kind`} value={f.kind} onChange={set('kind')}>
            <option value="vllm">vLLM</option>
            <option value="openai-compatible">other OpenAI-compatible</option>
          </select>
        </div>
        <div className="field"><label htmlFor={`${uid}-key`}>API key</label><input id={`${uid}-key`} type="password" autoComplete="off" value={f.apiKey} onChange={set('apiKey')} placeholder="optional; stored encrypted" {...fe.input('apiKey')} />{fe.message('apiKey')}</div>
        <div className="field"><label htmlFor={`${uid}-max`}>Max model length</label><input id={`${uid}-max`} type="number" min={1} value={f.maxLen} onChange={set('maxLen')} placeholder="optional" {...fe.input('maxModelLen')} />{fe.message('maxModelLen')}</div>
      </div>
      <ErrorCallout message={submitError} />
      {saved && !submitError && <div className="callout ok" role="status"><p>Registered {saved}.</p></div>}
      {probe && (
        <div className={`callout ${probe.ok ? (probe.servedModelListed === false ? 'warn' : 'ok') : 'error'}`} role="status" data-testid="endpoint-probe">
          <p>{probe.ok ? <>Reachable in {probe.latencyMs} ms · serves {probe.models.map((m) => <code key={m} style={{ marginRight: 6 }}>{m}</code>)}</> : <>Unreachable: {probe.error}</>}</p>
          {probe.ok && probe.error && <p>{probe.error}</p>}
        </div>
      )}
      <div className="form-actions">
        <button type="button" className="btn secondary" onClick={test} disabled={submitting}>{submitting && action === 'test' ? 'Testing…' : 'Test connection'}</button>
        <button type="submit" className="btn" disabled={submitting}>{submitting && action === 'save' ? 'Registering…' : 'Register endpoint'}</button>
      </div>
    </form>
  );
}
