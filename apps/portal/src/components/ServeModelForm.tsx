'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useId, useState, type FormEvent } from 'react';
import { browserApi, errorMessage, fieldErrors } from '../lib/client';
import { ErrorCallout, fieldErrorUi } from './FormErrors';

interface Props {
  modelId: string;
  modelName: string;
  /** Byte-level lab models are served by ctxlab's model server; others by vLLM. */
  isLab: boolean;
  maxPositions: number;
  hasWeights: boolean;
  gpus: { id: string; name: string }[];
}

/**
 * "Serve this model": queues a serve job (vLLM from the planner's serving plan, or the lab model
 * server), which registers an endpoint once /health answers. A length that cannot fit is refused
 * here, with the longest that would, before any GPU is asked for. Opens the job's live page.
 */
export function ServeModelForm({ modelId, modelName, isLab, maxPositions, hasWeights, gpus }: Props) {
  const uid = useId();
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [engine, setEngine] = useState<'vllm' | 'lab'>(isLab ? 'lab' : 'vllm');
  const [executor, setExecutor] = useState<'local' | 'kubernetes'>(isLab ? 'local' : 'kubernetes');
  const [gpuType, setGpuType] = useState(gpus[0]?.id ?? '');
  const [tp, setTp] = useState('1');
  const [maxLen, setMaxLen] = useState(String(isLab ? Math.max(8192, maxPositions) : maxPositions));
  const [port, setPort] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (!hasWeights) {
    return <span className="muted" title="Register where its weights are (sourceUri) to serve it">Serve: no weights registered</span>;
  }
  if (!open) {
    return <button type="button" className="btn" onClick={() => setOpen(true)}>Serve…</button>;
  }

  const whole = (v: string, k: string, bad: Record<string, string>) => {
    if (!v.trim()) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) bad[k] = 'a positive whole number';
    return n;
  };
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    const bad: Record<string, string> = {};
    const maxModelLen = whole(maxLen, 'maxModelLen', bad);
    const tensorParallelSize = whole(tp, 'tensorParallelSize', bad);
    const p = whole(port, 'port', bad);
    setErrors(bad);
    setError(null);
    if (Object.keys(bad).length) return;
    setBusy(true);
    try {
      const r = await browserApi().gpu.serveModel.mutate({
        modelId, engine, executor,
        ...(maxModelLen ? { maxModelLen } : {}),
        ...(p ? { port: p } : {}),
        ...(engine === 'vllm' ? { gpuType, ...(tensorParallelSize ? { tensorParallelSize } : {}) } : {}),
      });
      router.push(`/jobs/${r.job.id}`);
    } catch (e) {
      setErrors(fieldErrors(e));
      setError(errorMessage(e));
      setBusy(false);
    }
  };
  const fe = fieldErrorUi(uid, errors);
  return (
    <form onSubmit={submit} noValidate aria-label={`Serve ${modelName}`} className="panel" style={{ marginTop: 12 }}>
      <h2>Serve {modelName}</h2>
      <div className="form-grid">
        <div className="field">
          <label htmlFor={`${uid}-engine`}>Server</label>
          <select id={`${uid}-engine`} value={engine} onChange={(e) => setEngine(e.target.value as 'vllm' | 'lab')}>
            <option value="vllm">vLLM (GPU)</option>
            <option value="lab">ctxlab lab model server (CPU)</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${uid}-exec`}>Where</label>
          <select id={`${uid}-exec`} value={executor} onChange={(e) => setExecutor(e.target.value as 'local' | 'kubernetes')}>
            <option value="local">this host (local executor)</option>
            <option value="kubernetes">GPU cluster (Kubernetes)</option>
          </select>
        </div>
        {engine === 'vllm' && (
          <>
            <div className="field">
              <label htmlFor={`${uid}-gpu`}>GPU</label>
              <select id={`${uid}-gpu`} value={gpuType} onChange={(e) => setGpuType(e.target.value)} {...fe.input('gpuType')}>
                {gpus.map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
              </select>
              {fe.message('gpuType')}
            </div>
            <div className="field"><label htmlFor={`${uid}-tp`}>Tensor parallel size</label><input id={`${uid}-tp`} type="number" min={1} value={tp} onChange={(e) => setTp(e.target.value)} {...fe.input('tensorParallelSize')} />{fe.message('tensorParallelSize')}</div>
          </>
        )}
        <div className="field"><label htmlFor={`${uid}-len`}>Max model length</label><input id={`${uid}-len`} type="number" min={1} value={maxLen} onChange={(e) => setMaxLen(e.target.value)} {...fe.input('maxModelLen')} />{fe.message('maxModelLen')}</div>
        <div className="field"><label htmlFor={`${uid}-port`}>Port</label><input id={`${uid}-port`} type="number" min={1024} max={65535} value={port} onChange={(e) => setPort(e.target.value)} placeholder="default" {...fe.input('port')} />{fe.message('port')}</div>
      </div>
      <ErrorCallout message={error} />
      <div className="form-actions">
        <button type="button" className="btn secondary" onClick={() => setOpen(false)} disabled={busy}>Close</button>
        <button type="submit" className="btn" disabled={busy}>{busy ? 'Queueing…' : 'Start serving'}</button>
      </div>
      <p className="panel-note">The endpoint is registered when the server answers <code>/health</code>; stop it from its job page (Cancel). <Link href="/planner">Plan the memory first</Link>.</p>
    </form>
  );
}
