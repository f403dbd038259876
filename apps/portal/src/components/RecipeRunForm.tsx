'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useId, useState, type FormEvent } from 'react';
import { browserApi } from '../lib/client';
import { ErrorCallout, fieldErrorUi, useSubmit } from './FormErrors';

interface Props {
  recipeId: string;
  recipeName: string;
  version: number;
  /** The recipe's trainer: only the lab trainer asks for a device. */
  trainer: string;
  stages: number;
  /** The registry's models to start from; the one named by the recipe's baseModel is picked first. */
  models: readonly { id: string; name: string }[];
  defaultModelId?: string | undefined;
}

/**
 * "Run this recipe": starts a recipe run (recipes.run) from a registered base model, stage after
 * stage with its gates, and opens the run's live page. The API refuses up front a run whose
 * stages could never start; its message is shown here.
 */
export function RecipeRunForm({ recipeId, recipeName, version, trainer, stages, models, defaultModelId }: Props) {
  const uid = useId();
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [baseModelId, setBaseModelId] = useState(defaultModelId ?? models[0]?.id ?? '');
  const [executor, setExecutor] = useState<'local' | 'kubernetes'>('local');
  const [device, setDevice] = useState<'cpu' | 'cuda'>('cpu');
  const [name, setName] = useState('');
  const [outputRoot, setOutputRoot] = useState('');
  const { submitting, submitError, errors, setErrors, reset, send } = useSubmit();
  const lab = trainer === 'lab';

  if (!open) {
    return (
      <div className="form-actions run-form-open">
        <button type="button" className="btn" onClick={() => setOpen(true)} disabled={models.length === 0}>Run this recipe…</button>
        {models.length === 0 && <span className="muted">No model in the registry to start from: <Link href="/models">register a base model</Link> first.</span>}
      </div>
    );
  }
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    reset();
    if (!baseModelId) {
      setErrors({ baseModelId: 'pick the model stage 1 trains from' });
      return;
    }
    await send(async () => {
      const r = await browserApi().recipes.run.mutate({
        recipeId, baseModelId, executor,
        ...(lab ? { device } : {}),
        ...(name.trim() ? { name: name.trim() } : {}),
        ...(outputRoot.trim() ? { outputRoot: outputRoot.trim() } : {}),
      });
      router.push(`/recipes/runs/${r.id}`);
    });
  };
  const fe = fieldErrorUi(uid, errors);
  return (
    <form onSubmit={submit} noValidate aria-label={`Run ${recipeName}`} className="run-form" data-testid="recipe-run-form">
      <h3>Run {recipeName} v{version}</h3>
      <p className="panel-note" style={{ marginTop: 0, marginBottom: 12 }}>
        Trains the recipe&apos;s {stages} {stages === 1 ? 'stage' : 'stages'} in order from the base model; after each stage its gates run, and a failed gate stops the run until you retry the stage or continue past it.
      </p>
      <div className="form-grid">
        <div className="field">
          <label htmlFor={`${uid}-model`}>Base model</label>
          <select id={`${uid}-model`} value={baseModelId} onChange={(e) => setBaseModelId(e.target.value)} {...fe.input('baseModelId')}>
            {models.map((m) => <option key={m.id} value={m.id}>{m.name}</option>)}
          </select>
          <span className="hint">Stage 1 trains from it (unless the stage names its own initFrom).</span>
          {fe.message('baseModelId')}
        </div>
        <div className="field">
          <label htmlFor={`${uid}-exec`}>Where</label>
          <select id={`${uid}-exec`} value={executor} onChange={(e) => setExecutor(e.target.value as 'local' | 'kubernetes')} {...fe.input('executor')}>
            <option value="local">this host (local executor)</option>
            <option value="kubernetes">GPU cluster (Kubernetes)</option>
          </select>
          {fe.message('executor')}
        </div>
        {lab && (
          <div className="field">
            <label htmlFor={`${uid}-device`}>Device</label>
            <select id={`${uid}-device`} value={device} onChange={(e) => setDevice(e.target.value as 'cpu' | 'cuda')} {...fe.input('device')}>
              <option value="cpu">CPU</option>
              <option value="cuda">one GPU (CUDA)</option>
            </select>
            <span className="hint">The lab trainer trains on the CPU or one GPU.</span>
            {fe.message('device')}
          </div>
        )}
        <div className="field">
          <label htmlFor={`${uid}-name`}>Run name (optional)</label>
          <input id={`${uid}-name`} type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder={`${recipeName}-v${version}-<date and time>`} {...fe.input('name')} />
          <span className="hint">Stage models are named &lt;run&gt;-&lt;stage name&gt;.</span>
          {fe.message('name')}
        </div>
        <div className="field">
          <label htmlFor={`${uid}-out`}>Output root (optional)</label>
          <input id={`${uid}-out`} type="text" value={outputRoot} onChange={(e) => setOutputRoot(e.target.value)} placeholder="file:///… or s3://…" {...fe.input('outputRoot')} />
          <span className="hint">Default: recipe-runs/&lt;run&gt; under the worker&apos;s artifact root.</span>
          {fe.message('outputRoot')}
        </div>
      </div>
      <ErrorCallout message={submitError} />
      <div className="form-actions">
        <button type="button" className="btn secondary" onClick={() => setOpen(false)} disabled={submitting}>Close</button>
        <button type="submit" className="btn" disabled={submitting}>{submitting ? 'Starting…' : 'Start the run'}</button>
      </div>
    </form>
  );
}
