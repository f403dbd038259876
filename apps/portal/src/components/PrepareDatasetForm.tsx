'use client';

import { fmtInt, ProgressBar, StatusBadge } from '@ctxlab/ui';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { browserApi, errorMessage } from '../lib/client';
import { fmtShare, readPrepareResult } from '../lib/prepared';
import type { TokenizerChoice } from '../lib/tokenizers';
import type { In } from '../lib/types';
import { ErrorCallout, fieldErrorUi, useSubmit } from './FormErrors';
import { PrepareNumbers, useLiveJob } from './JobLive';
import { TokenizerField } from './StartEvalForm';

type Kind = 'text-folder' | 'jsonl' | 'chat-jsonl';
type Format = 'easycontext' | 'longllm-qlora';
type Data = NonNullable<In['datasets']['prepare']['data']>;

export interface SourceChoice {
  id: string;
  name: string;
  kind: string;
}

export interface StageChoice {
  name: string;
  seqLength: number;
  /** The stage's data recipe, in brief; null when it has none. */
  data: { sources: { dataset: string; ratio: number | null }[]; format: string; packing: string; maxTokens: number | null } | null;
}

export interface RecipeChoice {
  id: string;
  name: string;
  version: number;
  stages: StageChoice[];
}

interface SourceRow {
  key: number;
  dataset: string;
  kind: Kind | 'auto';
  ratio: string;
  keepShort: string;
  threshold: string;
}

/** How a source's files read; auto: an imported corpus as its documents, a URI ending .jsonl as JSON Lines of texts, any other as a folder of text files. */
const KINDS: [Kind | 'auto', string][] = [
  ['auto', 'auto'],
  ['text-folder', 'text files'],
  ['jsonl', 'JSONL texts'],
  ['chat-jsonl', 'JSONL chats'],
];

const FORMATS = [['easycontext', 'EasyContext (input_ids records)'], ['longllm-qlora', 'longllm_qlora (text JSONL)']] as const;
const PACKINGS = [['pack', 'pack: join documents, then cut'], ['chunk', 'chunk: cut each document alone']] as const;

/** A number field's value: undefined when empty, NaN when not a number. */
const numberOf = (v: string): number | undefined => (v.trim() === '' ? undefined : Number(v));

/**
 * The form's own checks, keyed by the paths the API names (`data.sources.1.ratio`), so its errors
 * and the API's land under the same fields. Returns the request, or the problems.
 */
