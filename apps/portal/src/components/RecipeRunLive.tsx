'use client';

import { DataTable, fmtDate, fmtDuration, fmtInt, LineChart, ProgressBar, StatusBadge } from '@ctxlab/ui';
import Link from 'next/link';
import { useCallback, useId, useRef, useState } from 'react';
import { browserApi, errorMessage } from '../lib/client';
import { usePoll } from '../lib/hooks';
import { useAction } from './FormErrors';
import { PageHead } from './EntityList';
import { Panel } from './Panel';
import { fmtGpuHours, fmtLoss, GateList, stageProgress, type RecipeRun, type RecipeRunEvent, type RecipeRunStage } from './RecipeRunBits';

/** Statuses in which a worker moves the run along: the page polls while the run is in one. */
const LIVE = ['queued', 'running'];
const CANCELLABLE = ['queued', 'running', 'stopped'];
const POLL_MS = 1500;

/** The current stage of a stopped run can be continued past only with a model and a gate that failed (the API's own rule). */
const canContinue = (s: RecipeRunStage | undefined) => Boolean(s && s.status === 'failed' && s.model && s.gates.some((g) => g.passed === false));

/**
 * A recipe run as it happens: the run and its new events polled every 1.5 s while it is queued or
 * running (and again after Cancel, Retry, Continue or Resume), its stages with their training
 * progress, models, gates and loss curves, and its status history.
 */
export function RecipeRunLive({ initial, initialEvents, versions }: { initial: RecipeRun; initialEvents: RecipeRunEvent[]; versions: readonly { id: string; version: number }[] }) {
  const [run, setRun] = useState(initial);
  const [events, setEvents] = useState(initialEvents);
  const lastEvent = useRef(initialEvents.length ? initialEvents[initialEvents.length - 1]!.id : 0);
  const addEvents = useCallback((fresh: RecipeRunEvent[]) => {
    if (!fresh.length) return;
    lastEvent.current = Math.max(lastEvent.current, fresh[fresh.length - 1]!.id);
    setEvents((prev) => {
      const seen = prev.length ? prev[prev.length - 1]!.id : 0;
      const add = fresh.filter((e) => e.id > seen);
      return add.length ? [...prev, ...add] : prev;
    });
  }, []);
  const live = LIVE.includes(run.status);
  const { error: pollError } = usePoll(
    async () => {
      const api = browserApi();
      const [r, fresh] = await Promise.all([api.recipes.runGet.query({ id: initial.id }), api.recipes.runEvents.query({ id: initial.id, afterId: lastEvent.current })]);
      setRun(r);
      addEvents(fresh);
      return r;
    },
    POLL_MS,
    live,
  );
  const changed = useCallback(
    async (r: RecipeRun) => {
      setRun(r);
      // A stopped or cancelled run is not polled: fetch the events its move wrote now.
      addEvents(await browserApi().recipes.runEvents.query({ id: r.id, afterId: lastEvent.current }).catch(() => []));
    },
    [addEvents],
  );

  const current = run.stages[run.stageIndex];
  const passed = run.stages.filter((s) => s.status === 'passed').length;
  return (
    <>
      <PageHead
        crumbs={[['/recipes', 'Recipes'], [`/recipes/${run.recipe.id}`, `${run.recipe.name} v${run.recipe.version}`]]}
        title={run.name}
        sub={
          <>
            <StatusBadge status={run.status} /> · recipe <Link href={`/recipes/${run.recipe.id}`}>{run.recipe.name} v{run.recipe.version}</Link> · from{' '}
            <Link href={`/models/${run.baseModel.id}`}>{run.baseModel.name}</Link> · {run.executor} executor{run.device === 'cuda' ? ' · CUDA' : ''} · requested by {run.requestedBy}
          </>
        }
        actions={<Link className="btn secondary" href={`/jobs/${run.job.id}`}>Orchestrating job</Link>}
      />
      <section className="panel live" aria-labelledby="run-status-h" data-testid="recipe-run-live">
        <div className="panel-head">
          <h2 id="run-status-h">Status</h2>
          <div className="page-actions">
            <StatusBadge status={run.status} />
            <RunActions run={run} versions={versions} onChanged={changed} />
          </div>
        </div>
        <ProgressBar done={passed} total={run.stages.length} label="stages passed" />
        <div className="live-numbers" aria-live="polite">
          <div><span className="v" data-testid="run-stages">{stageProgress(run)}</span><span className="k">stages passed</span></div>
          <div><span className="v">{current ? `${current.index + 1}. ${current.name}` : run.status === 'succeeded' ? 'done' : '—'}</span><span className="k">current stage</span></div>
          <div><span className="v" data-testid="run-gpu-hours">{fmtGpuHours(run.gpuHours)}</span><span className="k">GPU-hours used</span></div>
          <div><span className="v" data-testid="run-eta">{fmtDuration(run.etaSeconds)}</span><span className="k">ETA</span></div>
          <div><span className="v">{run.job.worker ?? '—'}</span><span className="k">worker</span></div>
          <div><span className="v">{fmtDate(run.startedAt)}</span><span className="k">started (UTC)</span></div>
          <div><span className="v">{run.finishedAt ? fmtDate(run.finishedAt) : '—'}</span><span className="k">finished (UTC)</span></div>
        </div>
        {run.reason && (
          <div className={`callout ${run.status === 'stopped' ? 'warn' : run.status === 'cancelled' ? 'info' : 'error'}`} data-testid="run-reason">
            <p><strong>{run.status === 'stopped' ? 'Stopped' : run.status === 'cancelled' ? 'Cancelled' : 'Reason'}:</strong> {run.reason}</p>
          </div>
        )}
        {run.status === 'queued' && <p className="panel-note">Queued: waiting for a worker to pick it up.</p>}
        {run.etaSeconds === null && live && <p className="panel-note">The ETA appears once the running stage reports its steps, and counts the later stages once one stage has finished.</p>}
        {pollError ? <p className="panel-note status-bad">Live updates paused: {errorMessage(pollError)} (retrying)</p> : null}
      </section>
      <Panel id="run-stages-h" title="Stages" testId="recipe-run-stages">
        <div className="run-stages">
          <StageTable run={run} />
        </div>
      </Panel>
      <Panel id="run-curves-h" title="Training loss" testId="recipe-run-curves">
        <div className="curve-grid">
          {run.stages.map((s) => (
            <figure key={s.index} className="curve-fig" data-stage={s.index}>
              <figcaption>
                <strong>{s.index + 1}. {s.name}</strong>{s.attempt > 1 ? ` · attempt ${s.attempt}` : ''} · {s.train?.loss === null || s.train?.loss === undefined ? 'no loss yet' : `loss ${fmtLoss(s.train.loss)}`}
              </figcaption>
              {s.train && s.train.curve.length >= 2 ? (
                <LineChart
                  title={`Training loss of stage ${s.index + 1} (${s.name})`}
                  xLabel="step"
                  yLabel="loss"
                  xUnit="steps"
                  width={360}
                  height={200}
                  yMax={Math.max(...s.train.curve.map(([, l]) => l)) * 1.05}
                  series={[{ name: 'loss', color: '#2563eb', points: s.train.curve.map(([x, y]) => ({ x, y })) }]}
                />
              ) : (
                <p className="loss-curve-empty">{s.train ? 'fewer than two losses recorded yet' : 'not trained yet'}</p>
              )}
            </figure>
          ))}
        </div>
      </Panel>
      <Panel id="run-events-h" title="Status history" testId="recipe-run-events">
        <div className="events">
          <DataTable
            caption={`Status history of recipe run ${run.name}`}
            dense
            rows={[...events].reverse()}
            rowKey={(e) => String(e.id)}
            rowClass={() => 'event-row'}
            empty="No events recorded."
            columns={[
              { header: 'Time (UTC)', cell: (e) => fmtDate(e.createdAt) + new Date(e.createdAt).toISOString().slice(16, 19) },
              { header: 'Stage', cell: (e) => (e.stageIndex === null ? '' : `${e.stageIndex + 1}. ${run.stages[e.stageIndex]?.name ?? ''}`) },
              { header: 'Type', cell: (e) => e.type },
              { header: 'Transition', cell: (e) => (e.toStatus ? `${e.fromStatus ?? '·'} → ${e.toStatus}` : '') },
              { header: 'Message', cell: (e) => e.message },
            ]}
          />
        </div>
      </Panel>
    </>
  );
}

