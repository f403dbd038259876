'use client';

import { RULER_TASK_IDS, type RulerTask } from '@ctxlab/contracts';
import { fmtDuration, fmtInt } from '@ctxlab/ui';
import { useRouter } from 'next/navigation';
import { useCallback, useId, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { browserApi } from '../lib/client';
import type { In, Out } from '../lib/types';
import type { TokenizerChoice } from '../lib/tokenizers';
import { ErrorCallout, fieldErrorUi, useSubmit } from './FormErrors';
import { ConcurrencyField, CorpusField, EstimatePanel, InputField, parseLengths, type RequestMode, RequestModeField, StartActions, TokenizerField, useLiveEstimate, useRunTarget, WhatToEvaluate } from './StartEvalForm';

type Spec = In['evals']['startSuite']['spec'];
// The form starts RULER and topic-retrieval runs; the capability suites start from the CLI and the API.
type Suite = 'ruler' | 'topic-retrieval';

/** RULER's retrieval family: the eight needle tasks (no tracing, aggregation or QA). */
const RETRIEVAL = RULER_TASK_IDS.filter((t) => t.startsWith('niah_'));
const QA_TASKS: readonly RulerTask[] = ['qa_1', 'qa_2'];

interface Props {
  suite: Suite;
  endpoints: { id: string; name: string; url: string }[];
  /** Imported haystack datasets: essay corpora, or a QA import (`ctxlab datasets import-qa`). */
  datasets: { name: string; language: string }[];
  /** Built-in tokenizers and those imported with models. */
  tokenizers?: readonly TokenizerChoice[];
  initialEndpointId?: string | undefined;
}

/** Whole numbers in a range, or the reason not. */
export function wholeNumber(s: string, min: number, max: number): number | null {
  const n = Number(s);
  return s.trim() !== '' && Number.isInteger(n) && n >= min && n <= max ? n : null;
}

export function StartSuiteForm({ suite, endpoints, datasets, tokenizers, initialEndpointId }: Props) {
  const uid = useId();
  const { endpointId, setEndpointId, name, setName } = useRunTarget(suite, endpoints, initialEndpointId);
  const [tasks, setTasks] = useState<readonly RulerTask[]>(['niah_single_1']);
  const [lengths, setLengths] = useState('4096, 8192');
  const [topics, setTopics] = useState('5, 10, 20');
  const [topicLength, setTopicLength] = useState('4096');
  const [question, setQuestion] = useState<'first' | 'kth'>('first');
  const [samples, setSamples] = useState('10');
  const [tokenizer, setTokenizer] = useState('llama3');
  const [chatTemplate, setChatTemplate] = useState(true);
  const [mode, setMode] = useState<RequestMode>('chat');
  const [threshold, setThreshold] = useState('85.6');
  const [corpus, setCorpus] = useState('');
  const [qaDataset, setQaDataset] = useState('');
  const [concurrency, setConcurrency] = useState('4');
  const wantsQa = tasks.some((t) => QA_TASKS.includes(t));

  // The spec as the API takes it, or the field that keeps it from being built yet.
  const spec = useMemo((): { value: Spec } | { problem: string; field: string } => {
    const s = wholeNumber(samples, 1, 1000);
    if (s === null) return { problem: 'samples must be a whole number from 1 to 1000', field: 'spec.samples' };
    const common = { samples: s, tokenizer, chatTemplate };
    if (suite === 'topic-retrieval') {
      const ns = parseLengths(topics);
      if (!ns) return { problem: 'topics: write positive whole numbers separated by commas', field: 'spec.topics' };
      const len = parseLengths(topicLength);
      if (len?.length !== 1) return { problem: 'length: one positive whole number of tokens', field: 'spec.length' };
      return { value: { suite, topics: ns, length: len[0]!, question, ...common, ...(corpus ? { corpus } : {}) } };
    }
    if (!tasks.length) return { problem: 'tasks: tick at least one task', field: 'spec.tasks' };
    const ls = parseLengths(lengths);
    if (!ls) return { problem: 'lengths: write positive whole numbers separated by commas (4K = 4000)', field: 'spec.lengths' };
    const th = Number(threshold);
    if (threshold.trim() === '' || !(th >= 0 && th <= 100)) return { problem: 'threshold: a score from 0 to 100', field: 'spec.threshold' };
    // RULER's order, whatever order the boxes were ticked in.
    const ordered = RULER_TASK_IDS.filter((t) => tasks.includes(t));
    return { value: { suite, tasks: ordered, lengths: ls, threshold: th, ...common, ...(corpus ? { corpus } : {}), ...(wantsQa && qaDataset ? { qaDataset } : {}) } };
  }, [suite, samples, tokenizer, chatTemplate, topics, topicLength, question, corpus, tasks, lengths, threshold, wantsQa, qaDataset]);

  const run = useSuiteRun(spec, { name, endpointId, concurrency, mode });

  const fe = fieldErrorUi(uid, run.fieldErrors, true);
  const toggle = (t: RulerTask) => setTasks((xs) => (xs.includes(t) ? xs.filter((x) => x !== t) : [...xs, t]));

  return (
    <SuiteRunForm
      uid={uid}
      fe={fe}
      run={run}
      label={suite === 'ruler' ? 'Start a RULER run' : 'Start a topic-retrieval run'}
      target={{ name, setName, endpointId, setEndpointId, endpoints }}
      tokenizer={tokenizer}
      setTokenizer={setTokenizer}
      tokenizers={tokenizers}
      mode={mode}
      setMode={setMode}
      fields={
        <>
          <InputField uid={uid} fe={fe} name="samples" label="Samples per cell" field="spec.samples" type="number" min={1} max={1000} value={samples} onChange={setSamples} />
          <ConcurrencyField uid={uid} fe={fe} value={concurrency} onChange={setConcurrency} />
          <CorpusField uid={uid} fe={fe} label={suite === 'ruler' ? 'Essay haystack' : 'Titled documents'} value={corpus} onChange={setCorpus} corpora={datasets} />
        </>
      }
      options={
        <label className="check-row">
          <input type="checkbox" checked={chatTemplate} onChange={(e) => setChatTemplate(e.target.checked)} /> Chat template (off: RULER&apos;s base template)
        </label>
      }
    >
      {suite === 'ruler' ? (
        <section className="panel" aria-labelledby={`${uid}-grid`}>
          <h2 id={`${uid}-grid`}>Tasks and lengths</h2>
          <fieldset {...fe.input('spec.tasks')}>
            <legend>Tasks</legend>
            <div className="radio-row">
              <button type="button" className="btn secondary small" onClick={() => setTasks(RULER_TASK_IDS)}>all</button>
              <button type="button" className="btn secondary small" onClick={() => setTasks(RETRIEVAL)}>retrieval only</button>
            </div>
            <div className="suite-tasks">
              {RULER_TASK_IDS.map((t) => (
                <label key={t}><input type="checkbox" checked={tasks.includes(t)} onChange={() => toggle(t)} /> {t}</label>
              ))}
            </div>
            {fe.message('spec.tasks')}
          </fieldset>
          {wantsQa && (
            <div className="field">
              <label htmlFor={`${uid}-qa`}>QA dataset</label>
              <select id={`${uid}-qa`} value={qaDataset} onChange={(e) => setQaDataset(e.target.value)} {...fe.input('spec.qaDataset')}>
                <option value="">choose an imported SQuAD / HotpotQA dataset</option>
                {datasets.map((d) => <option key={d.name} value={d.name}>{d.name}</option>)}
              </select>
              {fe.text('spec.qaDataset') ? fe.message('spec.qaDataset') : <span className="hint">qa_1 reads SQuAD, qa_2 HotpotQA (ctxlab datasets import-qa)</span>}
            </div>
          )}
          <InputField uid={uid} fe={fe} name="lengths" label="Lengths (tokens)" field="spec.lengths" hint="comma-separated; each is prompt plus answer, 4K = 4,000" type="text" value={lengths} onChange={setLengths} />
          <InputField uid={uid} fe={fe} name="threshold" label="Threshold (effective length)" field="spec.threshold" fieldStyle={{ maxWidth: 200 }} type="number" min={0} max={100} step={0.1} value={threshold} onChange={setThreshold} />
        </section>
      ) : (
        <section className="panel" aria-labelledby={`${uid}-grid`}>
          <h2 id={`${uid}-grid`}>Conversations</h2>
          <InputField uid={uid} fe={fe} name="topics" label="Topic counts" field="spec.topics" hint="comma-separated; one cell per count" type="text" value={topics} onChange={setTopics} />
          <InputField uid={uid} fe={fe} name="length" label="Prompt length (tokens)" field="spec.length" type="text" value={topicLength} onChange={setTopicLength} />
          <div className="field">
            <label htmlFor={`${uid}-question`}>Question</label>
            <select id={`${uid}-question`} value={question} onChange={(e) => setQuestion(e.target.value as 'first' | 'kth')}>
              <option value="first">the first topic (LongChat)</option>
              <option value="kth">a seeded k-th topic per sample</option>
            </select>
          </div>
        </section>
      )}
    </SuiteRunForm>
  );
}

type Estimate = Out['evals']['suiteEstimate'];

/**
 * What every suite form shares once its spec is built: the live estimate from the API, and the
 * start — keyed by the spec (a double submit, or the same spec later, returns the run already made;
 * `rerun` asks for a fresh one) — then the run's page.
 */
export function useSuiteRun(spec: { value: Spec } | { problem: string; field: string }, opts: { name: string; endpointId: string; concurrency: string; mode: RequestMode }) {
  const router = useRouter();
  const { submitting, setSubmitting, submitError, errors, setErrors, reset, send } = useSubmit();
  const [existing, setExisting] = useState<{ id: string; name: string } | null>(null);
  const { endpointId } = opts;
  const conc = wholeNumber(opts.concurrency, 1, 256);
  const { estimate, estimateError, estimateFields } = useLiveEstimate<Spec, Estimate>(
    spec,
    useCallback((s: Spec) => browserApi().evals.suiteEstimate.query({ spec: s, ...(endpointId ? { endpointId } : {}), ...(conc ? { concurrency: conc } : {}) }), [endpointId, conc]),
  );
  const start = async (rerun: boolean) => {
    reset();
    if (!('value' in spec)) return setErrors({ [spec.field]: spec.problem });
    if (conc === null) return setErrors({ concurrency: 'a whole number from 1 to 256' });
    await send(async () => {
      const r = await browserApi().evals.startSuite.mutate({ name: opts.name.trim(), endpointId, spec: spec.value, concurrency: conc, mode: opts.mode, ...(rerun ? { rerun } : {}) });
      if (r.existing && !rerun) {
        // The same spec already ran (or is running): say so instead of silently opening it.
        setExisting({ id: r.evalRun.id, name: r.evalRun.name });
        setSubmitting(false);
        return;
      }
      router.push(`/evals/${r.evalRun.id}`);
    });
  };
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    void start(false);
  };
  // What the API said about the spec last priced, under the same fields as a refused submit.
  const fieldErrors = { ...estimateFields, ...('problem' in spec ? { [spec.field]: spec.problem } : {}), ...errors };
  const problem = 'problem' in spec ? spec.problem : estimateError;
  return { estimate, problem, fieldErrors, start, submit, existing, submitting, submitError };
}