function buildRequest(f: {
  name: string; mode: 'sources' | 'recipe'; recipe: RecipeChoice | undefined; stage: number; rows: SourceRow[]; seqLength: string; format: Format;
  packing: 'pack' | 'chunk'; lossMask: boolean; maxTokens: string; seed: string; tokenizer: string; output: string;
}): { request: In['datasets']['prepare'] } | { problems: Record<string, string> } {
  const problems: Record<string, string> = {};
  const whole = (v: string, path: string, min: number, what: string) => {
    const n = numberOf(v);
    if (n !== undefined && (!Number.isInteger(n) || n < min)) problems[path] = `${what}: a whole number of at least ${fmtInt(min)}`;
    return n;
  };
  if (!f.name.trim()) problems.name = 'name the prepared dataset';
  const common = { name: f.name.trim(), tokenizer: f.tokenizer, ...(f.output.trim() ? { output: f.output.trim() } : {}) };
  if (f.mode === 'recipe') {
    if (!f.recipe) problems.recipeId = 'pick a recipe';
    else if (!f.recipe.stages[f.stage - 1]?.data) problems.stage = 'this stage has no data recipe: prepare from sources instead, or add one to the recipe';
    return Object.keys(problems).length ? { problems } : { request: { ...common, recipeId: f.recipe!.id, stage: f.stage } };
  }
  const sources: Data['sources'] = f.rows.map((r, i) => {
    const at = `data.sources.${i}`;
    if (!r.dataset) problems[`${at}.dataset`] = 'pick a dataset';
    const ratio = numberOf(r.ratio);
    if (ratio !== undefined && !(ratio > 0 && ratio <= 1)) problems[`${at}.ratio`] = 'a share above 0 and at most 1';
    const keepShort = numberOf(r.keepShort);
    if (keepShort !== undefined && !(keepShort >= 0 && keepShort <= 1)) problems[`${at}.lengthUpsample.keepShort`] = 'a probability from 0 to 1';
    const threshold = whole(r.threshold, `${at}.lengthUpsample.thresholdTokens`, 1, 'tokens');
    return {
      dataset: r.dataset,
      ...(r.kind === 'auto' ? {} : { kind: r.kind }),
      ...(ratio === undefined ? {} : { ratio }),
      ...(keepShort === undefined ? {} : { lengthUpsample: { keepShort, ...(threshold === undefined ? {} : { thresholdTokens: threshold }) } }),
    };
  });
  const given = sources.filter((s) => s.ratio !== undefined);
  if (given.length > 0 && given.length < sources.length) problems['data.sources'] = 'give a share for every source or for none';
  else if (given.length > 0) {
    const sum = given.reduce((a, s) => a + (s.ratio ?? 0), 0);
    if (Math.abs(sum - 1) > 1e-6) problems['data.sources'] = `the shares add up to ${Number(sum.toFixed(6))}; they must add up to 1`;
  }
  const seqLength = whole(f.seqLength, 'seqLength', 16, 'tokens');
  if (seqLength === undefined) problems.seqLength = 'give the sequence length the trainer trains at';
  const maxTokens = whole(f.maxTokens, 'data.maxTokens', 1, 'tokens');
  const seed = whole(f.seed, 'data.seed', 0, 'seed');
  if (Object.keys(problems).length) return { problems };
  const easy = f.format === 'easycontext';
  return {
    request: {
      ...common,
      seqLength,
      data: { sources, format: f.format, packing: easy ? f.packing : 'pack', lossMask: easy && f.lossMask, seed: seed ?? 42, ...(maxTokens === undefined ? {} : { maxTokens }) },
    },
  };
}

/** The job the form started, followed until it ends; on success, the dataset it registered. */
function PrepareProgress({ jobId, name, created }: { jobId: string; name: string; created: boolean }) {
  const router = useRouter();
  const { job, error } = useLiveJob(jobId);
  const result = job?.status === 'succeeded' ? readPrepareResult(job.result) : null;
  const ended = job?.status === 'succeeded' || job?.status === 'failed' || job?.status === 'cancelled';
  const refreshed = useRef(false);
  useEffect(() => {
    // The list below gains the new dataset once the job has registered it.
    if (ended && !refreshed.current) {
      refreshed.current = true;
      router.refresh();
    }
  }, [ended, router]);
  const p = job?.progress;
  return (
    <section className="panel live" aria-labelledby={`prep-${jobId}`} data-testid="prepare-progress">
      <div className="panel-head">
        <h2 id={`prep-${jobId}`}>Preparing {name}</h2>
        <div className="page-actions">
          {job ? <StatusBadge status={job.status} /> : null}
          <Link href={`/jobs/${jobId}`}>job page</Link>
        </div>
      </div>
      {!created && <p className="panel-note">The same preparation was already asked for: this is its job.</p>}
      {(p?.total ?? 0) > 0 && <ProgressBar done={p?.done ?? 0} total={p?.total ?? 0} label="sources read" />}
      <div className="live-numbers" aria-live="polite">
        <PrepareNumbers progress={p ?? null} result={result} />
      </div>
      {result && (
        <div className="callout ok" role="status" data-testid="prepare-done">
          <p>
            Prepared <Link href={`/datasets/${result.datasetId}`}>{name}</Link>: {fmtInt(result.sequences)} sequences, {fmtInt(result.tokens)} tokens in {result.shards} shard{result.shards === 1 ? '' : 's'} at <code>{result.uri}</code>.
          </p>
        </div>
      )}
      {job?.error && <div className="callout error" role="alert"><p>{job.error}</p></div>}
      {error ? <p className="panel-note status-bad">Live updates paused: {errorMessage(error)}</p> : null}
    </section>
  );
}