/** Each stage: its settings, status and attempt, its training job's progress, the model it registered, its time and GPU-hours, and its gates. */
function StageTable({ run }: { run: RecipeRun }) {
  const settled = run.status === 'succeeded';
  return (
    <DataTable
      caption={`Stages of recipe run ${run.name}`}
      rows={run.stages}
      rowKey={(s) => String(s.index)}
      rowClass={(s) => (!settled && s.index === run.stageIndex ? 'is-selected' : undefined)}
      columns={[
        { header: '#', numeric: true, cell: (s) => s.index + 1 },
        { header: 'Stage', rowHeader: true, cell: (s) => s.name },
        { header: 'Length', numeric: true, cell: (s) => fmtInt(s.seqLength) },
        { header: 'θ', numeric: true, cell: (s) => fmtInt(s.ropeTheta) },
        {
          header: 'Status',
          cell: (s) => (
            <span className="stage-status">
              <StatusBadge status={s.status} />
              {s.attempt > 1 && <span className="muted"> attempt {s.attempt}</span>}
              {s.overridden && <> <span className="badge badge-warn" title="A person continued past this stage's failed gate on purpose">overridden</span></>}
            </span>
          ),
        },
        { header: 'Training', cell: (s) => <StageTraining stage={s} /> },
        { header: 'Model', cell: (s) => (s.model ? <Link href={`/models/${s.model.id}`}>{s.model.name}</Link> : '—') },
        { header: 'Wall time', numeric: true, cell: (s) => fmtDuration(s.seconds) },
        { header: 'GPU-hours', numeric: true, cell: (s) => fmtGpuHours(s.gpuHours) },
        { header: 'Gates', cell: (s) => <GateList gates={s.gates} /> },
      ]}
    />
  );
}

