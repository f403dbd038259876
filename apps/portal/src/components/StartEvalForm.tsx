'use client';

import { contextLabel, fmtInt } from '@ctxlab/ui';
import { useRouter } from 'next/navigation';
import { useCallback, useEffect, useId, useMemo, useRef, useState, type CSSProperties, type FormEvent, type InputHTMLAttributes, type ReactNode } from 'react';
import { BUILTIN_TOKENIZERS, type TokenizerChoice } from '../lib/tokenizers';
import { browserApi, errorMessage, fieldErrors } from '../lib/client';
import { useDebounced } from '../lib/hooks';
import type { In } from '../lib/types';
import { ErrorCallout, fieldErrorUi, useSubmit } from './FormErrors';

type Grid = In['portal']['evalEstimate']['grid'];
type Spec = In['evals']['start']['spec'];

const VARIANTS = [
  ['value', 'value retrieval — “The special magic {city} number is: {n}”'],
  ['original', 'original — the San Francisco sandwich needle'],
  ['multi-needle', 'multi-needle (several facts, one question)'],
  ['multi-key', 'RULER multi-key'],
  ['multi-value', 'RULER multi-value'],
  ['multi-query', 'RULER multi-query'],
  ['negative', 'negative control (no needle)'],
  ['zh-story', 'Chinese story (王莽 / 刘秀)'],
] as const;

const PRESETS = {
  gradient: "Gradient's 1048K grid: 100 … 1,126,875 tokens (14 lengths) × depth 0–100% step 20%, 8-digit numbers",
  '360zhinao': "360Zhinao's 360K grid: 1,024 … 360,000 (10 lengths) × 21 depths (0, 5, … 100%), 7-digit numbers",
} as const;

/** "1000, 2K, 4k 8192" → [1000, 2000, 4000, 8192]; null when something is not a positive whole number. */
export function parseLengths(s: string): number[] | null {
  const parts = s.split(/[\s,;]+/).filter(Boolean);
  if (!parts.length) return null;
  const out: number[] = [];
  for (const p of parts) {
    const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(p);
    if (!m) return null;
    const n = Number(m[1]) * (m[2]?.toLowerCase() === 'k' ? 1000 : m[2]?.toLowerCase() === 'm' ? 1_000_000 : 1);
    if (!Number.isInteger(n) || n <= 0) return null;
    out.push(n);
  }
  return out;
}

/** "0, 25, 50 100" (percent) → fractions; null when a value is outside 0–100. */
export function parseDepthPercents(s: string): number[] | null {
  const parts = s.split(/[\s,;%]+/).filter(Boolean);
  if (!parts.length) return null;
  const out = parts.map(Number);
  return out.every((n) => Number.isFinite(n) && n >= 0 && n <= 100) ? out.map((n) => n / 100) : null;
}

/**
 * The cost of what the form says, asked for once the inputs settle (250 ms) and dropped when they
 * change again before it arrives; `input` carries either the value to price or why there is none.
 */
export function useLiveEstimate<T, R>(input: { value: T } | { problem: string }, query: (v: T) => Promise<R>) {
  const [estimate, setEstimate] = useState<R | null>(null);
  const [estimateError, setEstimateError] = useState<string | null>(null);
  const [estimateFields, setEstimateFields] = useState<Record<string, string>>({});
  const settled = useDebounced(input, 250);
  useEffect(() => {
    if (!('value' in settled)) {
      setEstimate(null);
      setEstimateError(settled.problem);
      setEstimateFields({});
      return;
    }
    let stale = false;
    query(settled.value)
      .then((e) => !stale && (setEstimate(e), setEstimateError(null), setEstimateFields({})))
      .catch((e: unknown) => !stale && (setEstimate(null), setEstimateError(errorMessage(e)), setEstimateFields(fieldErrors(e))));
    return () => {
      stale = true;
    };
  }, [settled, query]);
  /** estimateFields: the API's per-field errors for what was priced ("spec.lengths" → why). */
  return { estimate, estimateError, estimateFields };
}