type SuiteRun = ReturnType<typeof useSuiteRun>;

/**
 * The layout of a suite form: what to evaluate — the run's name and endpoint (`target`), the
 * tokenizer, the request mode, then the suite's `fields`, then its `options` — beside the suite's
 * own panel (`children`) and the live estimate; under them, the start.
 */
export function SuiteRunForm(p: {
  uid: string;
  fe: ReturnType<typeof fieldErrorUi>;
  run: SuiteRun;
  label: string;
  target: { name: string; setName: (v: string) => void; endpointId: string; setEndpointId: (v: string) => void; endpoints: readonly { id: string; name: string; url: string }[] };
  tokenizer: string;
  setTokenizer: (v: string) => void;
  tokenizers?: readonly TokenizerChoice[] | undefined;
  mode: RequestMode;
  setMode: (v: RequestMode) => void;
  fields: ReactNode;
  options?: ReactNode;
  children: ReactNode;
}) {
  return (
    <form onSubmit={p.run.submit} noValidate aria-label={p.label}>
      <div className="cols">
        <div>
          <WhatToEvaluate uid={p.uid} fe={p.fe} {...p.target}>
            <div className="form-grid">
              <TokenizerField uid={p.uid} value={p.tokenizer} onChange={p.setTokenizer} choices={p.tokenizers} />
              <RequestModeField uid={p.uid} value={p.mode} onChange={p.setMode} />
              {p.fields}
            </div>
            {p.options}
          </WhatToEvaluate>
        </div>
        <div>
          {p.children}
          <SuiteEstimate uid={p.uid} run={p.run} />
        </div>
      </div>
      <SuiteStart run={p.run} />
    </form>
  );
}