/**
 * "Prepare training data": a recipe stage's data recipe, or sources picked here (registered
 * datasets with their shares and short-document up-sampling), tokenised, mixed and packed by a
 * dataset-prepare job into a registered training dataset. The job is followed live below the form.
 */
export function PrepareDatasetForm({ datasets, recipes, tokenizers }: { datasets: readonly SourceChoice[]; recipes: readonly RecipeChoice[]; tokenizers: readonly TokenizerChoice[] }) {
  const uid = useId();
  const nextKey = useRef(1);
  const [name, setName] = useState('');
  const [mode, setMode] = useState<'sources' | 'recipe'>('sources');
  const [recipeId, setRecipeId] = useState(recipes[0]?.id ?? '');
  const [stage, setStage] = useState(1);
  const [rows, setRows] = useState<SourceRow[]>([{ key: 0, dataset: datasets[0]?.name ?? '', kind: 'auto', ratio: '', keepShort: '', threshold: '' }]);
  const [seqLength, setSeqLength] = useState('');
  const [format, setFormat] = useState<Format>('easycontext');
  const [packing, setPacking] = useState<'pack' | 'chunk'>('pack');
  const [lossMask, setLossMask] = useState(false);
  const [maxTokens, setMaxTokens] = useState('');
  const [seed, setSeed] = useState('42');
  const [tokenizer, setTokenizer] = useState('llama3');
  const [output, setOutput] = useState('');
  const [started, setStarted] = useState<{ jobId: string; name: string; created: boolean } | null>(null);
  const { submitting, setSubmitting, submitError, errors, setErrors, reset, send } = useSubmit();
  const fe = fieldErrorUi(uid, errors);
  const recipe = recipes.find((r) => r.id === recipeId);
  const stageChoice = recipe?.stages[stage - 1];
  const easy = format === 'easycontext';

  const setRow = (key: number, patch: Partial<SourceRow>) => setRows((rs) => rs.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  const addRow = () => setRows((rs) => [...rs, { key: nextKey.current++, dataset: datasets.find((d) => !rs.some((r) => r.dataset === d.name))?.name ?? '', kind: 'auto', ratio: '', keepShort: '', threshold: '' }]);

  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    reset();
    const built = buildRequest({ name, mode, recipe, stage, rows, seqLength, format, packing, lossMask, maxTokens, seed, tokenizer, output });
    if ('problems' in built) {
      setErrors(built.problems);
      return;
    }
    await send(async () => {
      const r = await browserApi().datasets.prepare.mutate(built.request);
      setStarted({ jobId: r.job.id, name: built.request.name, created: r.created });
      setSubmitting(false);
    });
  };

  const number = (id: string, label: string, value: string, set: (v: string) => void, path: string, hint?: string, min = 1) => (
    <div className="field">
      <label htmlFor={`${uid}-${id}`}>{label}</label>
      <input id={`${uid}-${id}`} type="number" min={min} value={value} onChange={(e) => set(e.target.value)} {...fe.input(path)} />
      {hint ? <span className="hint">{hint}</span> : null}
      {fe.message(path)}
    </div>
  );

  const choice = (id: string, label: string, value: string, set: (v: string) => void, path: string, options: readonly (readonly [string, string])[]) => (
    <div className="field">
      <label htmlFor={`${uid}-${id}`}>{label}</label>
      <select id={`${uid}-${id}`} value={value} onChange={(e) => set(e.target.value)} {...fe.input(path)}>
        {options.map(([v, text]) => <option key={v} value={v}>{text}</option>)}
      </select>
      {fe.message(path)}
    </div>
  );

  return (
    <>
      <form onSubmit={submit} noValidate aria-label="Prepare training data">
        <div className="form-grid">
          <div className="field">
            <label htmlFor={`${uid}-name`}>Name</label>
            <input id={`${uid}-name`} type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder="books-mix-64k" {...fe.input('name')} />
            <span className="hint">The registered dataset&apos;s name.</span>
            {fe.message('name')}
          </div>
          <TokenizerField uid={uid} value={tokenizer} onChange={setTokenizer} choices={tokenizers} label="Tokenizer" errors={{ fe, path: 'tokenizer' }} />
          <div className="field">
            <label htmlFor={`${uid}-out`}>Output (optional)</label>
            <input id={`${uid}-out`} type="text" value={output} onChange={(e) => setOutput(e.target.value)} placeholder="file:///… or s3://…" {...fe.input('output')} />
            <span className="hint">Default: datasets/&lt;name&gt; in the artifact store.</span>
            {fe.message('output')}
          </div>
        </div>
        <fieldset>
          <legend>What to prepare</legend>
          <div className="radio-row">
            <label><input type="radio" name={`${uid}-mode`} checked={mode === 'sources'} onChange={() => setMode('sources')} /> from sources</label>
            <label><input type="radio" name={`${uid}-mode`} checked={mode === 'recipe'} onChange={() => setMode('recipe')} disabled={recipes.length === 0} /> for a recipe stage{recipes.length === 0 ? ' (no recipes yet)' : ''}</label>
          </div>
        </fieldset>
        {mode === 'recipe' ? (
          <fieldset>
            <legend>Recipe stage</legend>
            <div className="form-grid">
              <div className="field">
                <label htmlFor={`${uid}-recipe`}>Recipe</label>
                <select id={`${uid}-recipe`} value={recipeId} onChange={(e) => { setRecipeId(e.target.value); setStage(1); }} {...fe.input('recipeId')}>
                  {recipes.map((r) => <option key={r.id} value={r.id}>{r.name} v{r.version}</option>)}
                </select>
                {fe.message('recipeId')}
              </div>
              <div className="field">
                <label htmlFor={`${uid}-stage`}>Stage</label>
                <select id={`${uid}-stage`} value={stage} onChange={(e) => setStage(Number(e.target.value))} {...fe.input('stage')}>
                  {recipe?.stages.map((s, i) => <option key={i} value={i + 1}>{i + 1} · {s.name} ({fmtInt(s.seqLength)} tokens{s.data ? '' : ', no data recipe'})</option>)}
                </select>
                {fe.message('stage')}
              </div>
            </div>
            {stageChoice && (
              <p className="panel-note" data-testid="stage-data">
                Trains at {fmtInt(stageChoice.seqLength)} tokens.{' '}
                {stageChoice.data
                  ? <>Data recipe: {stageChoice.data.sources.map((s) => `${s.dataset}${s.ratio === null ? '' : ` ${fmtShare(s.ratio)}`}`).join(', ')}; {stageChoice.data.format}{stageChoice.data.format === 'easycontext' ? `, ${stageChoice.data.packing}` : ''}{stageChoice.data.maxTokens === null ? '' : `, at most ${fmtInt(stageChoice.data.maxTokens)} tokens`}.</>
                  : 'This stage has no data recipe: add one to the recipe, or prepare from sources at this length.'}
              </p>
            )}
          </fieldset>
        ) : (
          <>
            <fieldset {...fe.input('data.sources')}>
              <legend>Sources</legend>
              <p className="panel-note" style={{ marginTop: 0 }}>Registered datasets, each with an optional share of the output tokens (give one for every source or for none) and Fu et al.&apos;s up-sampling of long documents: documents shorter than the threshold are kept with the probability given.</p>
              {fe.message('data.sources')}
              {fe.message('data')}
              {rows.map((r, i) => {
                const at = `data.sources.${i}`;
                const id = (f: string) => `${uid}-s${r.key}-${f}`;
                return (
                  <fieldset key={r.key} className="source-row">
                    <legend>Source {i + 1}</legend>
                    <div className="field">
                      <label htmlFor={id('ds')}>Dataset</label>
                      <select id={id('ds')} value={r.dataset} onChange={(e) => setRow(r.key, { dataset: e.target.value })} {...fe.input(`${at}.dataset`)}>
                        {r.dataset === '' && <option value="">choose…</option>}
                        {datasets.map((d) => <option key={d.id} value={d.name}>{d.name} ({d.kind})</option>)}
                      </select>
                      {fe.message(`${at}.dataset`)}
                    </div>
                    {choice(`s${r.key}-kind`, 'Read as', r.kind, (v) => setRow(r.key, { kind: v as SourceRow['kind'] }), `${at}.kind`, KINDS)}
                    <div className="field">
                      <label htmlFor={id('ratio')}>Share (0–1)</label>
                      <input id={id('ratio')} type="number" min={0} max={1} step="any" value={r.ratio} onChange={(e) => setRow(r.key, { ratio: e.target.value })} placeholder="as it comes" {...fe.input(`${at}.ratio`)} />
                      {fe.message(`${at}.ratio`)}
                    </div>
                    <div className="field">
                      <label htmlFor={id('keep')}>Keep short docs (0–1)</label>
                      <input id={id('keep')} type="number" min={0} max={1} step="any" value={r.keepShort} onChange={(e) => setRow(r.key, { keepShort: e.target.value })} placeholder="all" {...fe.input(`${at}.lengthUpsample.keepShort`)} />
                      {fe.message(`${at}.lengthUpsample.keepShort`)}
                    </div>
                    <div className="field">
                      <label htmlFor={id('thr')}>Short means under (tokens)</label>
                      <input id={id('thr')} type="number" min={1} value={r.threshold} onChange={(e) => setRow(r.key, { threshold: e.target.value })} placeholder="4096" disabled={r.keepShort.trim() === ''} {...fe.input(`${at}.lengthUpsample.thresholdTokens`)} />
                      {fe.message(`${at}.lengthUpsample.thresholdTokens`)}
                    </div>
                    <div className="field source-remove">
                      <button type="button" className="btn small secondary" onClick={() => setRows((rs) => rs.filter((x) => x.key !== r.key))} disabled={rows.length === 1} aria-label={`Remove source ${i + 1}`}>Remove</button>
                    </div>
                  </fieldset>
                );
              })}
              <div className="form-actions" style={{ marginBottom: 12 }}>
                <button type="button" className="btn small secondary" onClick={addRow} disabled={rows.length >= 32 || datasets.length === 0}>Add a source</button>
                {datasets.length === 0 && <span className="muted">Import a corpus or register a dataset first.</span>}
              </div>
            </fieldset>
            <div className="form-grid">
              {number('seq', 'Sequence length (tokens)', seqLength, setSeqLength, 'seqLength', 'What the stage trains at.', 16)}
              {choice('fmt', 'Format', format, (v) => setFormat(v as Format), 'data.format', FORMATS)}
              {easy && choice('pack', 'Packing', packing, (v) => setPacking(v as 'pack' | 'chunk'), 'data.packing', PACKINGS)}
              {number('max', 'Max tokens (optional)', maxTokens, setMaxTokens, 'data.maxTokens', 'Stop once this many were taken; sources with shares are read again until then.')}
              {number('seed', 'Seed', seed, setSeed, 'data.seed', undefined, 0)}
              {easy && (
                <div className="field">
                  <span className="label">Loss mask</span>
                  <label className="check"><input type="checkbox" checked={lossMask} onChange={(e) => setLossMask(e.target.checked)} /> mask all but assistant tokens of chats</label>
                  {fe.message('data.lossMask')}
                </div>
              )}
            </div>
          </>
        )}
        <ErrorCallout message={submitError} />
        <div className="form-actions">
          <button type="submit" className="btn" disabled={submitting}>{submitting ? <><span className="spinner" aria-hidden="true" /> queueing…</> : 'Prepare'}</button>
        </div>
      </form>
      {started && <PrepareProgress key={started.jobId} {...started} />}
    </>
  );
}
