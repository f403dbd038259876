'use client';

import { useState } from 'react';
import { browserApi, errorMessage } from '../lib/client';
import type { Out } from '../lib/types';

type Health = Out['portal']['endpointHealth'];

/** "Check health": asks the server (GET /v1/models, 3 s timeout) and lists the models it serves, or says why not. */
export function EndpointHealth({ id, compact = false }: { id: string; compact?: boolean }) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Health | null>(null);
  const [error, setError] = useState<string | null>(null);
  const check = async () => {
    setBusy(true);
    setError(null);
    try {
      setResult(await browserApi().portal.endpointHealth.mutate({ id }));
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div aria-live="polite" data-testid="endpoint-health">
      <button type="button" className="btn secondary small" onClick={check} disabled={busy}>
        {busy ? <><span className="spinner" aria-hidden="true" /> checking…</> : 'Check health'}
      </button>
      {error && <p className="field-error" role="alert">{error}</p>}
      {result && (
        result.ok ? (
          <div className={`callout ${result.servedModelListed === false ? 'warn' : 'ok'}`} style={{ marginTop: 8, marginBottom: 0 }}>
            <p><strong>{result.servedModelListed === false ? 'Reachable, but' : 'Healthy'}</strong> · {result.latencyMs} ms · serves {result.models.length ? result.models.map((m) => <code key={m} style={{ marginRight: 6 }}>{m}</code>) : 'no models'}</p>
            {result.error && <p>{result.error}</p>}
            {!compact && <p className="hint">{result.url}</p>}
          </div>
        ) : (
          <div className="callout error" role="alert" style={{ marginTop: 8, marginBottom: 0 }}>
            <p><strong>Unreachable</strong> · {result.error}</p>
          </div>
        )
      )}
    </div>
  );
}