/** A suite form's live estimate: the spec's problem, or the API's numbers and warnings. */
export function SuiteEstimate({ uid, run }: { uid: string; run: SuiteRun }) {
  return (
    <EstimatePanel uid={uid} testId="suite-estimate" problem={run.problem} warnings={run.estimate?.warnings}>
      {run.estimate && <SuiteEstimateNumbers estimate={run.estimate} />}
    </EstimatePanel>
  );
}

/** Under a suite form: why a start was refused, the run a start returned instead of a new one, and the start button. */
export function SuiteStart({ run }: { run: SuiteRun }) {
  return (
    <>
      <ErrorCallout message={run.submitError} />
      <ExistingRun existing={run.existing} submitting={run.submitting} again={() => void run.start(true)} />
      <StartActions submitting={run.submitting} cells={run.estimate?.cells} testId="start-suite" />
    </>
  );
}

/** The estimate's numbers: cells, prompt tokens, requests and the ETA when the endpoint has been timed. */
function SuiteEstimateNumbers({ estimate }: { estimate: Estimate }) {
  return (
    <>
      <div className="live-numbers">
        <div><span className="v" data-testid="estimate-cells">{fmtInt(estimate.cells)}</span><span className="k">cells</span></div>
        <div><span className="v" data-testid="estimate-tokens">{fmtInt(estimate.promptTokens)}</span><span className="k">prompt tokens</span></div>
        <div><span className="v" data-testid="estimate-requests">{fmtInt(estimate.requests)}</span><span className="k">requests</span></div>
        <div><span className="v" data-testid="estimate-eta">{estimate.etaSeconds === null ? '—' : fmtDuration(estimate.etaSeconds)}</span><span className="k">ETA</span></div>
      </div>
      {estimate.etaSeconds === null && <p className="panel-note">No ETA yet: the endpoint has no recent requests to time.</p>}
    </>
  );
}

/** The run a start returned instead of a new one, and the button for a fresh one. */
function ExistingRun({ existing, submitting, again }: { existing: { id: string; name: string } | null; submitting: boolean; again: () => void }) {
  if (!existing) return null;
  return (
    <div className="callout warn" role="status" data-testid="suite-existing">
      <p>
        An existing run was returned: <a href={`/evals/${existing.id}`}>{existing.name}</a> has the same spec.
      </p>
      <button type="button" className="btn secondary small" disabled={submitting} onClick={again}>Start a fresh run</button>
    </div>
  );
}
