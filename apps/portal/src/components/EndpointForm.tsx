'use client';

import { useRouter } from 'next/navigation';
import { useId, useState, type FormEvent } from 'react';
import { browserApi, errorMessage, fieldErrors } from '../lib/client';
import type { Out } from '../lib/types';
import { ErrorCallout, fieldErrorUi } from './FormErrors';

/** Registers an OpenAI-compatible server; "Test" asks it for /v1/models before saving. */
export function EndpointForm({ models }: { models: { id: string; name: string }[] }) {
  const uid = useId();
  const router = useRouter();
  const [name, setName] = useState('');
  const [url, setUrl] = useState('http://127.0.0.1:8000');
  const [served, setServed] = useState('');
  const [modelId, setModelId] = useState('');
  const [kind, setKind] = useState<'vllm' | 'openai-compatible'>('vllm');
  const [maxLen, setMaxLen] = useState('');
  const [apiKey, setApiKey] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<'save' | 'test' | null>(null);
  const [probe, setProbe] = useState<Out['portal']['endpointHealth'] | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  const test = async () => {
    setBusy('test');
    setProbe(null);
    setError(null);
    try {
      const h = await browserApi().portal.endpointHealth.mutate({ url: url.trim(), ...(served.trim() ? { servedModelName: served.trim() } : {}) });
      setProbe(h);
      if (h.ok && !served.trim() && h.models[0]) setServed(h.models[0]);
    } catch (e) {
      setErrors(fieldErrors(e));
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  };

  const save = async (ev: FormEvent) => {
    ev.preventDefault();
    setBusy('save');
    setErrors({});
    setError(null);
    const ml = maxLen.trim() ? Number(maxLen) : undefined;
    if (ml !== undefined && !(Number.isInteger(ml) && ml > 0)) {
      setErrors({ maxModelLen: 'a positive whole number of tokens' });
      setBusy(null);
      return;
    }
    try {
      const e = await browserApi().endpoints.create.mutate({ name: name.trim(), url: url.trim(), servedModelName: served.trim(), kind, ...(modelId ? { modelId } : {}), ...(ml ? { maxModelLen: ml } : {}), ...(apiKey ? { apiKey } : {}) });
      setSaved(e.name);
      setName('');
      setApiKey('');
      setProbe(null);
      router.refresh();
    } catch (e) {
      setErrors(fieldErrors(e));
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  };
  const fe = fieldErrorUi(uid, errors);
  return (
    <form onSubmit={save} noValidate aria-label="Register an endpoint">
      <div className="form-grid">
        <div className="field"><label htmlFor={`${uid}-name`}>Name</label><input id={`${uid}-name`} type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder="vllm-70b-1048k" {...fe.input('name')} />{fe.message('name')}</div>
        <div className="field"><label htmlFor={`${uid}-url`}>Base URL</label><input id={`${uid}-url`} type="url" value={url} onChange={(e) => setUrl(e.target.value)} {...fe.input('url')} />{fe.message('url')}</div>
        <div className="field"><label htmlFor={`${uid}-served`}>Served model name</label><input id={`${uid}-served`} type="text" value={served} onChange={(e) => setServed(e.target.value)} placeholder="vLLM's --served-model-name" {...fe.input('servedModelName')} />{fe.message('servedModelName')}</div>
        <div className="field">
          <label htmlFor={`${uid}-model`}>Registry model</label>
          <select id={`${uid}-model`} value={modelId} onChange={(e) => setModelId(e.target.value)}>
            <option value="">none</option>
            {models.map((m) => <option key={m.id} value={m.id}>{m.name}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${uid}-kind`}>Server</label>
          <select id={`${uid}-kind`} value={kind} onChange={(e) => setKind(e.target.value as 'vllm' | 'openai-compatible')}>
            <option value="vllm">vLLM</option>
            <option value="openai-compatible">other OpenAI-compatible</option>
          </select>
        </div>
        <div className="field"><label htmlFor={`${uid}-key`}>API key</label><input id={`${uid}-key`} type="password" autoComplete="off" value={apiKey} onChange={(e) => setApiKey(e.target.value)} placeholder="optional; stored encrypted" {...fe.input('apiKey')} />{fe.message('apiKey')}</div>
        <div className="field"><label htmlFor={`${uid}-max`}>Max model length</label><input id={`${uid}-max`} type="number" min={1} value={maxLen} onChange={(e) => setMaxLen(e.target.value)} placeholder="optional" {...fe.input('maxModelLen')} />{fe.message('maxModelLen')}</div>
      </div>
      <ErrorCallout message={error} />
      {saved && !error && <div className="callout ok" role="status"><p>Registered {saved}.</p></div>}
      {probe && (
        <div className={`callout ${probe.ok ? (probe.servedModelListed === false ? 'warn' : 'ok') : 'error'}`} role="status" data-testid="endpoint-probe">
          <p>{probe.ok ? <>Reachable in {probe.latencyMs} ms · serves {probe.models.map((m) => <code key={m} style={{ marginRight: 6 }}>{m}</code>)}</> : <>Unreachable: {probe.error}</>}</p>
          {probe.ok && probe.error && <p>{probe.error}</p>}
        </div>
      )}
      <div className="form-actions">
        <button type="button" className="btn secondary" onClick={test} disabled={busy !== null}>{busy === 'test' ? 'Testing…' : 'Test connection'}</button>
        <button type="submit" className="btn" disabled={busy !== null}>{busy === 'save' ? 'Registering…' : 'Register endpoint'}</button>
      </div>
    </form>
  );
}