type FieldErrorUi = ReturnType<typeof fieldErrorUi>;

/**
 * The endpoint a start form runs against and the run's name, which follows the endpoint
 * ("ruler lab-stage2 2026-12-05 06:20") until someone types a name of their own.
 */
export function useRunTarget<E extends { id: string; name: string }>(kind: string, endpoints: readonly E[], initialEndpointId?: string) {
  const [endpointId, setEndpointId] = useState(endpoints.find((e) => e.id === initialEndpointId)?.id ?? endpoints[0]?.id ?? '');
  const [typed, setName] = useState<string | null>(null);
  const [stamp] = useState(() => new Date().toISOString().slice(0, 16).replace('T', ' '));
  const endpoint = endpoints.find((e) => e.id === endpointId);
  const name = typed ?? `${kind} ${endpoint?.name ?? ''} ${stamp}`.replace(/\s+/g, ' ').trim();
  return { endpointId, setEndpointId, endpoint, name, setName };
}

/** The "What to evaluate" panel of every start form: the run's name and its endpoint, then the form's own fields. */
export function WhatToEvaluate(p: { uid: string; fe: FieldErrorUi; name: string; setName: (v: string) => void; endpointId: string; setEndpointId: (v: string) => void; endpoints: readonly { id: string; name: string; url: string }[]; children: ReactNode }) {
  const { uid, fe } = p;
  return (
    <section className="panel" aria-labelledby={`${uid}-what`}>
      <h2 id={`${uid}-what`}>What to evaluate</h2>
      <div className="field">
        <label htmlFor={`${uid}-name`}>Run name</label>
        <input id={`${uid}-name`} type="text" value={p.name} onChange={(e) => p.setName(e.target.value)} required {...fe.input('name')} />
        {fe.message('name')}
      </div>
      <div className="field">
        <label htmlFor={`${uid}-endpoint`}>Endpoint</label>
        <select id={`${uid}-endpoint`} value={p.endpointId} onChange={(e) => p.setEndpointId(e.target.value)} {...fe.input('endpointId')}>
          {p.endpoints.map((e) => <option key={e.id} value={e.id}>{e.name} — {e.url}</option>)}
        </select>
        {fe.message('endpointId')}
      </div>
      {p.children}
    </section>
  );
}

/** A text to read from: the shipped sotu-en, or an imported corpus. */
export function CorpusField({ uid, fe, label, value, onChange, corpora }: { uid: string; fe: FieldErrorUi; label: string; value: string; onChange: (v: string) => void; corpora: readonly { name: string; language: string }[] }) {
  return (
    <div className="field">
      <label htmlFor={`${uid}-corpus`}>{label}</label>
      <select id={`${uid}-corpus`} value={value} onChange={(e) => onChange(e.target.value)} {...fe.input('spec.corpus')}>
        <option value="">sotu-en (default)</option>
        {corpora.map((d) => <option key={d.name} value={d.name}>{d.name} (imported, {d.language})</option>)}
      </select>
      {fe.message('spec.corpus')}
    </div>
  );
}

/** The tokenizer select; with `errors`, the field error at `errors.path` is shown under it. */
export function TokenizerField({ uid, value, onChange, choices = BUILTIN_TOKENIZERS, label = 'Tokenizer (counts lengths)', errors }: { uid: string; value: string; onChange: (v: string) => void; choices?: readonly TokenizerChoice[]; label?: string; errors?: { fe: FieldErrorUi; path: string } }) {
  return (
    <div className="field">
      <label htmlFor={`${uid}-tok`}>{label}</label>
      <select id={`${uid}-tok`} value={value} onChange={(e) => onChange(e.target.value)} {...errors?.fe.input(errors.path)}>
        {choices.map((c) => <option key={c.value} value={c.value}>{c.label}</option>)}
      </select>
      {errors?.fe.message(errors.path)}
    </div>
  );
}

export type RequestMode = 'chat' | 'completion-ids';