function StageTraining({ stage }: { stage: RecipeRunStage }) {
  const t = stage.train;
  if (!t) return <span className="muted">{stage.status === 'pending' ? 'not started' : '—'}</span>;
  const hasSteps = t.done !== null && t.total !== null && t.total > 0;
  return (
    <div className="stage-train">
      {hasSteps && <ProgressBar done={t.done!} total={t.total!} failed={t.status === 'failed' ? t.total! - t.done! : 0} label={`training steps of stage ${stage.index + 1}`} />}
      <span className="progress-line">
        {hasSteps ? <><strong>{fmtInt(t.done)}</strong> / {fmtInt(t.total)} {t.unit ?? 'steps'}</> : t.status}
        {t.loss !== null ? <> · loss <strong>{fmtLoss(t.loss)}</strong></> : null}
        {t.status === 'running' && t.etaSeconds !== null ? <> · ETA {fmtDuration(t.etaSeconds)}</> : null}
        {t.gpus ? <> · {t.gpus} GPU{t.gpus > 1 ? 's' : ''}</> : null}
        {stage.trainJobId ? <> · <Link href={`/jobs/${stage.trainJobId}`}>job</Link></> : null}
      </span>
      {t.error && <div className="field-error">{t.error}</div>}
    </div>
  );
}

/**
 * Cancel (queued, running or stopped); Retry the current stage or Continue past its failed gate
 * (stopped); Resume (cancelled: the current stage again). A retry may move the run to a newer
 * version of its recipe whose finished stages are unchanged (the API checks).
 */
function RunActions({ run, versions, onChanged }: { run: RecipeRun; versions: readonly { id: string; version: number }[]; onChanged: (r: RecipeRun) => Promise<void> }) {
  const uid = useId();
  const { error, busy, run: act } = useAction();
  const [doing, setDoing] = useState<string | null>(null);
  const [recipeId, setRecipeId] = useState('');
  const newer = versions.filter((v) => v.version > run.recipe.version).sort((a, b) => b.version - a.version);
  const stage = run.stages[run.stageIndex];
  const label = stage ? `stage ${stage.index + 1} (${stage.name})` : 'the run';
  const resumable = (run.status === 'stopped' || run.status === 'cancelled') && Boolean(stage);
  const go = (what: string, call: () => Promise<RecipeRun>) =>
    act(async () => {
      setDoing(what);
      try {
        await onChanged(await call());
        setRecipeId('');
      } finally {
        setDoing(null);
      }
    });
  const api = () => browserApi().recipes;
  const cancel = () => {
    if (!window.confirm(`Cancel ${run.name}? What its current stage has running stops; you can resume the run later.`)) return;
    void go('cancel', () => api().runCancel.mutate({ id: run.id }));
  };
  const retry = () => void go('retry', () => api().runResume.mutate({ id: run.id, action: 'retry', ...(recipeId ? { recipeId } : {}) }));
  const cont = () => {
    const failed = stage?.gates.filter((g) => g.passed === false).map((g) => g.label).join(', ');
    if (!window.confirm(`Continue past ${label}'s failed gate(s) on purpose (${failed})? Its model is taken as it is and the next stage trains from it; the event log records who did.`)) return;
    void go('continue', () => api().runResume.mutate({ id: run.id, action: 'continue' }));
  };
  return (
    <span className="btn-group run-actions">
      {resumable && newer.length > 0 && (
        <span className="run-version">
          <label htmlFor={`${uid}-version`} className="progress-line">{run.status === 'cancelled' ? 'Resume under' : 'Retry under'}</label>{' '}
          <select id={`${uid}-version`} value={recipeId} onChange={(e) => setRecipeId(e.target.value)} disabled={busy}>
            <option value="">v{run.recipe.version} (this version)</option>
            {newer.map((v) => <option key={v.id} value={v.id}>v{v.version} (newer)</option>)}
          </select>
        </span>
      )}
      {run.status === 'stopped' && stage && (
        <button type="button" className="btn secondary" onClick={retry} disabled={busy} aria-label={`Retry ${label}`}>
          {doing === 'retry' ? 'Retrying…' : `Retry stage ${stage.index + 1}`}
        </button>
      )}
      {run.status === 'stopped' && canContinue(stage) && (
        <button type="button" className="btn secondary" onClick={cont} disabled={busy || recipeId !== ''} title={recipeId ? 'Continue keeps the recipe version; a newer version applies to a retry' : undefined}>
          {doing === 'continue' ? 'Continuing…' : 'Continue past gate'}
        </button>
      )}
      {run.status === 'cancelled' && stage && (
        <button type="button" className="btn secondary" onClick={retry} disabled={busy} aria-label={`Resume ${run.name} from ${label}`}>
          {doing === 'retry' ? 'Resuming…' : 'Resume'}
        </button>
      )}
      {CANCELLABLE.includes(run.status) && (
        <button type="button" className="btn danger" onClick={cancel} disabled={busy}>
          {doing === 'cancel' ? 'Cancelling…' : 'Cancel'}
        </button>
      )}
      {error && <span className="field-error" role="alert">{error}</span>}
    </span>
  );
}