/** How prompts reach the endpoint: chat completions, or completions with the exact token ids. */
export function RequestModeField({ uid, value, onChange }: { uid: string; value: RequestMode; onChange: (v: RequestMode) => void }) {
  return (
    <div className="field">
      <label htmlFor={`${uid}-mode`}>Request mode</label>
      <select id={`${uid}-mode`} value={value} onChange={(e) => onChange(e.target.value as RequestMode)}>
        <option value="chat">chat completions</option>
        <option value="completion-ids">completions with token ids</option>
      </select>
    </div>
  );
}

/**
 * A labelled input of a start form (`name` makes its id), wired to the error of its spec field
 * (`field`, the error's path): the error under it, or else the `hint` when there is one.
 */
export function InputField({ uid, fe, name, label, field, hint, fieldStyle, value, onChange, ...input }: {
  uid: string;
  fe: FieldErrorUi;
  name: string;
  label: string;
  field: string;
  hint?: string;
  fieldStyle?: CSSProperties;
  value: string;
  onChange: (v: string) => void;
} & Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'name' | 'value' | 'onChange'>) {
  return (
    <div className="field" style={fieldStyle}>
      <label htmlFor={`${uid}-${name}`}>{label}</label>
      <input id={`${uid}-${name}`} {...input} value={value} onChange={(e) => onChange(e.target.value)} {...fe.input(field)} />
      {hint !== undefined && !fe.text(field) ? <span className="hint">{hint}</span> : fe.message(field)}
    </div>
  );
}

export function ConcurrencyField({ uid, fe, value, onChange }: { uid: string; fe: FieldErrorUi; value: string; onChange: (v: string) => void }) {
  return <InputField uid={uid} fe={fe} name="conc" label="Concurrency" field="concurrency" hint="requests in flight at once" type="number" min={1} max={256} value={value} onChange={onChange} />;
}

/**
 * The cost panel: why there is no estimate, a spinner while it is asked for, or the numbers
 * (children, rendered once there is an estimate) and the API's warnings.
 */
export function EstimatePanel({ uid, testId, problem, warnings, children }: { uid: string; testId: string; problem: string | null | undefined; warnings: readonly string[] | undefined; children: ReactNode }) {
  return (
    <section className="panel" aria-labelledby={`${uid}-cost`} aria-live="polite" data-testid={testId}>
      <h2 id={`${uid}-cost`}>Expected cost</h2>
      {problem ? (
        <ErrorCallout message={problem} />
      ) : !warnings ? (
        <p className="result-sub"><span className="spinner" aria-hidden="true" /> computing…</p>
      ) : (
        <>
          {children}
          {warnings.map((w) => <div key={w} className="callout warn" style={{ marginTop: 10 }}><p>{w}</p></div>)}
        </>
      )}
    </section>
  );
}

/** The submit button, offered once the estimate has priced a run with cells. */
export function StartActions({ submitting, cells, testId }: { submitting: boolean; cells: number | undefined; testId: string }) {
  return (
    <div className="form-actions">
      <button type="submit" className="btn" disabled={submitting || !cells} data-testid={testId}>
        {submitting ? <><span className="spinner" aria-hidden="true" /> starting…</> : cells !== undefined ? `Start ${fmtInt(cells)} cells` : 'Start'}
      </button>
      <span className="hint">The run is queued for a worker; you can watch it live and cancel it.</span>
    </div>
  );
}

interface Props {
  endpoints: { id: string; name: string; url: string; modelId: string | null; maxModelLen: number | null }[];
  models: { id: string; name: string }[];
  /** Built-in tokenizers and those imported with models. */
  tokenizers?: readonly TokenizerChoice[];
  corpora: { name: string; language: string }[];
  initialEndpointId?: string | undefined;
}

type Axis<T> = { axis: T | { kind: 'list'; values: number[] } } | { problem: string; field: string };

/**
 * One axis of a custom grid from its fields: in list mode the list as `parse` reads it, else the evenly
 * spaced axis `linspace` builds; a refusal (a message) is the problem to show on the axis's field.
 */
function gridAxis<const T>(field: 'lengths' | 'depths', mode: 'linspace' | 'list', parse: () => number[] | null, listProblem: string, linspace: () => T | string): Axis<T> {
  if (mode === 'list') {
    const values = parse();
    return values ? { axis: { kind: 'list', values } } : { problem: `${field}: ${listProblem}`, field };
  }
  const axis = linspace();
  return typeof axis === 'string' ? { problem: `${field}: ${axis}`, field } : { axis };
}

export function StartEvalForm({ endpoints, models, corpora, tokenizers, initialEndpointId }: Props) {
  const uid = useId();
  const router = useRouter();
  const { endpointId, setEndpointId, endpoint, name, setName } = useRunTarget('niah', endpoints, initialEndpointId);
  const [modelId, setModelId] = useState('');
  const [variant, setVariant] = useState<Spec['variant']>('value');
  const [tokenizer, setTokenizer] = useState('llama3');
  const [corpus, setCorpus] = useState('');
  const [gridMode, setGridMode] = useState<'custom' | 'gradient' | '360zhinao'>('custom');
  const [lengthMode, setLengthMode] = useState<'linspace' | 'list'>('linspace');
  const [lenMin, setLenMin] = useState('1000');
  const [lenMax, setLenMax] = useState('8000');
  const [lenCount, setLenCount] = useState('8');
  const [lenList, setLenList] = useState('1K, 2K, 4K, 8K');
  const [depthMode, setDepthMode] = useState<'linspace' | 'list'>('linspace');
  const [depthCount, setDepthCount] = useState('11');
  const [depthList, setDepthList] = useState('0, 25, 50, 75, 100');
  const [samples, setSamples] = useState('1');
  const [concurrency, setConcurrency] = useState('4');
  const { submitting, submitError, errors, setErrors, reset, send } = useSubmit();
  const requestKey = useRef<string>('');
  useEffect(() => {
    requestKey.current = typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : String(Math.random());
  }, []);

  // The grid as the API takes it, or the reason it cannot be built yet.
  const grid = useMemo((): { grid: Grid } | { problem: string; field: string } => {
    const s = Number(samples);
    if (!Number.isInteger(s) || s < 1 || s > 100) return { problem: 'samples must be a whole number from 1 to 100', field: 'samples' };
    if (gridMode !== 'custom') return { grid: { preset: gridMode, samples: s } };
    const lengths = gridAxis('lengths', lengthMode, () => parseLengths(lenList), 'write positive whole numbers separated by commas (2K = 2000)', () => {
      const [a, b, c] = [Number(lenMin), Number(lenMax), Number(lenCount)];
      if (![a, b, c].every((n) => Number.isInteger(n) && n > 0)) return 'min, max and count must be positive whole numbers';
      if (a > b) return 'min must not exceed max';
      return { kind: 'linspace', min: a, max: b, count: c };
    });
    if ('problem' in lengths) return lengths;
    const depths = gridAxis('depths', depthMode, () => parseDepthPercents(depthList), 'write percents from 0 to 100 separated by commas', () => {
      const c = Number(depthCount);
      if (!Number.isInteger(c) || c < 1 || c > 1000) return 'the count must be a whole number from 1 to 1000';
      return { kind: 'linspace', min: 0, max: 1, count: c, curve: 'linear' };
    });
    if ('problem' in depths) return depths;
    return { grid: { lengths: lengths.axis, depths: depths.axis, samples: s } };
  }, [samples, gridMode, lengthMode, lenList, lenMin, lenMax, lenCount, depthMode, depthCount, depthList]);

  const { estimate, estimateError } = useLiveEstimate(
    useMemo(() => ('grid' in grid ? { value: grid.grid } : grid), [grid]),
    useCallback((g: Grid) => browserApi().portal.evalEstimate.query({ grid: g, ...(endpointId ? { endpointId } : {}) }), [endpointId]),
  );

  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    reset();
    if (!('grid' in grid)) {
      setErrors({ [grid.field]: grid.problem });
      return;
    }
    const conc = Number(concurrency);
    if (!Number.isInteger(conc) || conc < 1 || conc > 256) {
      setErrors({ concurrency: 'a whole number from 1 to 256' });
      return;
    }
    await send(async () => {
      const spec: Spec = { variant, tokenizer, grid: grid.grid, ...(corpus ? { corpus } : {}) } as Spec;
      const r = await browserApi().evals.start.mutate({ name: name.trim(), endpointId, ...(modelId ? { modelId } : {}), spec, concurrency: conc, requestKey: requestKey.current });
      router.push(`/evals/${r.evalRun.id}`);
    });
  };

  const fe = fieldErrorUi(uid, errors, true);
  const gridProblem = 'problem' in grid ? grid : null;

  return (
    <form onSubmit={submit} noValidate aria-label="Start an eval">
      <div className="cols">
        <div>
          <WhatToEvaluate uid={uid} fe={fe} name={name} setName={setName} endpointId={endpointId} setEndpointId={setEndpointId} endpoints={endpoints}>
            <div className="field">
              <label htmlFor={`${uid}-model`}>Model (registry)</label>
              <select id={`${uid}-model`} value={modelId} onChange={(e) => setModelId(e.target.value)}>
                <option value="">{endpoint?.modelId ? `the endpoint's model (${models.find((m) => m.id === endpoint.modelId)?.name ?? endpoint.modelId})` : 'none recorded'}</option>
                {models.map((m) => <option key={m.id} value={m.id}>{m.name}</option>)}
              </select>
            </div>
            <div className="form-grid">
              <div className="field">
                <label htmlFor={`${uid}-variant`}>Needle variant</label>
                <select id={`${uid}-variant`} value={variant} onChange={(e) => setVariant(e.target.value as Spec['variant'])}>
                  {VARIANTS.map(([v, label]) => <option key={v} value={v}>{label}</option>)}
                </select>
              </div>
              <TokenizerField uid={uid} value={tokenizer} onChange={setTokenizer} choices={tokenizers} />
              <div className="field">
                <label htmlFor={`${uid}-corpus`}>Haystack</label>
                <select id={`${uid}-corpus`} value={corpus} onChange={(e) => setCorpus(e.target.value)} {...fe.input('spec.corpus')}>
                  <option value="">default for the language</option>
                  <option value="sotu-en">sotu-en (State of the Union, public domain)</option>
                  <option value="tang-zh">tang-zh (全唐詩, public domain)</option>
                  {corpora.map((c) => <option key={c.name} value={c.name}>{c.name} (imported, {c.language})</option>)}
                </select>
                {fe.message('spec.corpus')}
              </div>
              <ConcurrencyField uid={uid} fe={fe} value={concurrency} onChange={setConcurrency} />
            </div>
          </WhatToEvaluate>
        </div>
        <div>
          <section className="panel" aria-labelledby={`${uid}-grid`}>
            <h2 id={`${uid}-grid`}>Grid</h2>
            <fieldset>
              <legend>Preset</legend>
              <div className="radio-row">
                {(['custom', 'gradient', '360zhinao'] as const).map((g) => (
                  <label key={g}><input type="radio" name={`${uid}-preset`} checked={gridMode === g} onChange={() => setGridMode(g)} /> {g === 'custom' ? 'custom' : g === 'gradient' ? 'Gradient' : '360Zhinao'}</label>
                ))}
              </div>
              {gridMode !== 'custom' && <p className="hint" style={{ marginBottom: 12 }}>{PRESETS[gridMode]}</p>}
            </fieldset>
            {gridMode === 'custom' && (
              <>
                <fieldset>
                  <legend>Context lengths (tokens)</legend>
                  <div className="radio-row">
                    <label><input type="radio" name={`${uid}-lm`} checked={lengthMode === 'linspace'} onChange={() => setLengthMode('linspace')} /> evenly spaced</label>
                    <label><input type="radio" name={`${uid}-lm`} checked={lengthMode === 'list'} onChange={() => setLengthMode('list')} /> list</label>
                  </div>
                  {lengthMode === 'linspace' ? (
                    <div className="form-grid" style={{ gridTemplateColumns: 'repeat(3, 1fr)' }}>
                      <div className="field"><label htmlFor={`${uid}-lmin`}>min</label><input id={`${uid}-lmin`} type="number" min={1} value={lenMin} onChange={(e) => setLenMin(e.target.value)} {...fe.input('lengths')} /></div>
                      <div className="field"><label htmlFor={`${uid}-lmax`}>max</label><input id={`${uid}-lmax`} type="number" min={1} value={lenMax} onChange={(e) => setLenMax(e.target.value)} {...fe.input('lengths')} /></div>
                      <div className="field"><label htmlFor={`${uid}-lcount`}>count</label><input id={`${uid}-lcount`} type="number" min={1} max={1000} value={lenCount} onChange={(e) => setLenCount(e.target.value)} {...fe.input('lengths')} /></div>
                    </div>
                  ) : (
                    <div className="field">
                      <label htmlFor={`${uid}-llist`}>lengths</label>
                      <input id={`${uid}-llist`} type="text" value={lenList} onChange={(e) => setLenList(e.target.value)} {...fe.input('lengths')} />
                      <span className="hint">comma-separated; 2K = 2,000</span>
                    </div>
                  )}
                </fieldset>
                <fieldset>
                  <legend>Needle depths</legend>
                  <div className="radio-row">
                    <label><input type="radio" name={`${uid}-dm`} checked={depthMode === 'linspace'} onChange={() => setDepthMode('linspace')} /> evenly spaced 0–100%</label>
                    <label><input type="radio" name={`${uid}-dm`} checked={depthMode === 'list'} onChange={() => setDepthMode('list')} /> list of percents</label>
                  </div>
                  {depthMode === 'linspace' ? (
                    <div className="field"><label htmlFor={`${uid}-dcount`}>count</label><input id={`${uid}-dcount`} type="number" min={1} max={1000} value={depthCount} onChange={(e) => setDepthCount(e.target.value)} {...fe.input('depths')} /></div>
                  ) : (
                    <div className="field"><label htmlFor={`${uid}-dlist`}>depth percents</label><input id={`${uid}-dlist`} type="text" value={depthList} onChange={(e) => setDepthList(e.target.value)} {...fe.input('depths')} /></div>
                  )}
                </fieldset>
              </>
            )}
            <div className="field" style={{ maxWidth: 200 }}>
              <label htmlFor={`${uid}-samples`}>Samples per cell</label>
              <input id={`${uid}-samples`} type="number" min={1} max={100} value={samples} onChange={(e) => setSamples(e.target.value)} {...fe.input('samples')} />
            </div>
          </section>
          <EstimatePanel uid={uid} testId="eval-estimate" problem={gridProblem?.problem ?? estimateError} warnings={estimate?.warnings}>
            {estimate && (
              <>
                <div className="live-numbers">
                  <div><span className="v" data-testid="estimate-cells">{fmtInt(estimate.cells)}</span><span className="k">cells</span></div>
                  <div><span className="v" data-testid="estimate-tokens">{fmtInt(estimate.promptTokens)}</span><span className="k">prompt tokens</span></div>
                  <div><span className="v">{contextLabel(estimate.maxLength)}</span><span className="k">longest prompt</span></div>
                </div>
                <p className="panel-note">
                  {estimate.lengths.length} lengths ({estimate.lengths.slice(0, 6).map(contextLabel).join(', ')}{estimate.lengths.length > 6 ? ', …' : ''}) × {estimate.depths.length} depths × {estimate.samples} sample{estimate.samples > 1 ? 's' : ''}; prompt tokens ≈ sum of lengths × depths × samples.
                </p>
              </>
            )}
          </EstimatePanel>
        </div>
      </div>
      <ErrorCallout message={submitError} />
      <StartActions submitting={submitting} cells={estimate?.cells} testId="start-eval" />
    </form>
  );
}
